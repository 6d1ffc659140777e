"""Cross-file rules about how production launches the server: debug logging switched on by the
command line or GUNICORN_CMD_ARGS, where a config file rule cannot see it (PR923), and
Gunicorn left on its default of one sync worker (PR927). Registered through crossfile.py."""

from __future__ import annotations

from collections.abc import Iterable

from prodready.check.model import Hit, Severity
from prodready.check.registry import rule
from prodready.check.rules.crossfile_facts import (
    GunicornSetup,
    Served,
    env_value,
    find_file,
    gunicorn_setup,
    production_servers,
)
from prodready.project.model import FileKind, Project
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


@rule(
    "PR927",
    "gunicorn-one-sync-worker",
    title="Gunicorn serves production with its default of one sync worker",
    severity=Severity.WARNING,
    kind=KIND,
    why="""
Gunicorn without `--workers` (or `workers` in its config file, WEB_CONCURRENCY or
GUNICORN_CMD_ARGS) starts one worker, and the sync worker serves one request at a time: the
whole site answers one visitor at a time, every request waits behind the slowest one (a slow
query, an outbound call), and a worker killed at the timeout leaves nothing serving until it
is replaced. A config file or `-c` that Gunicorn reads and this project does not hold is not
judged, nor is a Procfile's process: Heroku-style platforms set WEB_CONCURRENCY for it.
""",
    fix="""
Give it workers for the CPUs it may use and threads for the I/O it waits on, for example
`gunicorn --workers 3 --threads 4 app:app`, or let `prodready init` write gunicorn.conf.py.
""",
    bad='CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]',
    good='CMD ["gunicorn", "-b", "0.0.0.0:8000", "-w", "3", "--threads", "4", "app:app"]',
)
def gunicorn_one_sync_worker(project: Project) -> Iterable[Hit]:
    if env_value(project, "WEB_CONCURRENCY") is not None:
        return  # Gunicorn's default worker count comes from it
    platform_run = _run_by_a_procfile(project)
    for served in production_servers(project):
        if served.launch.rel in platform_run:
            continue
        setup = gunicorn_setup(project, served)
        if setup is None or not _one_sync_worker(setup):
            continue
        yield Hit(
            served.launch.line,
            f"{served.what} starts gunicorn with its default of one sync worker: it serves one "
            "request at a time, and each slow request stalls all the others",
            path=served.launch.rel,
        )


def _run_by_a_procfile(project: Project) -> set[str]:
    """The Procfiles and the start scripts their processes run (`web: bash Procfile.sh`)."""
    found = set()
    for source in project.files_of(FileKind.PROCFILE):
        found.add(source.rel)
        for word in project.texts.get(source.rel, "").split():
            script = find_file(project, word, FileKind.SCRIPT)
            if script is not None:
                found.add(script)
    return found


def _one_sync_worker(setup: GunicornSetup) -> bool:
    """Nothing sets workers, threads or an asynchronous worker class, and every config file
    the launch names is one this project holds (an unseen one may set them)."""
    named = setup.options.value("config")
    if isinstance(named, str) and setup.config is None:
        return False
    if setup.setting("workers") is not None:
        return False
    worker = setup.setting("worker_class")
    if worker is not None and worker[0] != "sync":
        return False
    threads = setup.setting("threads")
    return threads is None or (isinstance(threads[0], int) and threads[0] <= 1)
