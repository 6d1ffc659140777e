"""`import prodready.runtime` is paid by every app that uses the kit, so it must stay cheap."""

from __future__ import annotations

import subprocess
import sys


def best_of(code: str, runs: int = 7) -> float:
    """Fastest wall time of `python -c code` in ms: the minimum filters out a busy machine."""
    timer = (
        "import time, subprocess, sys\n"
        "t = time.perf_counter()\n"
        f"subprocess.run([sys.executable, '-c', {code!r}], check=True)\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", timer], capture_output=True, text=True)
        times.append(float(out.stdout))
    return min(times)


def test_import_costs_under_50ms_over_bare_python() -> None:
    bare = best_of("pass")
    kit = best_of("import prodready.runtime")
    assert kit - bare < 50, f"import prodready.runtime costs {kit - bare:.1f} ms over bare Python"


def test_import_does_no_heavy_imports() -> None:
    code = (
        "import sys, prodready.runtime, prodready.runtime.metrics, prodready.runtime.logs, "
        "prodready.runtime.health\n"
        "heavy = {'prometheus_client', 'structlog', 'limits', 'pydantic', 'asyncio', 'gunicorn'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
