"""Shared by the test apps: Production(app, **options) and checks, from the environment."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from prodready.runtime import Production, checks


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
    return prod
