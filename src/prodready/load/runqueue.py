"""How long this thread waited for a CPU while it was ready to run (Linux run-queue delay).

CPU time alone cannot tell a busy generator on a crowded machine from an idle one: a worker
that gets a quarter of a core uses 25 % CPU while it always has work. CPU time plus the time
spent runnable but waiting for a CPU is the share of the wall time the worker *wanted* a CPU;
near 100 % it was the bottleneck, whatever the machine's load. The kernel counts the delay
per thread in /proc/thread-self/schedstat (CONFIG_SCHED_INFO: on in every distribution kernel).
"""

from __future__ import annotations

SCHEDSTAT = "/proc/thread-self/schedstat"


def run_queue_wait_s() -> float | None:
    """Seconds this thread has waited on a run queue since it started; None where the kernel
    does not say (not Linux, or schedstat missing)."""
    try:
        with open(SCHEDSTAT, encoding="ascii") as handle:
            fields = handle.read().split()
        return int(fields[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None
