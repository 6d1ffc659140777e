"""The HTML report: one self-contained page (inline CSS and SVG, nothing fetched)."""

from __future__ import annotations

import math
from importlib import resources

import jinja2

from prodready.load.histogram import REPORTED_PERCENTILES
from prodready.load.report import report_dict, write_text
from prodready.load.result import LoadResult
from prodready.load.slo import Verdict
from prodready.load.svg import Series, line_chart

# Percentile axis: distance from 100 % on a log scale, as HdrHistogram plots do.
_PERCENTILE_TICKS = (0.0, 90.0, 99.0, 99.9, 99.99, 99.999, 99.9999)
_LAST_REPORTED_PERCENTILE = REPORTED_PERCENTILES[-1]


def _percentile_x(percentile: float) -> float:
    return math.log10(100.0 / (100.0 - percentile))


def render_html(result: LoadResult, verdicts: list[Verdict]) -> str:
    report = report_dict(result, verdicts)
    # The last interval is often a sliver (responses still in flight at the end): plotting
    # its rate would draw a cliff that did not happen.
    interval_s = max((interval.duration_s for interval in result.timeline), default=0.0)
    timeline = [
        point
        for point, interval in zip(report["timeline"], result.timeline, strict=True)
        if interval.duration_s >= 0.25 * interval_s
    ]
    curve = [(p["percentile"], p["latency_ms"]) for p in report["percentiles"]]
    finite = [(_percentile_x(p), ms) for p, ms in curve if p < 100.0]
    percentile_labels = []
    if curve and finite:
        # 100 % (the maximum) sits half a decade right of the last finite point, and never
        # left of 99.99 %: the table reports p99.99, so the chart's axis always shows it.
        max_x = max(finite[-1][0], _percentile_x(_LAST_REPORTED_PERCENTILE)) + 0.5
        finite.append((max_x, curve[-1][1]))
        percentile_labels = [
            (_percentile_x(p), f"{p:g}%") for p in _PERCENTILE_TICKS if _percentile_x(p) < max_x
        ] + [(max_x, "max")]
    config = report["config"]
    model = (
        f"open model at {config['rate']:g} req/s"
        if config["model"] == "open"
        else f"closed model with {config['connections']} connections"
    )
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template_text = (
        resources.files("prodready.load").joinpath("templates/report.html.j2").read_text("utf-8")
    )
    return environment.from_string(template_text).render(
        config=config,
        version=report["version"],
        started_at=report["started_at"],
        model=model,
        summary=report["summary"],
        slo=report["slo"],
        generator=report["generator"],
        latency=report["latency_ms"],
        errors_by_kind=report["errors_by_kind"],
        by_request=report["by_request"],
        status_codes=report["status_codes"],
        latency_chart=line_chart(
            [
                Series(name, color, [(i["t_s"], i[key]) for i in timeline])
                for name, color, key in (
                    ("p50", "#1f77b4", "p50_ms"),
                    ("p90", "#ff7f0e", "p90_ms"),
                    ("p99", "#d62728", "p99_ms"),
                )
            ],
            "seconds",
            "latency (ms)",
        ),
        percentile_chart=line_chart(
            [Series("latency", "#6a3d9a", finite)], "percentile", "latency (ms)", percentile_labels
        ),
        rps_chart=line_chart(
            [Series("responses/s", "#2ca02c", [(i["t_s"], i["rps"]) for i in timeline])],
            "seconds",
            "responses per second",
        ),
        errors_chart=line_chart(
            [Series("errors", "#d62728", [(i["t_s"], i["errors"]) for i in timeline])],
            "seconds",
            "errors per interval",
        ),
    )


def write_html(destination: str, result: LoadResult, verdicts: list[Verdict]) -> None:
    write_text(destination, render_html(result, verdicts))
