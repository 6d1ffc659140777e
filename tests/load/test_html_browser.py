"""The HTML report as people see it: a real report from a real run, opened in headless Chromium
(Debian's, driven by Playwright), with the layout checked where a reader would notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready import __version__
from tests.browser import CHROMIUM_ARGS, chromium
from tests.load.conftest import run_cli

pytestmark = pytest.mark.slow

# For every chart: each text inside the SVG's box, and the x-axis labels not overlapping.
LAYOUT = """
() => Array.from(document.querySelectorAll('svg')).map(svg => {
  const box = svg.getBoundingClientRect();
  const inside = t => { const r = t.getBoundingClientRect();
    return r.width > 0 && r.left >= box.left - 1 && r.right <= box.right + 1
      && r.top >= box.top - 1 && r.bottom <= box.bottom + 1; };
  const ticks = Array.from(svg.querySelectorAll('text.xtick'))
    .map(t => ({text: t.textContent, rect: t.getBoundingClientRect()}))
    .sort((a, b) => a.rect.left - b.rect.left);
  const overlaps = ticks.slice(1).filter((t, i) => t.rect.left < ticks[i].rect.right);
  return {
    width: box.width, height: box.height,
    outside: Array.from(svg.querySelectorAll('text')).filter(t => !inside(t))
      .map(t => t.textContent),
    xticks: ticks.map(t => t.text), overlapping: overlaps.map(t => t.text),
  };
})
"""


def test_the_report_renders_with_its_date_version_and_every_axis_label(
    target, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    page_file = tmp_path / "report.html"
    # Few responses: the percentile curve ends before 99.99 %, where the label used to vanish.
    done = run_cli(
        target() + "/", "-n", "300", "-c", "2", "-w", "1", "-q", "--html", str(page_file)
    )
    assert done.returncode == 0, done.stderr

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 800})
            page.goto(page_file.as_uri())
            header = page.locator("p.sub").all_inner_texts()
            charts = page.evaluate(LAYOUT)
            overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()

    assert any(f"prodready {__version__}" in line and " UTC" in line for line in header), header
    assert len(charts) == 4 and all(c["width"] > 300 and c["height"] > 100 for c in charts)
    assert all(not c["outside"] and not c["overlapping"] for c in charts), charts
    percentiles = charts[1]["xticks"]
    assert percentiles[:5] == ["0%", "90%", "99%", "99.9%", "99.99%"] and percentiles[-1] == "max"
    assert not overflow
    assert (tmp_path / "report.png").stat().st_size > 10_000
