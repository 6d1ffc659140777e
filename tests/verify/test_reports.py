"""The scorecard's files for machines and people: JUnit XML as CI servers read it, and the HTML
page as a reader sees it in headless Chromium (the approach and helpers of the load report's
browser test), from scorecards built here and from a real run on examples/riskapi."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from prodready.errors import InputError
from prodready.verify.html import PALETTE, write_html
from prodready.verify.junit import write_junit
from prodready.verify.model import ItemResult, Scorecard, Status
from tests.browser import CHROMIUM_ARGS, chromium
from tests.load.test_html_browser import LAYOUT
from tests.verify.conftest import run_verify
from tests.verify.variants import example_copy

HOSTILE = (
    '<script>window.pwned = 1</script><img src="http://127.0.0.1:9/x" onerror="window.pwned = 2">'
)
LOG = "worker booted\n\x1b[31mERROR\x1b[0m </pre><script>window.pwned = 3</script>\x00 end\n"


def _ramp(scale: float) -> list[tuple[float, float]]:
    return [(t * 0.5, scale * (1 + t % 3)) for t in range(12)]


def scorecard() -> Scorecard:
    """Every status; series in two units (two charts) on one item, none on the others; text an
    app could have written, with markup and control characters in it."""
    items = [
        ItemResult.failed(
            "check",
            "check",
            "7 errors, 2 warnings",
            measures={"errors": 7, "warnings": 2},
            details=["PR901 app.py:3 debug server", HOSTILE],
            log=LOG,
        ),
        ItemResult.passed(
            "compare",
            "serve plan vs dev server",
            "light 3.1x rps (p99 0.4x)",
            measures={"plan_rps": 812.5, "dev_rps": 262.0, "<i>odd</i>_ms": 1, "ok": True},
            series={
                "plan light p99_ms": _ramp(4.0),
                "dev light p99_ms": _ramp(11.0),
                "<b>io</b> p99_ms": _ramp(2.0),
                "plan errors": [(0.0, 0.0), (5.5, 0.0)],
            },
        ),
        ItemResult.warned(
            "logs", "logs", "request ids but plain-text lines", details=["line 1 is not JSON"]
        ),
        ItemResult.skipped("tls", "security headers and TLS", "no nginx front: nginx not found"),
        ItemResult.passed("health", "health", "/health/live 200, /health/ready 200"),
    ]
    for number, item in enumerate(items):
        item.seconds = 0.25 + number
    return Scorecard(
        app="app:app", root="/srv/riskapi", boot=["gunicorn on 127.0.0.1:8000", HOSTILE],
        items=items, seconds=12.34, started_at="2026-12-06T07:00:00+00:00",
    )  # fmt: skip


def _junit(card: Scorecard, tmp_path: Path) -> ET.Element:
    path = tmp_path / "verify.xml"
    write_junit(card, path)
    return ET.parse(path).getroot()


def _properties(element: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in element.findall("properties/property")}


def test_junit_has_one_suite_of_one_testcase_per_item_with_the_counts_ci_reads(
    tmp_path: Path,
) -> None:
    card = scorecard()
    root = _junit(card, tmp_path)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "prodready verify"
    for element in (root, suite):
        assert element.get("tests") == "5" and element.get("failures") == "1"
        assert element.get("skipped") == "1" and element.get("errors") == "0"
        assert float(element.get("time", "")) == pytest.approx(12.34)
    assert suite.get("timestamp") == "2026-12-06T07:00:00"
    assert _properties(suite)["app"] == "app:app"
    assert suite.findtext("system-out", "").splitlines() == card.boot
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [item.title for item in card.items]
    for case, item in zip(cases, card.items, strict=True):
        assert case.get("classname") == "prodready.verify"
        assert float(case.get("time", "")) == pytest.approx(item.seconds, abs=0.001)
        # The order the common JUnit schemas give a testcase's children.
        order = [child.tag for child in case]
        assert order == sorted(order, key=["properties", "skipped", "failure", "system-out"].index)
        assert _properties(case)["status"] == item.status.value


def test_junit_failure_skipped_and_warning_carry_their_evidence(tmp_path: Path) -> None:
    cases = {c.get("name"): c for c in _junit(scorecard(), tmp_path).iter("testcase")}

    failure = cases["check"].find("failure")
    assert failure is not None and failure.get("message") == "7 errors, 2 warnings"
    text = failure.text or ""
    assert "PR901 app.py:3 debug server" in text and HOSTILE in text
    # The log's escape and NUL are shown, not written raw (XML 1.0 cannot hold them).
    assert "\\x1b[31mERROR" in text and "\\x00 end" in text
    assert _properties(cases["check"]) == {
        "id": "check", "status": "fail", "errors": "7", "warnings": "2"
    }  # fmt: skip

    skipped = cases["security headers and TLS"].find("skipped")
    assert skipped is not None and skipped.get("message") == "no nginx front: nginx not found"
    assert cases["security headers and TLS"].find("failure") is None

    warned = cases["logs"]
    assert warned.find("failure") is None and warned.find("skipped") is None
    assert _properties(warned)["status"] == "warn"
    assert warned.findtext("system-out") == "request ids but plain-text lines\nline 1 is not JSON"

    passed = cases["serve plan vs dev server"]
    assert passed.find("failure") is None and passed.find("skipped") is None
    assert _properties(passed) == {
        "id": "compare", "status": "pass", "plan_rps": "812.5", "dev_rps": "262.0",
        "<i>odd</i>_ms": "1", "ok": "true",
    }  # fmt: skip


class _Tags(HTMLParser):
    """Every start tag with its attributes, and for each item section its charts' line counts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.lines_by_item: dict[str, list[int]] = {}
        self._item = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "section":
            self._item = (attributes.get("id") or "").removeprefix("item-")
            self.lines_by_item[self._item] = []
        elif tag == "svg":
            self.lines_by_item[self._item].append(0)
        elif tag == "polyline":
            self.lines_by_item[self._item][-1] += 1


