"""Cross-file rules about how production launches the server (PR923): debug logging switched
on by the command line or GUNICORN_CMD_ARGS, where a config file rule cannot see it.
Registered through crossfile.py."""

from __future__ import annotations

from collections.abc import Iterable

from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules.crossfile_facts import Served, gunicorn_setup, production_servers
from prodready.project.model import Project
from prodready.project.parsers.commands import option_value

KIND = "project"
LOG_LEVEL_OPTIONS = {
    "gunicorn": ("--log-level",),
    "uvicorn": ("--log-level",),
    "hypercorn": ("--log-level",),
    "granian": ("--log-level",),
    "daphne": ("-v", "--verbosity"),
}
VERBOSE = {"debug": Severity.INFO, "trace": Severity.WARNING, "3": Severity.INFO}


@rule(
    "PR923",
    "server-debug-logging",
    title="The production command starts the server with debug or trace logging",
    severity=Severity.INFO,
    kind=KIND,
    why="""
`--log-level debug` multiplies log volume (cost, disk, slower search) and logs request
details such as headers, which carry cookies and Authorization tokens, into a store many
more people can read than the app's database. uvicorn's `trace` level also logs the ASGI
messages themselves, bodies included (a warning). A config file's `loglevel` is PR606's.
""",
    fix="Use --log-level info (or warning) in production; turn debug on per incident.",
    bad='CMD ["gunicorn", "--log-level", "debug", "app:app"]',
    good='CMD ["gunicorn", "--log-level", "info", "app:app"]',
)
def server_debug_logging(project: Project) -> Iterable[Hit]:
    for served in production_servers(project):
        level, where = _log_level(project, served)
        severity = VERBOSE.get(level.lower()) if level else None
        if severity is None:
            continue
        yield Hit(
            served.launch.line,
            f"{served.what} starts {served.server.program} with log level {level}{where}",
            path=served.launch.rel,
            severity=severity,
        )


def _log_level(project: Project, served: Served) -> tuple[str | None, str]:
    """The log level the launch itself sets (command line, or GUNICORN_CMD_ARGS)."""
    options = LOG_LEVEL_OPTIONS.get(served.server.program)
    if options is None:
        return None, ""
    value = option_value(list(served.server.argv), *options)
    if value:
        return value, ""
    setup = gunicorn_setup(project, served)
    if setup is not None and setup.environment is not None:
        found = setup.environment.get("loglevel")
        if found is not None and isinstance(found.value, str):
            return found.value, f" (GUNICORN_CMD_ARGS, {setup.environment.rel}:{found.line})"
    return None, ""
