"""Shared by the test apps: Production(app, **options) and checks, from the environment."""

from __future__ import annotations

import functools
import json
import os
import time
from typing import Any

from prodready.runtime import Production, checks


async def _where_async_checks_run() -> str:
    """The thread an async check runs in: MainThread is the app's own loop (uvicorn and
    Gunicorn's ASGI worker run it there)."""
    import threading

    return threading.current_thread().name


async def _hang_async(cancelled_log: str) -> None:
    """Hangs; appends a line to `cancelled_log` when cancelled."""
    import asyncio

    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        with open(cancelled_log, "a") as log:
            log.write("cancelled\n")
        raise


def install(app: Any) -> Production:
    options = json.loads(os.environ.get("PRODREADY_TEST_OPTIONS", "{}"))
    prod = Production(app, **options)
    for name, (kind, *args) in json.loads(os.environ.get("PRODREADY_TEST_CHECKS", "{}")).items():
        if kind == "postgres":
            prod.check(name, checks.postgres(args[0], timeout=args[1]))
        elif kind == "redis":
            prod.check(name, checks.redis(args[0], timeout=args[1]))
        elif kind == "http":
            prod.check(name, checks.http(args[0], timeout=args[1]))
        elif kind == "sleep":
            seconds = args[0]
            prod.check(name, lambda seconds=seconds: time.sleep(seconds), timeout=args[1])
        elif kind == "disk":
            prod.check(name, checks.disk("/"))
        elif kind == "async_where":
            prod.check(name, _where_async_checks_run, timeout=args[0])
        elif kind == "async_hang":
            prod.check(name, functools.partial(_hang_async, args[1]), timeout=args[0])
    return prod