def test_html_is_self_contained_escaped_and_charts_each_unit_once(tmp_path: Path) -> None:
    page = tmp_path / "verify.html"
    write_html(scorecard(), page)
    text = page.read_text("utf-8")
    parsed = _Tags()
    parsed.feed(text)

    names = {tag for tag, _ in parsed.tags}
    assert names.isdisjoint({"script", "img", "link", "iframe", "object", "embed"}), names
    links = [attrs.get("href") or "" for tag, attrs in parsed.tags if tag == "a"]
    assert links and all(link.startswith("#item-") for link in links)
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in text
    assert "&lt;i&gt;odd&lt;/i&gt;_ms" in text
    # compare: the three p99 series on one ms chart, errors on their own; no series, no chart.
    assert parsed.lines_by_item == {
        "check": [], "compare": [3, 1], "logs": [], "tls": [], "health": []
    }  # fmt: skip


def test_html_splits_a_unit_with_more_lines_than_a_legend_holds(tmp_path: Path) -> None:
    many = {f"route{n} p99_ms": _ramp(n + 1.0) for n in range(len(PALETTE) + 2)}
    card = scorecard()
    card.items = [ItemResult.passed("compare", "serve plan vs dev server", "ok", series=many)]
    page = tmp_path / "verify.html"
    write_html(card, page)
    parsed = _Tags()
    parsed.feed(page.read_text("utf-8"))
    assert parsed.lines_by_item == {"compare": [len(PALETTE), 2]}


def test_a_report_path_that_cannot_be_written_is_a_user_error(tmp_path: Path) -> None:
    for writer in (write_junit, write_html):
        with pytest.raises(InputError, match="cannot write"):
            writer(scorecard(), tmp_path / "missing" / "report")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# Per item section: its charts' size and line count, and whether its first detail line shows.
SECTIONS = """
() => Array.from(document.querySelectorAll('section.item')).map(section => ({
  id: section.id.replace('item-', ''),
  charts: Array.from(section.querySelectorAll('svg')).map(svg => {
    const box = svg.getBoundingClientRect();
    return {width: box.width, height: box.height, lines: svg.querySelectorAll('polyline').length};
  }),
  detailsShown: Array.from(section.querySelectorAll('ul.details li'))
    .some(li => li.getBoundingClientRect().height > 0),
}))
"""


