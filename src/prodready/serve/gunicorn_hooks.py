"""Gunicorn server hooks used by the config `prodready serve` writes (imported there by name).

- on_starting (master, once): creates the state dir, and the Prometheus multiprocess directory
  emptied of a previous run's files. Not at config import: Gunicorn re-reads the config on HUP,
  and emptying the directory then would drop the live workers' counters. With
  PRODREADY_DRAIN_SECONDS, SIGTERM opens a drain window first (see draindelay).
- post_worker_init (worker, after the app loaded): SIGTERM turns readiness to 503 first, and a
  ready marker tells `prodready reload` this worker serves.
- pre_request (worker): recycling, one worker at a time (see below).
- worker_exit (worker, as it exits): a worker that dies before loading the app while other
  workers serve exits with a plain failure code instead of Gunicorn's "failed to boot" one,
  on which the master halts and takes the serving workers down with it.
- child_exit (master): the dead worker's metrics fold into the archive; its marker goes. A
  worker that never loaded the app while others serve, or one `prodready reload` abandoned,
  is not replaced: the worker count drops by one (a reload's failed new workers leave the old
  ones serving instead of crash-looping beside them).
- on_exit (master): removes the state dir when it is the per-server one prodready serve made.

The state dir is the control socket's directory, so a printed config needs no other setting.

Recycling: Gunicorn restarts a worker once it has served max_requests (plus its jitter), each
worker on its own; with even load two or all of them restart together, nobody accepts while
they import the app, and requests stall (about 1.1 s at --max-requests 300). Here a worker
keeps Gunicorn's limit but recycles itself only when it holds the server's one recycling turn
(a file created with O_EXCL in the state dir); it then stops accepting, finishes its requests,
and exits, while the others keep serving. The turn ends when its replacement has loaded the
app (post_worker_init), so at most one worker restarts at a time and, with 2 or more workers,
the listening socket always has workers taking connections. Thread workers (WSGI) only.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from prodready.serve.draindelay import DRAIN_SECONDS_ENV, drain_seconds, install_drain_delay
from prodready.serve.runtimedir import (
    STATE_ENV,
    abandoned_dir,
    boot_failed_dir,
    metrics_dir,
    process_exists,
    ready_dir,
    record_master,
)

BOOT_FAILED_WHILE_OTHERS_SERVE = 1
"""The exit code a worker that failed to boot uses instead of Gunicorn's 3 or 4, when other
workers serve: the master then logs it and carries on."""

DRAIN_FILE_NAME = "draining"
"""File in the state dir whose presence turns every worker's readiness to 503."""
RECYCLING_TURN = "recycling"
"""File in the state dir holding the pid of the worker whose recycle is under way."""
STALE_TURN_S = 120.0
"""A turn whose holder has exited this long ago without a replacement ready is abandoned."""

_recycle_after: int | None = None
"""This worker's request limit (Gunicorn's max_requests + jitter), None if it never recycles."""


def _state_dir(cfg: Any) -> Path:
    return Path(cfg.control_socket).parent


def on_starting(server: Any) -> None:
    from prodready.runtime.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    state = _state_dir(server.cfg)
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    markers = ready_dir(state)
    markers.mkdir(exist_ok=True)
    for stale in markers.iterdir():
        stale.unlink(missing_ok=True)
    record_master(state, server.pid)  # a Gunicorn started from a printed config, too
    (state / RECYCLING_TURN).unlink(missing_ok=True)
    prepare_multiprocess_dir(os.environ.get(MULTIPROC_ENV) or metrics_dir(state))
    seconds = drain_seconds(os.environ.get(DRAIN_SECONDS_ENV))
    if seconds:
        install_drain_delay(server, state / DRAIN_FILE_NAME, seconds)


