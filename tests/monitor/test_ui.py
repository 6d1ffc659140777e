"""The dashboard, the public status page and the badges of a real running monitor, opened in
headless Chromium (Debian's, driven by Playwright) with JavaScript turned off."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from prodready.monitor.store import Store
from tests.browser import CHROMIUM_ARGS, chromium
from tests.conftest import PRODREADY
from tests.monitor.conftest import Target, closed_port

CHART_LAYOUT = """
() => Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const outside = Array.from(svg.querySelectorAll('text')).filter(t => {
    const r = t.getBoundingClientRect();
    return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1;
  }).map(t => t.textContent);
  return {width: box.width, outside, lines: svg.querySelectorAll('polyline').length};
})
"""


def seed(path: Path, now: float) -> None:
    """Two days of history for `good`: watched since then, one 864 s incident 3 h ago."""
    store = Store(path)
    store.record([(now - 2 * 86_400, "good", True, 0.02, ""), (now - 3600, "good", True, 0.03, "")])
    store.open_incident("good", now - 3 * 3600, "HTTP 502")
    store.resolve_incident("good", now - 3 * 3600 + 864)
    store.open_incident("good error budget", now - 2 * 3600, "ticket: error ratio 1.00% over 6h")
    store.resolve_incident("good error budget", now - 3600)
    store.close()


def test_dashboard_status_page_and_badges_without_javascript(
    tmp_path: Path, target: Target
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    now = time.time()
    seed(tmp_path / "m.db", now)
    target.set("down", "bad")
    config = tmp_path / "monitor.toml"
    config.write_text(
        '[monitor]\ninterval = "500ms"\nrecheck_delay = "100ms"\nstore = "m.db"\n'
        f'[alerting]\ngroup_wait = "100ms"\nretries = 1\nwebhooks = ["http://127.0.0.1:{closed_port()}/hook"]\n'
        f'[[endpoints]]\nname = "good"\nurl = "{target.url("good")}"\n'
        f'[[endpoints]]\nname = "bad"\nurl = "{target.url("bad")}"\n'
    )
    process = subprocess.Popen(
        [str(PRODREADY), "monitor", str(config), "--ui", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        process.stderr.readline()
        base = process.stderr.readline().split()[-1]
        assert base.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "notification failed" not in (
            urllib.request.urlopen(base, timeout=5).read().decode()
        ):
            time.sleep(0.2)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(java_script_enabled=False)
                tab = context.new_page()
                tab.goto(base)
                assert tab.locator(".summary").inner_text() == "1 of 2 down: bad"
                good = tab.locator("section#good")
                assert good.locator(".state").inner_text().lower() == "up"
                uptime = good.locator("tr", has_text="uptime").inner_text()
                day = float(re.search(r"24h: ([\d.]+) %", uptime)[1])  # type: ignore[index]
                assert 98.9 < day <= 99.0  # 864 s of 86,400
                assert "30d: 99.5" in uptime  # 864 s of the two days watched
                burn, incident = (
                    good.locator("table.incidents tr").nth(n).inner_text() for n in (1, 2)
                )
                assert burn.startswith("error budget") and "ticket: error ratio 1.00%" in burn
                assert (
                    incident.startswith("down") and "14m 24s" in incident and "HTTP 502" in incident
                )
                bad = tab.locator("section#bad")
                assert bad.locator(".state").inner_text().lower() == "down"
                assert "HTTP 503" in bad.inner_text() and "ongoing" in bad.inner_text()
                assert "notification failed" in tab.locator("li.failed").first.inner_text()
                charts = tab.evaluate(CHART_LAYOUT)
                assert [c["lines"] for c in charts] == [2, 2]
                assert all(c["outside"] == [] and c["width"] > 300 for c in charts)
                tab.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

                tab.goto(f"{base}status")
                assert tab.title() == "Status"
                assert tab.locator("svg.chart").count() == 0
                assert (
                    "HTTP 503" not in tab.content() and "notification failed" not in tab.content()
                )
                assert tab.locator("section#bad .state").inner_text().lower() == "down"
            finally:
                browser.close()
        badge = urllib.request.urlopen(f"{base}badge/bad.svg", timeout=5)
        assert badge.headers["Content-Type"].startswith("image/svg+xml")
        svg = badge.read().decode()
        assert 'aria-label="bad: down"' in svg and "#e05d44" in svg
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}badge/nope.svg", timeout=5)
        assert missing.value.code == 404
    finally:
        process.terminate()
        process.communicate(timeout=15)
