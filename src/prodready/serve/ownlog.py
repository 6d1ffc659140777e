"""The lines `prodready serve` itself writes before it execs the server, as JSON.

With `--log-format json` the log must be JSON lines throughout: serve's warnings (and the error
that stops it) come before the server's and the app's lines in the same log, so they are
rendered by the kit's own formatter and have the same shape: event, level, timestamp, logger.
Python warnings and any library's log records in this process go the same way.
"""

from __future__ import annotations

import logging
import sys

from prodready.runtime.logs import json_formatter

LOGGER_NAME = "prodready.serve"


def json_log() -> logging.Logger:
    """The logger for serve's own lines, writing JSON on stderr (where its plain-text
    warnings go otherwise); the root logger and Python warnings write there too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter(json=True))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    logging.captureWarnings(True)
    log = logging.getLogger(LOGGER_NAME)
    log.setLevel(logging.INFO)
    return log
