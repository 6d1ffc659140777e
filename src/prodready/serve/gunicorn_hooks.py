"""Gunicorn server hooks used by the config `prodready serve` writes (imported there by name).

- on_starting (master, once): creates the state dir, and the Prometheus multiprocess directory
  emptied of a previous run's files. Not at config import: Gunicorn re-reads the config on HUP,
  and emptying the directory then would drop the live workers' counters.
- post_worker_init (worker, after the app loaded): SIGTERM turns readiness to 503 first, and a
  ready marker tells `prodready reload` this worker serves.
- worker_exit (worker, as it exits): a worker that dies before loading the app while other
  workers serve exits with a plain failure code instead of Gunicorn's "failed to boot" one,
  on which the master halts and takes the serving workers down with it.
- child_exit (master): the dead worker's metrics fold into the archive; its marker goes. A
  worker that never loaded the app while others serve, or one `prodready reload` abandoned,
  is not replaced: the worker count drops by one (a reload's failed new workers leave the old
  ones serving instead of crash-looping beside them).
- on_exit (master): removes the state dir when it is the per-server one prodready serve made.

The state dir is the control socket's directory, so a printed config needs no other setting.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

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
    prepare_multiprocess_dir(os.environ.get(MULTIPROC_ENV) or metrics_dir(state))


def post_worker_init(worker: Any) -> None:
    from prodready.runtime.health import install_drain_on_sigterm

    install_drain_on_sigterm()
    (ready_dir(_state_dir(worker.cfg)) / str(worker.pid)).touch()


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
