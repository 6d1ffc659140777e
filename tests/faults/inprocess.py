"""Runs the `prodready` command in this process, for the parser fuzzing.

A real process per input would cost 0.4 s of start-up; in process a check of a small project
takes about 0.1 s, so a bounded fuzzing run tries hundreds of inputs. It is the same `main()`
the console script calls: a `UserError` becomes an `error:` line and exit 2 there, and any other
exception escapes as the traceback a user would see.
"""

from __future__ import annotations

import contextlib
import io
import sys
import traceback
from dataclasses import dataclass

from prodready.cli.main import main


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    crash: str | None
    """The traceback of an exception that escaped `main()`, as the console script would print."""


def run_in_process(*args: str) -> Outcome:
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["prodready", *args]
    code, crash = 0, None
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except Exception:
        code, crash = 1, traceback.format_exc()
    finally:
        sys.argv = argv
    return Outcome(code, stdout.getvalue(), stderr.getvalue(), crash)
