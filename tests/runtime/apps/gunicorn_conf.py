"""Gunicorn config the way `prodready serve` sets it up: multiprocess metrics and JSON logs."""

import os

from prodready.runtime.logs import gunicorn_logconfig_dict
from prodready.runtime.metrics import mark_worker_dead, prepare_multiprocess_dir

prepare_multiprocess_dir(os.environ["PRODREADY_TEST_METRICS_DIR"])

logconfig_dict = gunicorn_logconfig_dict()
logger_class = "prodready.runtime.logs.GunicornLogger"


def child_exit(server, worker):
    mark_worker_dead(worker.pid)
