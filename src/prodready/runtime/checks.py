"""Built-in health checks. Each returns a `Check`; name it with `prod.check(name, ...)`.

    prod.check("db", checks.postgres(settings.database_url))
    prod.check("cache", checks.redis(settings.redis_url), critical=False)
    prod.check("disk", checks.disk("/var/lib/app", min_free_ratio=0.05))
    prod.check("payments", checks.http("http://payments.internal/health/ready"))
    prod.check("queue", checks.custom(lambda: queue.depth() < 10_000))

Every check opens and closes its own connection (or borrows one from an SQLAlchemy pool and
gives it back), bounds its network waits by its timeout, and imports its driver only when run.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prodready.runtime.health import Check, CheckResult

DEFAULT_TIMEOUT = 2.0


def postgres(target: Any, *, timeout: float = DEFAULT_TIMEOUT, critical: bool = True) -> Check:
    """`SELECT 1` over a fresh psycopg connection (target: a URL) or an SQLAlchemy engine."""
    if isinstance(target, str):

        def run() -> None:
            import psycopg

            connect_timeout = max(1, math.ceil(timeout))
            with psycopg.connect(
                target,
                connect_timeout=connect_timeout,
                autocommit=True,
                options=f"-c statement_timeout={int(timeout * 1000)}",
            ) as connection:
                connection.execute("SELECT 1")

    elif hasattr(target, "connect") and hasattr(target, "dialect"):

        def run() -> None:
            with target.connect() as connection:
                connection.exec_driver_sql("SELECT 1")

    else:
        raise TypeError(f"checks.postgres needs a URL or an SQLAlchemy engine, got {target!r}")
    return Check("postgres", run, "datastore", "responseTime", critical, timeout)


def redis(url: str, *, timeout: float = DEFAULT_TIMEOUT, critical: bool = True) -> Check:
    """PING over a fresh Redis connection."""

    def run() -> None:
        import redis as redis_client

        client = redis_client.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        try:
            client.ping()
        finally:
            client.close()

    return Check("redis", run, "datastore", "responseTime", critical, timeout)


def disk(
    path: str | os.PathLike[str] = "/",
    *,
    min_free_ratio: float = 0.05,
    warn_free_ratio: float = 0.10,
    critical: bool = False,
) -> Check:
    """Free space on the filesystem holding `path`, in percent; fail under `min_free_ratio`."""

    def run() -> CheckResult:
        usage = shutil.disk_usage(path)
        free = usage.free / usage.total if usage.total else 0.0
        status = "fail" if free < min_free_ratio else "warn" if free < warn_free_ratio else "pass"
        output = "" if status == "pass" else f"{free:.1%} free on {path}"
        return CheckResult(status, round(free * 100, 2), "percent", output)

    return Check("disk", run, "system", "free", critical, DEFAULT_TIMEOUT)


def memory(*, max_used_ratio: float = 0.95, warn_used_ratio: float = 0.85) -> Check:
    """Resident memory of this process against the cgroup limit (or the machine's memory)."""

    def run() -> CheckResult:
        rss = _resident_bytes()
        limit = _memory_limit_bytes()
        used = rss / limit if limit else 0.0
        status = "fail" if used > max_used_ratio else "warn" if used > warn_used_ratio else "pass"
        output = "" if status == "pass" else f"{used:.1%} of {limit} bytes in use"
        return CheckResult(status, rss, "bytes", output)

    return Check("memory", run, "system", "rss", False, DEFAULT_TIMEOUT)


def http(
    url: str,
    *,
    expect_status: range = range(200, 400),
    timeout: float = DEFAULT_TIMEOUT,
    critical: bool = True,
) -> Check:
    """GET `url`; passes when the status is in `expect_status`."""

    def run() -> CheckResult:
        import urllib.error
        import urllib.request

        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        if status in expect_status:
            return CheckResult("pass", elapsed, "ms")
        return CheckResult("fail", elapsed, "ms", f"HTTP {status} from {url}")

    return Check("http", run, "component", "responseTime", critical, timeout)


def custom(
    run: Callable[[], Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    critical: bool = True,
    component_type: str = "component",
) -> Check:
    """Any callable, sync or async: returns None/True (pass), False (fail), a `CheckResult`
    or an observed value; raises on failure."""
    name = getattr(run, "__name__", "custom")
    return Check(name, run, component_type, "responseTime", critical, timeout)


def _resident_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _memory_limit_bytes() -> int:
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:
            return int(raw)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
