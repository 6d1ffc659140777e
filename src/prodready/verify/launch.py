"""How production starts the app, as far as the project says, turned into a local boot: a
Gunicorn command line's options reach `prodready serve` as $GUNICORN_CMD_ARGS (taken as the
project's own values, the dangerous ones kept with a warning, exactly as for gunicorn.conf.py);
a development server or nothing found means the plan `prodready init` would generate."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from prodready.project.gunicornsettings import CMD_ARGS_ENV
from prodready.project.model import LaunchCommand, Project


@dataclass(frozen=True)
class BootSource:
    note: str
    env: dict[str, str] = field(default_factory=dict)


def production_launch(project: Project) -> LaunchCommand | None:
    """The first launch that reaches production and runs a Python server or app."""
    return next((c for c in project.launches if c.env.deployed and c.servers), None)


def boot_source(project: Project) -> BootSource:
    launch = production_launch(project)
    if launch is None:
        return BootSource("no production launch found: served with the plan prodready computes")
    server = launch.servers[0]
    where = f"{launch.rel}:{launch.line}"
    shown = shlex.join(server.argv)
    dev = server.dev_server or _reached_run_call(project, server.script)
    if dev:
        return BootSource(
            f"production runs `{shown}` ({where}), a development server ({dev}): "
            "verify serves the plan prodready computes instead"
        )
    if server.program == "gunicorn":
        options = [word for word in server.argv[1:] if word != server.app_target]
        if options:
            return BootSource(
                f"production runs `{shown}` ({where}): its options reach prodready serve",
                {CMD_ARGS_ENV: shlex.join(options)},
            )
    return BootSource(
        f"production runs `{shown}` ({where}): served with the same app by prodready serve"
    )


def _reached_run_call(project: Project, script: str | None) -> str | None:
    """`python app.py` where app.py calls app.run() under its main guard."""
    module = (
        next((m for m in project.modules.values() if m.rel == script), None) if script else None
    )
    call = next((c for c in module.run_calls if c.under_main_guard), None) if module else None
    return f"it reaches {call.callee}() at {call.rel}:{call.line}" if call else None