def _review(browser: Any, page_file: Path) -> dict[str, Any]:
    """Opens the page as a reader would; returns what the checks below look at."""
    page = browser.new_page(viewport={"width": 960, "height": 900})
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(page_file.as_uri())
        seen = {
            "requests": requests,
            "problems": problems,
            "sections": page.evaluate(SECTIONS),
            "layout": page.evaluate(LAYOUT),
            "pwned": page.evaluate("window.pwned === undefined ? null : window.pwned"),
            "scripts": page.evaluate("document.scripts.length"),
            "headline": page.locator("#summary").inner_text(),
            "rows": page.locator("#items tr").all_inner_texts(),
            "text": page.locator("body").inner_text(),
            "overflow": page.evaluate("document.documentElement.scrollWidth > window.innerWidth"),
        }
        page.screenshot(path=str(page_file.with_suffix(".png")), full_page=True)
    finally:
        page.close()
    return seen


@pytest.mark.slow
def test_the_html_report_renders_in_chromium_with_its_charts_and_the_hostile_text_as_text(
    browser: Any, tmp_path: Path
) -> None:
    page_file = tmp_path / "verify.html"
    write_html(scorecard(), page_file)
    seen = _review(browser, page_file)

    assert seen["requests"] == [page_file.as_uri()], seen["requests"]
    assert seen["problems"] == []
    assert seen["pwned"] is None and seen["scripts"] == 0
    assert HOSTILE in seen["text"] and "</pre><script>window.pwned = 3</script>" in seen["text"]
    assert "<b>io</b> p99" in seen["text"]
    sections = {s["id"]: s for s in seen["sections"]}
    compare = sections["compare"]["charts"]
    assert [c["lines"] for c in compare] == [3, 1]
    assert all(c["width"] > 300 and c["height"] > 100 for c in compare), compare
    assert all(not c["outside"] and not c["overlapping"] for c in seen["layout"]), seen["layout"]
    # The failed item: in the table with its verdict, its evidence open below.
    failed_row = next(row for row in seen["rows"] if row.startswith("check"))
    assert "fail" in failed_row and "7 errors, 2 warnings" in failed_row
    assert sections["check"]["detailsShown"] and sections["logs"]["detailsShown"]
    assert seen["headline"] == "fail 5 items: 2 pass, 1 fail, 1 warn, 1 skipped in 12.3 s"
    assert not seen["overflow"]


@pytest.mark.slow
def test_riskapi_check_run_writes_both_reports_with_its_failure(
    browser: Any, tmp_path: Path, pg_server: str
) -> None:
    app = example_copy("riskapi", tmp_path)
    junit, page_file = tmp_path / "verify.xml", tmp_path / "verify.html"
    result = run_verify(
        app, "--only", "check", "--junit", str(junit), "--html", str(page_file),
        "--database-url", pg_server,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr

    (case,) = ET.parse(junit).getroot().iter("testcase")
    assert case.get("name") == "check" and case.get("classname") == "prodready.verify"
    failure = case.find("failure")
    assert failure is not None and "PR901" in (failure.text or "")
    assert int(_properties(case)["errors"]) >= 5

    seen = _review(browser, page_file)
    assert seen["requests"] == [page_file.as_uri()] and seen["problems"] == []
    (row,) = seen["rows"][1:]
    assert row.startswith("check") and "fail" in row
    (section,) = seen["sections"]
    assert section["id"] == "check" and section["detailsShown"] and section["charts"] == []
    assert "PR901" in seen["text"] and "scratch database" in seen["text"]


@pytest.mark.parametrize(
    ("statuses", "headline"),
    [
        ((Status.PASS, Status.WARN, Status.SKIPPED), "warn"),
        ((Status.PASS, Status.SKIPPED), "pass"),
        ((Status.SKIPPED,), "skipped"),
    ],
)
def test_the_html_headline_is_the_worst_verdict(
    tmp_path: Path, statuses: tuple[Status, ...], headline: str
) -> None:
    card = scorecard()
    card.items = [ItemResult(f"i{n}", f"item {n}", s, "x") for n, s in enumerate(statuses)]
    page = tmp_path / "verify.html"
    write_html(card, page)
    assert f'<p class="verdict {headline}" id="summary">' in page.read_text("utf-8")
