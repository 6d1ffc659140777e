"""SLO gates: `p95<300ms,p99<1s,rps>=100,errors<0.1%`, parsed strictly and checked on a result.

Metrics: `pNN` (any percentile, e.g. p50, p99.9), `mean`, `max` (latency, with a unit:
us, ms or s), `rps` (responses per second), `errors` (a rate with `%`, or a count without),
`ok` (the count of responses with a status below 400).
Operators: `<`, `<=`, `>`, `>=`. Anything else is rejected with a `UsageError`.

Without `--slo`, `DEFAULT_GATE` applies: a run where nothing succeeded, or where most requests
failed, measured a broken target, not its speed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from prodready.errors import UsageError
from prodready.load.result import LoadResult

_CHECK = re.compile(r"^\s*([A-Za-z][\w.]*)\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+)\s*([A-Za-zµ%]*)\s*$")
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")
_LATENCY_UNITS_MS = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0}
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
HINT = (
    "use e.g. --slo 'p95<300ms,p99<1s,rps>=100,errors<0.1%' "
    "(metrics: pNN, mean, max, rps, errors, ok)"
)
DEFAULT_GATE = "ok>=1,errors<=50%"
COUNT_METRICS = ("rps", "errors", "ok")


@dataclass(frozen=True)
class Objective:
    """One check, e.g. p99 < 1000 ms. `threshold` is in ms, rps, a fraction or a count."""

    text: str
    metric: str
    op: str
    threshold: float
    unit: str
    default: bool = False
    """Part of DEFAULT_GATE (no --slo given), not an objective the user set."""

    def measure(self, result: LoadResult) -> float:
        if self.metric == "rps":
            return result.rps
        if self.metric == "ok":
            return float(result.successes)
        if self.metric == "errors":
            return result.error_rate if self.unit == "%" else float(result.error_count)
        if self.metric == "mean":
            return result.histogram.get_mean_value() / 1000.0 if result.responses else 0.0
        if self.metric == "max":
            return result.histogram.get_max_value() / 1000.0
        return result.latency_ms(float(self.metric[1:]))

    def holds(self, result: LoadResult) -> bool:
        if self.metric not in COUNT_METRICS and result.responses == 0:
            return False  # no response at all meets no latency objective
        return _OPERATORS[self.op](self.measure(result), self.threshold)


@dataclass(frozen=True)
class Verdict:
    objective: Objective
    actual: float
    passed: bool

    def describe_actual(self) -> str:
        objective = self.objective
        if objective.metric == "rps":
            return f"{self.actual:.1f}"
        if objective.metric == "ok":
            return f"{self.actual:.0f}"
        if objective.metric == "errors":
            return f"{self.actual:.3%}" if objective.unit == "%" else f"{self.actual:.0f}"
        return f"{self.actual:.3f} ms"

    def to_dict(self) -> dict[str, object]:
        return {
            "objective": self.objective.text,
            "actual": self.describe_actual(),
            "passed": self.passed,
        }


def parse_slo(text: str) -> list[Objective]:
    objectives = [_parse_one(part) for part in text.split(",") if part.strip()]
    if not objectives:
        raise UsageError("empty --slo", HINT)
    return objectives


def _parse_one(text: str) -> Objective:
    match = _CHECK.match(text)
    if not match:
        raise UsageError(f"malformed SLO expression {text.strip()!r}", HINT)
    metric, op, number, unit = match.groups()
    metric = metric.lower()
    value = float(number)
    clean = text.strip()
    if metric in ("rps", "ok"):
        if unit:
            raise UsageError(f"{metric} takes no unit in {clean!r}", HINT)
        return Objective(clean, metric, op, value, "")
    if metric == "errors":
        if unit not in ("", "%"):
            raise UsageError(f"errors takes % or a count in {clean!r}", HINT)
        return Objective(clean, metric, op, value / 100.0 if unit == "%" else value, unit)
    if metric in ("mean", "max") or _PERCENTILE.match(metric):
        if unit not in _LATENCY_UNITS_MS:
            raise UsageError(f"latency needs a unit (us, ms or s) in {clean!r}", HINT)
        return Objective(clean, metric, op, value * _LATENCY_UNITS_MS[unit], "ms")
    raise UsageError(f"unknown SLO metric {metric!r} in {clean!r}", HINT)


def evaluate(objectives: list[Objective], result: LoadResult) -> list[Verdict]:
    return [Verdict(o, o.measure(result), o.holds(result)) for o in objectives]


def default_gate() -> list[Objective]:
    """The gate of a run without --slo: at least one success, at most half the requests failed."""
    return [replace(objective, default=True) for objective in parse_slo(DEFAULT_GATE)]


def is_default_gate(verdicts: list[Verdict]) -> bool:
    return any(verdict.objective.default for verdict in verdicts)
