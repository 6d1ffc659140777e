"""Gunicorn server hooks used by the config `prodready serve` writes (imported there by name).

- on_starting (master, once): creates the state dir, and the Prometheus multiprocess directory
  emptied of a previous run's files. Not at config import: Gunicorn re-reads the config on HUP,
  and emptying the directory then would drop the live workers' counters.
- post_worker_init (worker, after the app loaded): SIGTERM turns readiness to 503 first, and a
  ready marker tells `prodready reload` this worker serves.
- child_exit (master): the dead worker's metrics fold into the archive; its marker goes.
- on_exit (master): removes the state dir when it is the per-server one prodready serve made.

The state dir is the control socket's directory, so a printed config needs no other setting.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from prodready.serve.runtimedir import STATE_ENV, metrics_dir, ready_dir


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
    prepare_multiprocess_dir(os.environ.get(MULTIPROC_ENV) or metrics_dir(state))


def post_worker_init(worker: Any) -> None:
    from prodready.runtime.health import install_drain_on_sigterm

    install_drain_on_sigterm()
    (ready_dir(_state_dir(worker.cfg)) / str(worker.pid)).touch()


def child_exit(server: Any, worker: Any) -> None:
    from prodready.runtime.metrics import mark_worker_dead

    (ready_dir(_state_dir(server.cfg)) / str(worker.pid)).unlink(missing_ok=True)
    mark_worker_dead(worker.pid)


def on_exit(server: Any) -> None:
    state = _state_dir(server.cfg)
    if os.environ.get(STATE_ENV) == str(state):
        shutil.rmtree(state, ignore_errors=True)
