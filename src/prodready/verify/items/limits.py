"""limits, through the nginx front: a body over the site's client_max_body_size answers 413;
slow clients (slowloris) do not keep ordinary requests from being answered; a burst over the
site's limit_req rate answers 429 with Retry-After, and no more requests get through than the
rate and burst allow. The burst runs last, then waits for the zone to drain so later items
meet an empty bucket."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prodready.project.probes import choose_probes
from prodready.verify.front import Front
from prodready.verify.model import ItemResult
from prodready.verify.sitelimits import SiteLimits, read_site_limits
from prodready.verify.slowclient import slowloris
from prodready.verify.stage import Stage

TITLE = "limits"
BURST_MAX_REQUESTS = 300
BURST_MAX_S = 10.0
BURST_THREADS = 8
ENOUGH_429 = 10

Measures = dict[str, int | float | str | bool]


@dataclass(frozen=True)
class Answer:
    at_s: float
    status: int
    retry_after: str | None


def verify(stage: Stage) -> ItemResult:
    front = stage.front
    if front is None:
        return ItemResult.skipped("limits", TITLE, f"no nginx front: {stage.front_missing}"[:88])
    path = choose_probes(stage.project).ready
    site = read_site_limits(front.prefix / "site.conf")
    measures: Measures = {}
    details = [
        f"generated site: limit_req rate {site.rate_per_s} r/s burst {site.burst}, "
        f"client_max_body_size {site.body_limit} bytes"
    ]
    problems = _body_limit(front, path, site, measures, details)
    problems += _slow_clients(front, path, measures, details)
    problems += _rate_limit(front, path, site, measures, details)
    if problems:
        return ItemResult.failed(
            "limits", TITLE, problems[0][:88], measures=measures, details=problems + details
        )
    return ItemResult.passed(
        "limits", TITLE,
        f"429 + Retry-After past {site.rate_per_s:g} r/s burst {site.burst}; 413; slowloris held",
        measures=measures, details=details,
    )  # fmt: skip


def _body_limit(
    front: Front, path: str, site: SiteLimits, measures: Measures, details: list[str]
) -> list[str]:
    if site.body_limit == 0:
        return ["client_max_body_size 0: nginx takes bodies of any size"]
    size = site.body_limit + 1024
    try:
        reply = front.https(path, method="POST", body=b"x" * size, timeout=30)
    except OSError as error:
        return [f"POST of {size} bytes: no answer ({error})"]
    measures["oversized_body_status"] = reply.status
    details.append(f"POST {path} with {size} bytes: {reply.status}")
    if reply.status != 413:
        return [f"a {size}-byte body answered {reply.status}, not 413"]
    return []


def _slow_clients(front: Front, path: str, measures: Measures, details: list[str]) -> list[str]:
    run = slowloris(
        front.https_port, front.certificate, front.server_name, lambda: front.https(path)
    )
    measures |= {
        "slow_sockets": run.slow_sockets,
        "slow_sockets_held": run.slow_held,
        "ordinary_sent": run.ordinary_sent,
        "ordinary_answered": run.ordinary_answered,
    }
    details.append(
        f"slowloris: {run.slow_sockets} TLS sockets sending a header line a second, "
        f"{run.slow_held} still open at the end; meanwhile GET {path}: {run.statuses}"
    )
    if run.ordinary_answered < run.ordinary_sent:
        lost = run.ordinary_sent - run.ordinary_answered
        return [f"slow clients held the app: {lost} of {run.ordinary_sent} requests unanswered"]
    return []


def _rate_limit(
    front: Front, path: str, site: SiteLimits, measures: Measures, details: list[str]
) -> list[str]:
    if site.rate_per_s is None:
        return ["the generated site sets no limit_req rate limit"]
    answers = _burst(front, path)
    elapsed = answers[-1].at_s if answers else 0.0
    refused = [a for a in answers if a.status == 429]
    through = [a for a in answers if a.status != 429]
    allowed = math.ceil(site.burst + 1 + site.rate_per_s * elapsed)
    without = [a for a in refused if not (a.retry_after or "").strip().isdigit()]
    measures |= {
        "burst_requests": len(answers),
        "burst_s": round(elapsed, 2),
        "answered_429": len(refused),
        "let_through": len(through),
        "allowed_by_rate": allowed,
        "429_without_retry_after": len(without),
    }
    statuses = sorted({a.status for a in answers})
    details.append(
        f"burst: {len(answers)} GET {path} from {BURST_THREADS} threads in {elapsed:.2f} s: "
        f"{len(through)} through (rate and burst allow {allowed}), {len(refused)} x 429; "
        f"statuses {statuses}"
    )
    if refused:
        details.append(f"Retry-After on the first 429: {refused[0].retry_after or '(none)'}")
    drain = site.burst / site.rate_per_s if site.rate_per_s else 0.0
    time.sleep(min(drain + 0.5, 5.0))
    if not refused:
        return [f"no 429 after {len(answers)} requests in {elapsed:.1f} s"]
    problems = []
    if without:
        problems.append(f"{len(without)} of {len(refused)} 429 answers without Retry-After")
    if len(through) > allowed + BURST_THREADS:
        problems.append(f"{len(through)} requests let through, the rate allows {allowed}")
    return problems


def _burst(front: Front, path: str) -> list[Answer]:
    """GETs from a few threads until ENOUGH_429 refusals, BURST_MAX_REQUESTS or BURST_MAX_S."""
    began = time.monotonic()
    answers: list[Answer] = []

    def one(_: int) -> Answer:
        try:
            reply = front.https(path, timeout=5)
        except OSError:
            return Answer(time.monotonic() - began, 0, None)
        return Answer(time.monotonic() - began, reply.status, reply.header("retry-after"))

    with ThreadPoolExecutor(BURST_THREADS) as pool:
        while len(answers) < BURST_MAX_REQUESTS and time.monotonic() - began < BURST_MAX_S:
            answers += pool.map(one, range(BURST_THREADS))
            if sum(a.status == 429 for a in answers) >= ENOUGH_429:
                break
    return sorted(answers, key=lambda a: a.at_s)
