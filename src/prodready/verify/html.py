"""The scorecard as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched
(a Content-Security-Policy says so to the browser too), everything the app wrote escaped.

An item's `series` are charted with load's line charts. Their x is seconds; the unit of y is the
last `_` part of a series' name (`plan light p99_ms` is in ms), and series in the same unit share
a chart, so a comparison (plan against dev server) reads on one set of axes.
"""

from __future__ import annotations

import math
from importlib import resources
from itertools import cycle
from pathlib import Path

import jinja2

from prodready import __version__
from prodready.load.report import write_text
from prodready.load.svg import Series, line_chart
from prodready.verify.model import ItemResult, Scorecard, Status

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
"""Also the most lines one chart holds: the legend has room for five names."""


def _unit(name: str) -> str:
    return name.rpartition("_")[2] if "_" in name else name


def _legend(name: str) -> str:
    return name.rpartition("_")[0] if "_" in name else name


def charts(item: ItemResult) -> list[str]:
    """SVG line charts of the item's series: one per unit, at most len(PALETTE) lines each."""
    by_unit: dict[str, list[tuple[str, list[tuple[float, float]]]]] = {}
    for name, points in item.series.items():
        finite = [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]
        by_unit.setdefault(_unit(name), []).append((name, finite))
    drawn = []
    for unit, named in by_unit.items():
        for start in range(0, len(named), len(PALETTE)):
            lines = [
                Series(_legend(name), color, points)
                for (name, points), color in zip(
                    named[start : start + len(PALETTE)], cycle(PALETTE)
                )
            ]
            drawn.append(line_chart(lines, "seconds", unit))
    return drawn


def _verdict(card: Scorecard) -> Status:
    """The page's headline: the worst status among the items (skipped ones aside)."""
    for status in (Status.FAIL, Status.WARN, Status.PASS):
        if card.count(status):
            return status
    return Status.SKIPPED


def render_html(card: Scorecard) -> str:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template_text = (
        resources.files("prodready.verify").joinpath("templates/report.html.j2").read_text("utf-8")
    )
    return environment.from_string(template_text).render(
        card=card,
        version=__version__,
        verdict=_verdict(card).value,
        charts={item.id: charts(item) for item in card.items},
    )


def write_html(card: Scorecard, path: Path) -> None:
    write_text(str(path), render_html(card))
