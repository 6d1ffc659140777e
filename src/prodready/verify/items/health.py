"""health: the probes a platform relies on, asked the way it asks them.

1. live, ready and deep answer 200 with `application/health+json` on the shared server (the
   paths the generated probes use: prodready.runtime's, else the app's own health route).
2. readiness is 503 while a dependency is unreachable: a second server whose database (and
   Redis) URL points at a closed loopback port must answer its ready probe with 503.
3. readiness goes 503 within one probe of SIGTERM: a third server gets SIGTERM and its ready
   probe is asked every 50 ms until it stops answering or has said 503 for CONFIRM_S. A 200
   after the worker had time to get the signal fails; a server that stops accepting at once
   (connections refused or reset, never a 503) leaves a load balancer no drain window: a
   warning.

A production app must have these endpoints: one without any fails, with a hint.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from prodready.project.probes import choose_probes
from prodready.runtime.health import CONTENT_TYPE
from prodready.runtime.options import Options
from prodready.verify.backing import REDIS_VARS
from prodready.verify.model import ItemResult
from prodready.verify.server import BootError, ServerProcess, free_port
from prodready.verify.stage import Stage

TITLE = "health"
HINT = (
    "add prodready.runtime: Production(app) serves /health/live, /health/ready and /health "
    "as application/health+json, with readiness checks of the app's dependencies"
)
SIGNAL_GRACE_S = 0.5
"""A 200 to a probe sent this soon after SIGTERM is the signal still on its way to the
workers (the master forwards it)."""
PROBE_EVERY_S = 0.05
TERM_WINDOW_S = 3.0
CONFIRM_S = 0.5
"""Probing goes on this long after the first 503 (a drain window may keep the server up for
seconds more): long enough to see a readiness that flips back to 200."""


@dataclass
class Claim:
    name: str
    holds: bool | None
    """None: could not be measured (a warning)."""
    said: str


def verify(stage: Stage) -> ItemResult:
    probes = choose_probes(stage.project)
    paths = {"live": probes.live, "ready": probes.ready}
    if probes.uses_kit and Options.health_path:
        paths["deep"] = Options.health_path
    measures: dict[str, int | float | str | bool] = {"runtime_kit": probes.uses_kit}
    claims = [_answers(stage, role, path, measures) for role, path in paths.items()]
    if not probes.uses_kit:
        claims.append(Claim("deep", False, "no deep health endpoint (prodready.runtime's /health)"))
    claims.append(_dependency_down(stage, probes.ready, measures))
    claims.append(_sigterm(stage, probes.ready, measures))
    details = [f"{c.name}: {'ok' if c.holds else 'not measured' if c.holds is None else 'FAIL'}"
               f" - {c.said}" for c in claims]  # fmt: skip
    if probes.note:
        details.insert(0, probes.note)
    failed = [c for c in claims if c.holds is False]
    if failed:
        summary = f"{failed[0].name}: {failed[0].said}"
        if len(failed) > 1:
            summary = f"{len(failed)} of {len(claims)} claims fail; {summary}"
        return ItemResult.failed(
            "health", TITLE, _short(summary), measures=measures,
            details=[*details, f"hint: {HINT}"],
        )  # fmt: skip
    unsure = [c for c in claims if c.holds is None]
    if unsure:
        return ItemResult.warned(
            "health", TITLE, _short(f"{unsure[0].name}: {unsure[0].said}"),
            measures=measures, details=details,
        )  # fmt: skip
    return ItemResult.passed(
        "health", TITLE, "health+json probes; ready 503 without its database and on SIGTERM",
        measures=measures, details=details,
    )  # fmt: skip


def _answers(
    stage: Stage, role: str, path: str, measures: dict[str, int | float | str | bool]
) -> Claim:
    try:
        reply = stage.get(path, timeout=10.0)
    except OSError as error:
        measures[f"{role}_status"] = "no answer"
        return Claim(role, False, f"GET {path}: {error}")
    kind = (reply.header("content-type") or "").split(";")[0].strip()
    measures[f"{role}_status"] = reply.status
    said = f"GET {path} -> {reply.status} {kind or 'no content type'}"
    if kind != CONTENT_TYPE:
        said += f", not {CONTENT_TYPE}"
    return Claim(role, reply.status == 200 and kind == CONTENT_TYPE, said)


def _dependency_down(
    stage: Stage, ready: str, measures: dict[str, int | float | str | bool]
) -> Claim:
    name = "ready without its dependencies"
    env = stage.app_env
    split = stage.backing.split_vars
    names = [] if split else [stage.backing.database_var]
    names += [v for v in REDIS_VARS if v in stage.backing.env]
    closed = free_port()
    pointed = {var: _to_port(env[var], closed) for var in names if var and env.get(var)}
    if "port" in split:
        pointed.update({split["host"]: "127.0.0.1", split["port"]: str(closed)})
    if not pointed:
        services = [s for s in ("postgresql", "redis") if stage.project.uses_service(s)]
        if not services:
            return Claim(name, True, "not applicable: the app uses no database or Redis")
        why = "; ".join(n for n in stage.backing.notes if n.lower().startswith(tuple(services)))
        return Claim(name, None, f"no URL variable to point away ({why})")
    where = f"{', '.join(pointed)} -> 127.0.0.1:{closed} (closed)"
    try:
        served = stage.start_extra("health-nodeps", env=pointed)
    except BootError as error:
        return Claim(name, False, f"the app does not start with {where}: {error}")
    try:
        status = _ready_status(served, ready)
    finally:
        served.stop()
    measures["ready_without_dependencies_status"] = status
    return Claim(name, status == 503, f"GET {ready} with {where} -> {status}")


def _ready_status(served: ServerProcess, ready: str) -> int | str:
    """The ready probe's status; a 200 is asked again once the checks' cache has expired."""
    status: int | str = "no answer"
    for attempt in range(2):
        if attempt:
            time.sleep(Options.check_ttl + 0.5)
        try:
            status = served.get(ready, timeout=10.0).status
        except OSError as error:
            status = f"no answer ({error})"
        if status != 200:
            break
    return status


def _sigterm(stage: Stage, ready: str, measures: dict[str, int | float | str | bool]) -> Claim:
    name = "ready on SIGTERM"
    served = stage.start_extra("health-term")
    try:
        before = served.get(ready, timeout=10.0).status
    except OSError as error:
        served.stop()
        return Claim(name, None, f"GET {ready} before SIGTERM: {error}")
    served.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    answers: list[tuple[float, int | str]] = []
    while time.monotonic() - signalled < TERM_WINDOW_S and served.running():
        sent = time.monotonic() - signalled
        try:
            answers.append((sent, served.get(ready, timeout=TERM_WINDOW_S).status))
        except OSError as error:
            answers.append((sent, type(error).__name__))
            break
        first_503 = next((at for at, answer in answers if answer == 503), None)
        if first_503 is not None and sent - first_503 >= CONFIRM_S:
            break
        time.sleep(PROBE_EVERY_S)
    served.stop()
    seen = ", ".join(f"{answer} at +{sent:.2f} s" for sent, answer in _collapsed(answers))
    said = f"{before} before SIGTERM; then {seen or 'no probe'}"
    late_ok = [sent for sent, answer in answers if answer == 200 and sent >= SIGNAL_GRACE_S]
    measures["ready_after_sigterm"] = next(
        (str(a) for _, a in answers if a != 200), str(answers[-1][1]) if answers else "none"
    )
    if late_ok:
        return Claim(name, False, f"still 200 {late_ok[-1]:.2f} s after SIGTERM ({said})")
    if any(answer == 503 for _, answer in answers):
        return Claim(name, True, said)
    return Claim(name, None, f"stopped accepting without a 503 ({said})")


def _collapsed(answers: list[tuple[float, int | str]]) -> list[tuple[float, int | str]]:
    """The first probe of each run of equal answers."""
    return [(s, a) for i, (s, a) in enumerate(answers) if i == 0 or answers[i - 1][1] != a]


def _to_port(url: str, port: int) -> str:
    """The same URL (scheme, user, database) on 127.0.0.1:`port`."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{port}" if user else
                                     f"127.0.0.1:{port}"))  # fmt: skip


def _short(text: str) -> str:
    return text if len(text) <= 88 else text[:85] + "..."
