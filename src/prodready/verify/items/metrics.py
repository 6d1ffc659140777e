"""metrics: the app's request counter rises by exactly the number of requests sent to a route,
whichever worker answered them (multiprocess metrics summed by the scrape), and no label holds
a raw path: a parametrised route asked with two ids, and a path no route serves, must not
show up as label values (one series per path a scanner invents is how Prometheus falls over).

Read straight from the shared server, since the generated nginx site refuses /metrics. An app
without metrics fails: the alert rules `prodready init` writes, and any operator, need them."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from prodready.project.probes import choose_probes
from prodready.verify.model import ItemResult
from prodready.verify.routes import app_route, parametrised_paths
from prodready.verify.stage import Stage

TITLE = "metrics"
REQUESTS = 30
ROUTE_LABELS = ("route", "path", "handler", "endpoint", "url", "url_rule", "view")
HINT = (
    "serve Prometheus metrics that stay right under several workers: prodready.runtime's "
    "Production(app) serves /metrics with a request counter per route"
)
SETTLE_S = 3.0
"""How long the counter may take to show the last request (a worker records it once the
response is sent)."""


@dataclass(frozen=True)
class Scrape:
    counts: dict[str, float]
    """Request-counter total per route-label value."""
    label_values: set[str]
    workers: int
    """Distinct `pid` labels (the kit's per-worker process metrics), 0 when none."""


def verify(stage: Stage) -> ItemResult:
    path = choose_probes(stage.project).metrics or "/metrics"
    first = _scrape(stage, path)
    if isinstance(first, str):
        return ItemResult.failed("metrics", TITLE, first, details=[f"hint: {HINT}"])
    route = app_route(stage.project)
    statuses = [_status(stage, route) for _ in range(REQUESTS)]
    after = _settled(stage, path, first)
    if isinstance(after, str):
        return ItemResult.failed("metrics", TITLE, after)
    rises = _rises(first, after, path)
    rose = sum(rises.values())
    measures: dict[str, int | float | str | bool] = {
        "requests_sent": REQUESTS,
        "counter_rise": rose,
        "workers_seen": after.workers,
        "route": route,
    }
    details = [
        f"GET {path} on 127.0.0.1:{stage.server.port} (straight to the app)",
        f"{REQUESTS} x GET {route}: statuses {sorted(set(statuses))}",
        "counter rise by route label: "
        + (", ".join(f"{label} +{n:g}" for label, n in rises.items()) or "none"),
    ]
    raw = _raw_path_labels(stage, path, details)
    if isinstance(raw, str):
        return ItemResult.failed("metrics", TITLE, raw, measures=measures, details=details)
    measures["raw_path_labels"] = len(raw)
    if rose != REQUESTS:
        return ItemResult.failed(
            "metrics", TITLE, f"{route}: counter rose by {rose:g} after {REQUESTS} requests",
            measures=measures, details=details,
        )  # fmt: skip
    if raw:
        return ItemResult.failed(
            "metrics", TITLE, f"raw path as a label value: {sorted(raw)[0]}"[:88],
            measures=measures, details=details + [f"raw label value: {v}" for v in sorted(raw)],
        )  # fmt: skip
    return ItemResult.passed(
        "metrics", TITLE,
        f"{route} counted exactly {REQUESTS}/{REQUESTS} across workers; no raw paths",
        measures=measures, details=details,
    )  # fmt: skip


def _raw_path_labels(stage: Stage, path: str, details: list[str]) -> set[str] | str:
    """Label values that are paths the test asked for, or why they could not be read."""
    token = secrets.token_hex(6)
    asked = [f"/prodready-verify-{token}"]
    ids = (int(token[:6], 16) + 100_000, int(token[6:], 16) + 100_000)
    found = parametrised_paths(stage.project, ids)
    if found:
        template, concrete = found
        asked += concrete
        details.append(f"parametrised route {template}: asked {', '.join(concrete)}")
    else:
        details.append("no parametrised GET route detected: asked a path no route serves only")
    for one in asked:
        _status(stage, one)
    time.sleep(0.2)
    scrape = _scrape(stage, path)
    if isinstance(scrape, str):
        return f"second scrape failed: {scrape}"
    marks = [token, *(str(n) for n in ids)]
    return {value for value in scrape.label_values if any(mark in value for mark in marks)}


def _rises(before: Scrape, after: Scrape, metrics_path: str) -> dict[str, float]:
    """How much each route label's count rose, the scrapes' own route left out: the requests
    of this item are the only ones the shared server gets meanwhile, so the rises add up to
    them whatever label the app gives the route."""
    labels = (set(before.counts) | set(after.counts)) - {metrics_path}
    old = before.counts
    rises = {label: after.counts.get(label, 0.0) - old.get(label, 0.0) for label in labels}
    return {label: n for label, n in sorted(rises.items()) if n}


def _settled(stage: Stage, path: str, before: Scrape) -> Scrape | str:
    """The scrape once the counts have risen by REQUESTS (or the last one after SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        scrape = _scrape(stage, path)
        if isinstance(scrape, str):
            return f"second scrape failed: {scrape}"
        settled = sum(_rises(before, scrape, path).values()) >= REQUESTS
        if settled or time.monotonic() > deadline:
            return scrape
        time.sleep(0.1)


def _scrape(stage: Stage, path: str) -> Scrape | str:
    """The request counter of the app's metrics, or why there is none."""
    try:
        reply = stage.get(path)
    except OSError as error:
        return f"GET {path} failed: {error}"
    if reply.status != 200:
        return f"the app exposes no metrics (GET {path}: {reply.status})"
    try:
        families = list(text_string_to_metric_families(reply.text))
    except ValueError as error:
        return f"GET {path} is not Prometheus text: {error}"[:88]
    counts: dict[str, float] = {}
    values: set[str] = set()
    pids: set[str] = set()
    counter_found = False
    for family in families:
        for sample in family.samples:
            values.update(sample.labels.values())
            if "pid" in sample.labels:
                pids.add(sample.labels["pid"])
            if family.type != "counter" or not sample.name.endswith("_total"):
                continue
            label = next((name for name in ROUTE_LABELS if name in sample.labels), None)
            if label is None or "request" not in family.name:
                continue
            counter_found = True
            key = sample.labels[label]
            counts[key] = counts.get(key, 0.0) + sample.value
    if not counter_found:
        return f"GET {path} has no request counter with a route label"
    return Scrape(counts, values, len(pids))


def _status(stage: Stage, path: str) -> int:
    try:
        return stage.get(path).status
    except OSError:
        return 0
