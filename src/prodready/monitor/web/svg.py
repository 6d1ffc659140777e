"""Inline SVG, server-rendered: the p50/p95 latency chart and the status badge."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD = 480, 110, 28


def latency_svg(chart: list[tuple[float, float, float]], now: float) -> str:
    """p50 (solid) and p95 (dashed) over the last 24 h; an empty frame before any data."""
    top = max((p95 for _, _, p95 in chart), default=0.0) or 1.0
    since = now - 86_400

    def point(at: float, ms: float) -> str:
        x = PAD + (at - since) / 86_400 * (WIDTH - 2 * PAD)
        y = HEIGHT - 18 - ms / top * (HEIGHT - 30)
        return f"{x:.1f},{y:.1f}"

    p50 = " ".join(point(at, ms) for at, ms, _ in chart)
    p95 = " ".join(point(at, ms) for at, _, ms in chart)
    dots = "".join(  # a lone point draws no line: each p50 point is a dot too
        f'<circle cx="{xy.split(",")[0]}" cy="{xy.split(",")[1]}" r="2" class="dot"/>'
        for xy in p50.split()
    )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="latency p50 and p95 over 24 hours">'
        f'<line x1="{PAD}" y1="{HEIGHT - 18}" x2="{WIDTH - PAD}" y2="{HEIGHT - 18}" class="axis"/>'
        f'<text x="{PAD}" y="{HEIGHT - 4}" class="xtick">-24h</text>'
        f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT - 4}" class="xtick" text-anchor="middle">-12h</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" class="xtick" text-anchor="end">now</text>'
        f'<text x="2" y="12" class="ytick">{top:.0f} ms</text>'
        f'<polyline points="{p95}" class="p95"/><polyline points="{p50}" class="p50"/>{dots}'
        "</svg>"
    )


def badge_svg(label: str, value: str, up: bool | None) -> str:
    """A flat two-part badge, sized by an estimate of the text's width (6.5 px a character)."""
    color = "#4c1" if up else "#9f9f9f" if up is None else "#e05d44"
    left, right = 10 + round(6.5 * len(label)), 10 + round(6.5 * len(value))
    total = left + right
    label, value = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label}: {value}"><title>{label}: {value}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:.1f}" y="14" text-anchor="middle">{label}</text>'
        f'<text x="{left + right / 2:.1f}" y="14" text-anchor="middle">{value}</text></g></svg>'
    )
