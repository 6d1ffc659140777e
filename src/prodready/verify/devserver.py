"""The app's own development server, the peer the serve plan is measured against: what the
project runs in development (`app.run()` under its main guard, `uvicorn --reload`, `manage.py
runserver`), else its framework's dev server, started on a loopback port in the app's
directory and environment.

It runs without the reloader and the debugger: a reloader's file watcher takes CPU from the
server on a small machine, so the peer is the dev server at its fastest, and a plan that beats
it beats the app's own command too. An `app.run()` binds the host and port written in the code,
so it runs as the `flask run` it stands for, on the loopback port verify chose."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from prodready.project.model import Project
from prodready.verify.server import BootError, ServerProcess, free_port, wait_until_answering

START_TIMEOUT_S = 30.0
ASGI_FRAMEWORKS = ("fastapi", "starlette", "asgi", "litestar")


@dataclass(frozen=True)
class DevCommand:
    argv: tuple[str, ...]
    origin: str
    """What the project runs in development, and where it says so."""

    @property
    def shown(self) -> str:
        return shlex.join(["python", *self.argv[1:]])


def dev_command(
    project: Project, target: str, app_dir: Path, port: int, root_target: str | None = None
) -> DevCommand | str:
    """The dev server's command line on 127.0.0.1:`port`, or why there is none. `target` is
    the app as named from `app_dir`; `root_target` the same app as the project root names it
    (how detection names apps: app.hello_django.wsgi:application for a build folder app/)."""
    named = {target, root_target or target}
    app = project.app or next((a for a in project.apps if a.target in named), None)
    if app is None:
        return "no single app detected to run under a development server"
    origin = _origin(project, app.framework)
    address = ("--host", "127.0.0.1", "--port", str(port))
    if app.framework == "flask":
        threads = "--without-threads" if _run_kwarg(project, "threaded") is False else ""
        argv = ["-m", "flask", "--app", target, "run", *address, "--no-reload", "--no-debugger"]
        return DevCommand((sys.executable, *argv, *([threads] if threads else [])), origin)
    if app.framework in ASGI_FRAMEWORKS:
        factory = target.endswith("()")
        argv = ["-m", "uvicorn", target.removesuffix("()"), *address]
        return DevCommand((sys.executable, *argv, *(["--factory"] if factory else [])), origin)
    if app.framework == "django":
        manage = _manage_py(project, app_dir)
        if manage is None:
            return "a Django app without a manage.py to run `runserver` with"
        argv = [str(manage), "runserver", f"127.0.0.1:{port}", "--noreload"]
        return DevCommand((sys.executable, *argv), origin)
    return f"no development server is known for a {app.framework} app"


def start_dev_server(
    project: Project,
    target: str,
    app_dir: Path,
    env: dict[str, str],
    work: Path,
    root_target: str | None = None,
) -> tuple[ServerProcess, DevCommand] | str:
    """The dev server running and answering HTTP, or why it could not be started."""
    port = free_port()
    command = dev_command(project, target, app_dir, port, root_target)
    if isinstance(command, str):
        return command
    log_path = work / "dev-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command.argv,
            cwd=app_dir,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    # The dev server writes no pid file; nothing reloads it.
    served = ServerProcess(process, port, work / "dev-server.pid", log_path, time.monotonic())
    try:
        wait_until_answering(served, timeout=START_TIMEOUT_S)
    except BootError as error:  # wait_until_answering stopped it
        last = (error.hint or "").splitlines()[-1:] or [""]
        return f"`{command.shown}` did not start: {error.message}; {last[0]}".strip("; ")
    return served, command


def _origin(project: Project, framework: str) -> str:
    for launch, server in project.servers:
        if server.dev_server:
            return f"`{shlex.join(server.argv)}` ({launch.rel}:{launch.line})"
    for module in project.modules.values():
        for call in module.run_calls:
            if call.under_main_guard:
                return f"{call.callee}() at {call.rel}:{call.line}"
    return f"no development command found: {framework}'s own development server"


def _run_kwarg(project: Project, name: str) -> object:
    for module in project.modules.values():
        for call in module.run_calls:
            if call.under_main_guard and name in call.kwargs:
                return call.kwargs[name]
    return None


def _manage_py(project: Project, app_dir: Path) -> Path | None:
    found = [f.path for f in project.files_named("manage.py")]
    inside = [p for p in found if p.resolve().is_relative_to(app_dir)]
    return min(inside, key=lambda p: len(p.parts), default=None)
