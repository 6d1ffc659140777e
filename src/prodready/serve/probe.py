"""Loads the app once in a throwaway process, before any server starts.

Why a separate process: the Gunicorn master must never import user code (workers would fork
with the old modules and a reload would not pick up code changes), and a failing import inside
Gunicorn ends as a wall of tracebacks and "Worker failed to boot". The probe turns each way an
app can fail to load into one line, and measures what one loaded app costs in memory (the
resident set after import), which caps the number of workers.

Run as `python -c "from prodready.serve.probe import main; main()" MODULE:ATTR` in the app's
directory; the last line of stdout is `PRODREADY_PROBE <json>`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prodready.errors import AppNotFoundError, InputError, UserError

MARKER = "PRODREADY_PROBE "
PROBE_MAIN = "from prodready.serve.probe import main; main()"
PROBE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class AppTarget:
    """`module:attr`, or `module:factory()` for an app factory."""

    module: str
    attr: str
    factory: bool = False

    @classmethod
    def parse(cls, text: str) -> AppTarget:
        module, sep, attr = text.strip().partition(":")
        if not sep:
            attr = "app"
        factory = attr.endswith("()")
        attr = attr.removesuffix("()")
        names = [*module.split("."), attr]
        if not all(name.isidentifier() for name in names):
            raise InputError(
                f"{text!r} is not an app reference",
                "give MODULE:ATTR, e.g. app:app or mypkg.wsgi:application or pkg:create_app()",
            )
        return cls(module, attr, factory)

    def __str__(self) -> str:
        return f"{self.module}:{self.attr}{'()' if self.factory else ''}"


@dataclass(frozen=True)
class ProbeResult:
    target: AppTarget
    interface: str  # wsgi | asgi
    rss_bytes: int


def probe_app(target: AppTarget, root: Path, env: dict[str, str] | None = None) -> ProbeResult:
    """Imports `target` in a child process run in `root` with `env` (default: ours); raises a
    UserError saying why it cannot be served, in one line."""
    try:
        completed = subprocess.run(
            [sys.executable, "-c", PROBE_MAIN, str(target)],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            env={**(os.environ if env is None else env), "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise UserError(
            f"importing {target} did not finish within {PROBE_TIMEOUT_S:.0f} s",
            "move slow work (model loading, network calls) out of module import",
        ) from error
    report = _last_report(completed.stdout)
    if report is None:
        tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"loading {target} ended the probe process without a report: {tail}")
    if not report["ok"]:
        kind = AppNotFoundError if report["kind"] == "not_found" else UserError
        raise kind(report["message"], report.get("hint"))
    return ProbeResult(target, report["interface"], report["rss_bytes"])


def _last_report(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    return None


# --- in the probe process ------------------------------------------------------------------------


def interface_of(obj: Any) -> str | None:
    """'asgi' for a callable taking (scope, receive, send) that is a coroutine function (or an
    object whose __call__ is), 'wsgi' for one taking (environ, start_response), else None."""
    try:
        if inspect.isclass(obj) or not callable(obj):
            return None
        is_async = inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(
            type(obj).__call__
        )
    except Exception:  # proxies (werkzeug's `request`) raise on any attribute outside a request
        return None
    interface = "asgi" if is_async else "wsgi"
    try:
        inspect.signature(obj).bind(*range(3 if is_async else 2))
    except TypeError:
        return None
    except ValueError:  # no signature (builtins, C extensions): trust the callable
        pass
    return interface


def _where(error: BaseException) -> str:
    """file:line of the deepest frame that is not in the import machinery."""
    if isinstance(error, SyntaxError) and error.filename:
        return f"{_short(error.filename)}:{error.lineno}"
    frames = traceback.extract_tb(error.__traceback__)
    here = str(Path.cwd())
    in_app = [frame for frame in frames if frame.filename.startswith(here)]
    frame = (in_app or frames or [None])[-1]
    return f"{_short(frame.filename)}:{frame.lineno}" if frame else "?"


def _short(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename


def _failure(kind: str, message: str, hint: str | None = None) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "message": message, "hint": hint}


def _is_target_module(name: str | None, module: str) -> bool:
    return name is not None and (module == name or module.startswith(name + "."))


def load(target: AppTarget) -> dict[str, Any]:
    """Imports the target and reports what it is, or the one reason it cannot be served."""
    try:
        module = importlib.import_module(target.module)
    except ModuleNotFoundError as error:
        if _is_target_module(error.name, target.module):
            return _failure(
                "not_found",
                f"no module named {target.module!r} in {Path.cwd()}",
                "run from the app's directory or give MODULE:ATTR as Python imports it",
            )
        return _failure(
            "import",
            f"importing {target.module} failed: {error} ({_where(error)})",
            "install the missing package in this environment",
        )
    except SyntaxError as error:
        return _failure("import", f"syntax error in {_where(error)}: {error.msg}")
    except BaseException as error:  # any failure of user code is reported
        return _failure(
            "import",
            f"importing {target.module} raised {type(error).__name__}: {error} ({_where(error)})",
            "the app must import without error; move start-up work that can fail into a "
            "health check or a lazy service",
        )
    obj = getattr(module, target.attr, None)
    if obj is None:
        # App objects (Flask(...), FastAPI(...)), not every function that takes two arguments.
        apps = sorted(
            f"{target.module}:{name}"
            for name, value in vars(module).items()
            if not inspect.isroutine(value) and not inspect.ismodule(value) and interface_of(value)
        )
        return _failure(
            "not_found",
            f"module {target.module} has no attribute {target.attr!r}",
            f"apps in it: {', '.join(apps[:5])}" if apps else "give MODULE:ATTR of the app",
        )
    if target.factory:
        try:
            obj = obj()
        except BaseException as error:
            return _failure(
                "import",
                f"calling {target.module}:{target.attr}() raised "
                f"{type(error).__name__}: {error} ({_where(error)})",
            )
    interface = interface_of(obj)
    if interface is None:
        return _failure(
            "not_an_app",
            f"{target} is a {type(obj).__name__}, not a WSGI or ASGI app",
            "point at the app object (Flask(...), FastAPI(...), get_wsgi_application(), ...)"
            + ("; for a factory add ()" if inspect.isfunction(obj) else ""),
        )
    return {"ok": True, "interface": interface, "rss_bytes": _rss_bytes()}


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    sys.path.insert(0, os.getcwd())
    report = load(AppTarget.parse(sys.argv[1]))
    sys.stdout.flush()
    print(MARKER + json.dumps(report), flush=True)
    os._exit(0)  # skip atexit and thread joins of user code: the probe only had to import
