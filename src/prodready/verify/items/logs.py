"""logs: the app's log lines are JSON, each written for a request carries that request's id,
the id is echoed on every response (500s included, when a route answers one), and a password
sent in a JSON and a form body and a token sent in Authorization appear nowhere in the log.

Which lines are the app's: the server log (`prodready serve --log-format json`) from the
server's first line on (its lifecycle logger: gunicorn.error, uvicorn.error, granian), all
of which must be JSON. What `prodready serve` prints before that (its own start-up warnings,
plain text or not, before the server and the app start) is not an app log line: shown in
the details, not judged. A request id is asked of the lines written while the item's
requests ran, except the server's lifecycle lines (worker boots), which belong to no
request."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from prodready.project.probes import choose_probes
from prodready.verify.http import Reply
from prodready.verify.model import ItemResult
from prodready.verify.routes import app_route, plain_get_paths, post_route
from prodready.verify.stage import Stage

TITLE = "logs"
ID_HEADER = "x-request-id"
ID_KEYS = ("request_id", "request-id", "requestId", "correlation_id")
SERVER_LOGGERS = ("gunicorn.error", "uvicorn", "uvicorn.error", "_granian", "granian")
FLUSH_S = 0.5


@dataclass
class Sent:
    label: str
    reply: Reply | None
    error: str = ""
    logged: bool = True
    """Its line is expected in the log (the kit does not access-log its probe endpoints)."""


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    excerpt: list[str] = field(default_factory=list)


def verify(stage: Stage) -> ItemResult:
    start = len(_log_bytes(stage))
    password, form_password, token = (f"pv-{secrets.token_hex(8)}" for _ in range(3))
    sent = _send(stage, password, form_password, token)
    time.sleep(FLUSH_S)
    raw = _log_bytes(stage)
    found = Findings()
    serve_lines, boot_lines = _app_lines(_text(raw[:start]))
    during = [line for line in _text(raw[start:]).splitlines() if line.strip()]
    lines = boot_lines + during
    _json_lines(lines, found)
    records = [r for r in map(_record, during) if r is not None]
    ids = _echoed_ids(sent, found)
    _ids_in_lines(records, ids, found)
    _secrets(_text(raw), {"password (JSON body)": password, "password (form body)":
             form_password, "Authorization token": token}, found)  # fmt: skip
    errors = [s for s in sent if s.reply is not None and s.reply.status >= 500]
    measures: dict[str, int | float | str | bool] = {
        "requests": len(sent),
        "log_lines": len(lines),
        "lines_during_requests": len(during),
        "echoed_ids_checked": len(ids),
        "answers_500": len(errors),
        "serve_startup_lines": len(serve_lines),
    }
    details = [
        *(f"{s.label}: {s.reply.status if s.reply else s.error}" for s in sent),
        f"{len(serve_lines)} line(s) of prodready serve's own before the server started: "
        "not app log lines, not judged",
        *(f"  serve: {line[:160]}" for line in serve_lines[:5]),
        *found.details,
    ]
    if not errors:
        details.append("no route answered 500: the request id on a 500 was not seen")
    log = "\n".join(found.excerpt)[-3000:]
    if found.problems:
        return ItemResult.failed(
            "logs", TITLE, found.problems[0][:88], measures=measures,
            details=found.problems + details, log=log,
        )  # fmt: skip
    on_500 = f"{len(errors)} x 500 too" if errors else "no 500 seen"
    return ItemResult.passed(
        "logs", TITLE, f"JSON lines with request ids, echoed ({on_500}); no secrets in logs",
        measures=measures, details=details,
    )  # fmt: skip


def _log_bytes(stage: Stage) -> bytes:
    try:
        return stage.server.log_path.read_bytes()
    except OSError:
        return b""


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _send(stage: Stage, password: str, form_password: str, token: str) -> list[Sent]:
    """GETs of the plain routes, then a JSON and a form POST with secrets to a POST route (or
    the app's first plain route when there is none: never a kit probe, which is not
    access-logged, so its echoed id could not be found in the log)."""
    probes = choose_probes(stage.project)
    quiet = {probes.live, probes.ready, probes.metrics} if probes.uses_kit else set()
    sent = [
        _one(stage, f"GET {path}", path, logged=path not in quiet)
        for path in plain_get_paths(stage.project)
    ]
    target = post_route(stage.project) or app_route(stage.project)
    auth = {"Authorization": f"Bearer {token}"}
    sent.append(_one(
        stage, f"POST {target} (JSON password, Bearer token)", target, method="POST",
        logged=target not in quiet,
        headers={**auth, "Content-Type": "application/json"},
        body=json.dumps({"username": "verify", "password": password}).encode(),
    ))  # fmt: skip
    sent.append(_one(
        stage, f"POST {target} (form password, Bearer token)", target, method="POST",
        logged=target not in quiet,
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
        body=f"username=verify&password={form_password}".encode(),
    ))  # fmt: skip
    return sent


def _one(stage: Stage, label: str, path: str, logged: bool = True, **kw: Any) -> Sent:
    try:
        return Sent(label, stage.get(path, **kw), logged=logged)
    except OSError as error:
        return Sent(label, None, f"no answer ({error})")


def _app_lines(before: str) -> tuple[list[str], list[str]]:
    """(prodready serve's own lines, the server's and app's lines) of the log before the
    item's requests: the server's begin with its first line from its lifecycle logger."""
    lines = [line for line in before.splitlines() if line.strip()]
    for n, line in enumerate(lines):
        record = _record(line)
        if record is not None and record.get("logger") in SERVER_LOGGERS:
            return lines[:n], lines[n:]
    return lines, []


def _record(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _json_lines(lines: list[str], found: Findings) -> None:
    plain = [line for line in lines if _record(line) is None]
    if plain:
        found.problems.append(f"{len(plain)} of {len(lines)} app log lines are not JSON")
        found.excerpt += plain[:20]


def _echoed_ids(sent: list[Sent], found: Findings) -> set[str]:
    """The echoed ids whose requests are expected in the log."""
    ids, missing = set(), []
    for one in sent:
        if one.reply is None:
            continue
        value = one.reply.header(ID_HEADER)
        if value and one.logged:
            ids.add(value)
        elif not value:
            missing.append(f"{one.label} ({one.reply.status})")
    if missing:
        found.problems.append(f"no X-Request-ID on {len(missing)} of {len(sent)} responses")
        found.details.append("responses without X-Request-ID: " + ", ".join(missing))
    return ids


def _ids_in_lines(records: list[dict[str, Any]], ids: set[str], found: Findings) -> None:
    """Every line but the server's lifecycle lines carries one request id (a string); every
    echoed id is in the log."""
    without = []
    logged: set[str] = set()
    for record in records:
        if str(record.get("logger", "")) in SERVER_LOGGERS:
            continue
        value = next((record[key] for key in ID_KEYS if record.get(key)), None)
        if isinstance(value, str):
            logged.add(value)
        else:
            without.append(record)
    if without:
        found.problems.append(f"{len(without)} JSON log line(s) carry no request id")
        found.excerpt += [json.dumps(record)[:300] for record in without[:10]]
    unlogged = ids - logged
    if ids and unlogged:
        found.problems.append(f"{len(unlogged)} of {len(ids)} echoed request ids not in the log")
    found.details.append(f"{len(ids & logged)} of {len(ids)} echoed request ids found in the log")


def _secrets(text: str, sent: dict[str, str], found: Findings) -> None:
    for what, value in sent.items():
        lines = [line for line in text.splitlines() if value in line]
        if lines:
            found.problems.append(f"the {what} sent appears in the log ({len(lines)} line(s))")
            found.excerpt += [line[:400] for line in lines[:3]]
