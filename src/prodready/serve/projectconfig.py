"""The project's own Gunicorn settings in a serve plan.

A value the project sets (its gunicorn.conf.py, $GUNICORN_CMD_ARGS; see
`prodready.project.gunicornsettings`) wins over the computed one and a flag wins over both:
the people who wrote `timeout = 120  # card imports take a while` knew something the plan
cannot. A value prodready considers dangerous is kept with a warning that says why, or, with
`--override`, replaced by the computed one. Settings prodready serve itself depends on (its
hooks, logging, pid file, control socket) are not taken, and the warning says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from prodready.project.gunicornsettings import ProjectValue
from prodready.serve.setting import COMPUTED, Setting

KUBERNETES_GRACE_S = 30
OWNED_BY_SERVE = {
    "wsgi_app": "the app is given as APP or detected",
    "chdir": "prodready serve runs in the app's directory (--dir)",
    "pidfile": "prodready serve keeps it in its state dir; give --pid",
    "control_socket": "prodready reload talks to the server through it",
    "daemon": "prodready serve runs in the foreground, under a process manager",
    "logconfig": "logs go through prodready.runtime's pipeline",
    "logconfig_dict": "logs go through prodready.runtime's pipeline",
    "logconfig_json": "logs go through prodready.runtime's pipeline",
    "logger_class": "logs go through prodready.runtime's pipeline",
    "errorlog": "logs go to stdout, for the process manager to collect",
    "accesslog": "--access-log turns the access log on (on stdout)",
    "reload": "code reloading is for development; use prodready reload",
    "config": "prodready serve writes the config Gunicorn reads",
}
"""Settings the project may set that prodready serve does not take, and why."""
DECIDED_IN_PLAN = frozenset({"bind"})
"""Read by the plan itself: $PORT goes before the project's bind, as on a PaaS it must."""


@dataclass(frozen=True)
class DangerContext:
    """What the danger checks need to know about the app and the machine."""

    interface: str
    handlers_wait: bool
    memory_workers: int


def apply_project_settings(
    settings: list[Setting],
    found: dict[str, ProjectValue],
    context: DangerContext,
    override: bool,
    jitter_for: Callable[[int], Setting],
) -> tuple[list[Setting], list[str]]:
    """The plan's settings with the project's values applied, and a warning per value not
    applied or dangerous. `jitter_for(max_requests)` recomputes the jitter for a project's
    max_requests when the project does not set the jitter itself."""
    computed = {s.name: s for s in settings}
    merged = dict(computed)
    warnings: list[str] = []
    for name, given in found.items():
        if name not in gunicorn_setting_names() or name in DECIDED_IN_PLAN:
            continue  # a helper variable or function of the config file, or the bind
        if given.hook:
            warnings.append(
                f"hook {name} in {given.origin} is not run: prodready serve's config has its "
                "own hooks; move the work into the app (or a lazy service of prodready.runtime)"
            )
            continue
        if name in OWNED_BY_SERVE:
            warnings.append(f"{name} from {given.origin} is not applied: {OWNED_BY_SERVE[name]}")
            continue
        current = merged.get(name)
        if current is not None and current.source.startswith("--"):
            continue  # a flag given now wins
        if given.value is None:
            warnings.append(
                f"{name} = {given.expression} ({given.origin}) is not applied: an expression is "
                "only known by running the file; write the value, or give it as a flag"
            )
            continue
        why = f"set in {given.origin}"
        if current is not None:
            why += f" (computed: {_shown(current.value)}, because {current.why})"
        merged[name] = Setting(name, given.value, why, given.origin)
    jitter = merged.get("max_requests_jitter")
    if jitter is not None and jitter.source == COMPUTED and "max_requests" in merged:
        merged["max_requests_jitter"] = jitter_for(merged["max_requests"].value)
    values = {name: setting.value for name, setting in merged.items()}
    for name, setting in list(merged.items()):
        if setting.source == COMPUTED:
            continue
        reason = danger(name, setting.value, values, context)
        if reason is None:
            continue
        from_project = not setting.source.startswith("--")
        fallback = computed.get(name)
        if override and from_project and fallback is not None:
            merged[name] = replace(
                fallback,
                why=f"{setting.value!r} from {setting.source} overridden (--override): "
                f"{reason}; {fallback.why}",
            )
            continue
        hint = (
            f"; --override uses the computed {_shown(fallback.value)}"
            if from_project and fallback is not None
            else ""
        )
        warnings.append(f"{name} = {setting.value!r} ({setting.source}): {reason}{hint}")
    return list(merged.values()), warnings


def danger(name: str, value: Any, values: dict[str, Any], context: DangerContext) -> str | None:
    """Why `value` for `name` would hurt in production, or None."""
    if name == "workers" and isinstance(value, int):
        if value < 2:
            return "one worker: a recycle or a reload leaves none serving"
        if value > context.memory_workers:
            return f"more workers than memory allows ({context.memory_workers})"
    if name == "timeout" and isinstance(value, int | float):
        graceful = values.get("graceful_timeout")
        if isinstance(graceful, int | float) and 0 < value < graceful:
            return (
                f"below graceful_timeout ({graceful} s): a draining worker is killed as hung "
                "before its requests finish"
            )
    if (
        name == "graceful_timeout"
        and isinstance(value, int | float)
        and value >= KUBERNETES_GRACE_S
    ):
        return (
            f"at or above Kubernetes' default grace period ({KUBERNETES_GRACE_S} s): the "
            "drain is cut short by SIGKILL"
        )
    if name == "max_requests_jitter" and isinstance(value, int):
        max_requests = values.get("max_requests") or 0
        if max_requests > 0 and value * 4 < max_requests:
            return (
                f"below a quarter of max_requests ({max_requests}): workers with even load "
                "recycle together, and requests stall while they restart"
            )
    if name == "preload_app" and value is True:
        return (
            "workers fork from the master's copy of the app, so a reload does not load new "
            "code (and the master runs app code)"
        )
    if name == "forwarded_allow_ips" and isinstance(value, str) and "*" in value:
        return "any client could claim any address or https in X-Forwarded-*"
    if name == "worker_class" and isinstance(value, str):
        asgi_worker = value == "asgi" or "uvicorn" in value.lower()
        if context.interface == "asgi" and not asgi_worker:
            return "an ASGI app needs an ASGI worker (asgi, uvicorn_worker.UvicornWorker)"
        if value == "sync" and context.handlers_wait:
            return "the sync worker serves one request at a time, and handlers wait on I/O"
    return None


def gunicorn_setting_names() -> frozenset[str]:
    from gunicorn.config import KNOWN_SETTINGS

    return frozenset(setting.name for setting in KNOWN_SETTINGS)


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "off" if value is None else str(value)