def post_worker_init(worker: Any) -> None:
    from prodready.runtime.health import install_drain_on_sigterm

    install_drain_on_sigterm()
    global _recycle_after
    if (
        worker.max_requests < sys.maxsize
        and _is_thread_worker(worker)
        and getattr(worker.cfg.pre_request, "__module__", None) == __name__
    ):
        # Gunicorn's own check would recycle uncoordinated; pre_request (when the config uses
        # ours) recycles in turn. Gunicorn's ASGI worker keeps its own recycling: it stops at
        # once when told to in pre_request, cutting responses in flight.
        _recycle_after, worker.max_requests = worker.max_requests, sys.maxsize
    state = _state_dir(worker.cfg)
    (ready_dir(state) / str(worker.pid)).touch()
    recycled = _end_recycling_turn(state)
    if recycled is not None:
        worker.log.info("worker %s ready in place of recycled worker %s", worker.pid, recycled)


def _is_thread_worker(worker: Any) -> bool:
    """gthread, or prodready's PollingThreadWorker built on it (serve.threadworker)."""
    from gunicorn.workers.gthread import ThreadWorker

    return isinstance(worker, ThreadWorker)


def pre_request(worker: Any, req: Any) -> None:
    if _recycle_after is None or worker.nr + 1 < _recycle_after or not worker.alive:
        return
    if _take_recycling_turn(_state_dir(worker.cfg), worker.pid):
        worker.log.info(
            "recycling worker %s after %s requests; the other workers keep serving",
            worker.pid,
            worker.nr + 1,
        )
        worker.alive = False  # stops accepting; this request's connection is closed after it


def _take_recycling_turn(state: Path, pid: int) -> bool:
    turn = state / RECYCLING_TURN
    for _ in range(2):
        try:
            descriptor = os.open(turn, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if not _abandoned(turn):
                return False
            turn.unlink(missing_ok=True)
            continue
        except OSError:
            return False
        with os.fdopen(descriptor, "w") as file:
            file.write(str(pid))
        return True
    return False


def _end_recycling_turn(state: Path) -> int | None:
    """Ends the turn of a recycled worker that has exited; returns its pid."""
    turn = state / RECYCLING_TURN
    holder = _holder(turn)
    if holder is None or process_exists(holder):
        return None
    turn.unlink(missing_ok=True)
    return holder


def _abandoned(turn: Path) -> bool:
    holder = _holder(turn)
    try:
        age = time.time() - turn.stat().st_mtime
    except OSError:
        return False
    return (holder is None or not process_exists(holder)) and age > STALE_TURN_S


def _holder(turn: Path) -> int | None:
    try:
        return int(turn.read_text())
    except (OSError, ValueError):
        return None


def worker_exit(server: Any, worker: Any) -> None:
    state = _state_dir(worker.cfg)
    if not (ready_dir(state) / str(worker.pid)).exists() and _others_serve(state, worker.pid):
        sys.stderr.flush()
        os._exit(BOOT_FAILED_WHILE_OTHERS_SERVE)


def child_exit(server: Any, worker: Any) -> None:
    from prodready.runtime.metrics import mark_worker_dead

    state = _state_dir(server.cfg)
    marker = ready_dir(state) / str(worker.pid)
    booted = marker.exists()
    marker.unlink(missing_ok=True)
    mark_worker_dead(worker.pid)
    abandoned = abandoned_dir(state) / str(worker.pid)
    if abandoned.exists() or (not booted and _others_serve(state, worker.pid)):
        abandoned.unlink(missing_ok=True)
        if not booted:
            failed = boot_failed_dir(state)
            failed.mkdir(exist_ok=True)
            (failed / str(worker.pid)).touch()
        server.num_workers = max(1, server.num_workers - 1)
        server.log.error(
            "worker %s %s: not replaced, %d workers keep serving",
            worker.pid,
            "stopped by prodready reload" if booted else "failed to boot while others serve",
            server.num_workers,
        )


def _others_serve(state: Path, pid: int) -> bool:
    """True when a worker other than `pid` has loaded the app and is still running."""
    markers = ready_dir(state)
    if not markers.is_dir():
        return False
    return any(
        marker.name != str(pid) and process_exists(int(marker.name))
        for marker in markers.iterdir()
        if marker.name.isdigit()
    )


def on_exit(server: Any) -> None:
    state = _state_dir(server.cfg)
    if os.environ.get(STATE_ENV) == str(state):
        shutil.rmtree(state, ignore_errors=True)
