"""Latency recording in HDR histograms (the `hdrhistogram` package).

Values are microseconds from 1 us to one hour at 3 significant digits: memory stays bounded
(tens of kilobytes) however long the run, and histograms from several worker processes merge
without loss through their standard compressed encoding.

Recording one value with `HdrHistogram.record_value` costs about a microsecond of Python,
a large share of a request's budget. `LatencyRecorder` instead appends to a list on the hot
path and folds the list into the histogram once per report interval, value by distinct value
(`collections.Counter` counts in C), which keeps the exact same histogram at a fraction of
the cost.
"""

from __future__ import annotations

from collections import Counter

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3
REPORTED_PERCENTILES = (50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def decode(encoded: bytes | str) -> HdrHistogram:
    return HdrHistogram.decode(encoded)


class LatencyRecorder:
    """Collects latencies (us) cheaply and hands them over as one histogram per interval."""

    def __init__(self) -> None:
        self.pending: list[int] = []
        # Bound method kept for the hot path: one attribute lookup fewer per request.
        self.record = self.pending.append

    def take_interval(self) -> HdrHistogram:
        """The histogram of everything recorded since the last call."""
        histogram = new_histogram()
        pending = self.pending
        if pending:
            for value, count in Counter(pending).items():
                histogram.record_value(min(max(value, LOWEST_US), HIGHEST_US), count)
            pending.clear()
        return histogram


def percentile_ms(histogram: HdrHistogram, percentile: float) -> float:
    """The latency at `percentile` in milliseconds (0.0 for an empty histogram)."""
    if histogram.get_total_count() == 0:
        return 0.0
    return histogram.get_value_at_percentile(percentile) / 1000.0


def latency_summary_ms(histogram: HdrHistogram) -> dict[str, float]:
    """min, mean, the reported percentiles and max, in milliseconds."""
    if histogram.get_total_count() == 0:
        return {}
    summary = {
        "min": histogram.get_min_value() / 1000.0,
        "mean": round(histogram.get_mean_value() / 1000.0, 3),
    }
    for percentile in REPORTED_PERCENTILES:
        summary[percentile_label(percentile)] = percentile_ms(histogram, percentile)
    summary["max"] = histogram.get_max_value() / 1000.0
    return summary


def percentile_label(percentile: float) -> str:
    """50.0 -> 'p50', 99.9 -> 'p99.9'."""
    return f"p{percentile:g}"


def percentile_curve_ms(histogram: HdrHistogram) -> list[tuple[float, float]]:
    """(percentile, latency ms) points of the whole distribution, for the HTML report."""
    if histogram.get_total_count() == 0:
        return []
    points = [
        (round(item.percentile_level_iterated_to, 6), item.value_iterated_to / 1000.0)
        for item in histogram.get_percentile_iterator(5)
    ]
    return [point for point in points if point[0] < 100.0] + [
        (100.0, histogram.get_max_value() / 1000.0)
    ]
