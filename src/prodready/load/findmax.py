"""`--find-max`: the highest constant arrival rate that still meets the SLO.

Each step is a full open-model run of the configured duration. The rate doubles until a step
fails (or halves until one passes, when the starting rate already fails); then the interval
between the highest pass and the lowest failure is bisected until it is narrower than 5 %
(or 6 bisections). A step only passes if the server also kept up: the responses per second
must reach 95 % of the offered rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from prodready.load.config import LoadConfig
from prodready.load.engine import run_load
from prodready.load.result import LoadResult
from prodready.load.slo import Objective, Verdict, evaluate

DEFAULT_START_RATE = 50.0
KEEP_UP_FRACTION = 0.95
MAX_DOUBLINGS = 16
MIN_RATE = 1.0
MAX_BISECTIONS = 6
PRECISION = 0.05


@dataclass
class Step:
    rate: float
    result: LoadResult
    verdicts: list[Verdict]

    @property
    def kept_up(self) -> bool:
        return self.result.rps >= KEEP_UP_FRACTION * self.rate

    @property
    def passed(self) -> bool:
        return self.kept_up and all(v.passed for v in self.verdicts) and not self.result.interrupted

    def describe(self) -> str:
        checks = ", ".join(f"{v.objective.metric} {v.describe_actual()}" for v in self.verdicts)
        verdict = "pass" if self.passed else "fail"
        if not self.kept_up:
            verdict += f" (served {self.result.rps:,.1f}/s)"
        return f"rate {self.rate:,.1f}/s: {checks} -> {verdict}"


@dataclass
class MaxSearch:
    steps: list[Step] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return any(step.result.interrupted for step in self.steps)

    @property
    def best(self) -> Step | None:
        passing = [step for step in self.steps if step.passed]
        return max(passing, key=lambda step: step.rate) if passing else None

    @property
    def reported(self) -> Step:
        """The step whose result is reported: the best pass, else the first step tried."""
        return self.best or self.steps[0]

    @property
    def best_result(self) -> LoadResult:
        return self.reported.result

    @property
    def best_verdicts(self) -> list[Verdict]:
        step = self.reported
        if step.kept_up:
            return step.verdicts
        return [*step.verdicts, _kept_up_verdict(step)]

    def render(self) -> RenderableType:
        table = Table(title="find-max", title_justify="left")
        table.add_column("rate/s", justify="right")
        table.add_column("served/s", justify="right")
        table.add_column("p99 ms", justify="right")
        table.add_column("errors", justify="right")
        table.add_column("result")
        for step in self.steps:
            table.add_row(
                f"{step.rate:,.1f}",
                f"{step.result.rps:,.1f}",
                f"{step.result.latency_ms(99):.3f}",
                f"{step.result.error_rate:.3%}",
                Text("pass", style="green") if step.passed else Text("fail", style="red"),
            )
        best = self.best
        line = (
            Text(f"highest rate meeting the SLO: {best.rate:,.1f} req/s", style="bold green")
            if best
            else Text(
                f"no rate met the SLO (lowest tried: {self.steps[0].rate:,.1f} req/s)",
                style="bold red",
            )
        )
        return Group(table, line)


def _kept_up_verdict(step: Step) -> Verdict:
    objective = Objective(
        f"rps>={KEEP_UP_FRACTION * step.rate:g}", "rps", ">=", KEEP_UP_FRACTION * step.rate, ""
    )
    return Verdict(objective, step.result.rps, False)


def find_max_rate(
    config: LoadConfig, objectives: list[Objective], status: Console | None
) -> MaxSearch:
    search = MaxSearch()

    def try_rate(rate: float) -> Step:
        result = run_load(replace(config, rate=rate, total_requests=None))
        step = Step(rate, result, evaluate(objectives, result))
        search.steps.append(step)
        if status is not None:
            status.print(step.describe(), highlight=False)
        return step

    rate = config.rate or DEFAULT_START_RATE
    low: float | None = None
    high: float | None = None
    for _ in range(MAX_DOUBLINGS):
        step = try_rate(rate)
        if step.result.interrupted:
            return search
        if step.passed:
            low = rate
            if high is not None:
                break
            rate *= 2
        else:
            high = rate
            if low is not None:
                break
            # Even the starting rate fails: halve until a rate passes.
            rate = round(rate / 2, 1)
            if rate < MIN_RATE:
                return search
    if low is None or high is None:
        return search
    for _ in range(MAX_BISECTIONS):
        if (high - low) / low < PRECISION:
            break
        middle = round((low + high) / 2, 1)
        step = try_rate(middle)
        if step.result.interrupted:
            break
        if step.passed:
            low = middle
        else:
            high = middle
    return search
