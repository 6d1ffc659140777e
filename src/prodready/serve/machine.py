"""The machine a server plan is computed for: CPUs and memory this process may really use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from prodready.project.cpus import cgroup_cpu_quota, cgroup_memory_limit, usable_cpus

DEV_SHM = Path("/dev/shm")


@dataclass(frozen=True)
class Machine:
    cpus: int
    cpus_why: str
    memory_bytes: int
    memory_why: str
    shm_dir: str | None
    """A writable RAM-backed directory for worker heartbeats, or None."""


def this_machine() -> Machine:
    cpus = usable_cpus()
    quota = cgroup_cpu_quota()
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 1
    cpus_why = f"{affinity} CPUs in this process's affinity mask"
    if quota is not None:
        cpus_why += f", cgroup CPU quota {quota:g}"
    if (os.cpu_count() or cpus) != cpus:
        cpus_why += f" (os.cpu_count() says {os.cpu_count()})"
    limit = cgroup_memory_limit()
    if limit is not None:
        memory, memory_why = limit, "cgroup memory limit"
    else:
        memory, memory_why = _mem_available(), "no cgroup memory limit; MemAvailable"
    shm = str(DEV_SHM) if DEV_SHM.is_dir() and os.access(DEV_SHM, os.W_OK) else None
    return Machine(cpus, cpus_why, memory, memory_why, shm)


def _mem_available() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 30
