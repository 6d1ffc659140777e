"""Small inline SVG line charts for the HTML report: no JavaScript, no network, no library."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH = 720
HEIGHT = 260
LEFT = 64
RIGHT = 16
TOP = 28
BOTTOM = 40


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    points: list[tuple[float, float]]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [math.floor(low / step) * step]
    while ticks[-1] < high - step * 0.001:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _label(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


def line_chart(
    series: list[Series],
    x_title: str,
    y_title: str,
    x_labels: list[tuple[float, str]] | None = None,
) -> str:
    """An SVG chart of one or more lines. `x_labels` replaces numeric x ticks when given."""
    points = [point for line in series for point in line.points]
    if not points:
        return '<p class="empty">no data</p>'
    x_min = min(x for x, _ in points)
    x_max = max(x for x, _ in points)
    if x_max == x_min:
        x_max = x_min + 1.0
    # Some headroom, so a flat line at the maximum does not run along the frame.
    y_ticks = nice_ticks(0.0, (max(y for _, y in points) or 1.0) * 1.08)
    y_max = y_ticks[-1]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return LEFT + (x - x_min) / (x_max - x_min) * plot_w

    def sy(y: float) -> float:
        return TOP + plot_h - (y / y_max) * plot_h

    out = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(y_title)} by {escape(x_title)}">'
    ]
    for tick in y_ticks:
        y = sy(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="ytick">{_label(tick)}</text>')
    x_ticks = x_labels or [(t, _label(t)) for t in nice_ticks(x_min, x_max) if t <= x_max]
    for value, text in x_ticks:
        if x_min <= value <= x_max:
            out.append(
                f'<text x="{sx(value):.1f}" y="{HEIGHT - BOTTOM + 16}" class="xtick">'
                f"{escape(text)}</text>"
            )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" class="axis">{escape(x_title)}</text>'
        f'<text x="14" y="{TOP + plot_h / 2}" class="axis" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(y_title)}</text>'
    )
    for index, line in enumerate(series):
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in line.points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{line.color}" stroke-width="2"/>'
        )
        out.append(
            f'<text x="{LEFT + index * 110}" y="{TOP - 12}" style="fill:{line.color}" '
            f'class="legend">{escape(line.name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
