"""How many CPUs this process may really use: cpuset affinity and cgroup v2 / v1 CPU quota,
not `os.cpu_count()` (which reports the host's CPUs inside a limited container)."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
OWN_CGROUPS = Path("/proc/self/cgroup")


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """min(affinity, ceil(quota / period)), at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root)
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return max(1, count)


def cgroup_cpu_quota(
    cgroup_root: Path = CGROUP_ROOT, own_cgroups: Path = OWN_CGROUPS
) -> float | None:
    """CPUs allowed by the tightest CPU quota on this process's cgroup and its ancestors
    (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`), or None when unlimited or unknown."""
    quotas = []
    for directory in cgroup_dirs("cpu", cgroup_root, own_cgroups):
        try:
            quota, period = (directory / "cpu.max").read_text().split()[:2]
            if quota != "max":
                quotas.append(int(quota) / int(period))
            continue
        except (OSError, ValueError):
            pass
        try:
            quota_us = int((directory / "cpu.cfs_quota_us").read_text())
            period_us = int((directory / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota_us > 0 and period_us > 0:
            quotas.append(quota_us / period_us)
    return min(quotas, default=None)


def cgroup_memory_limit(
    cgroup_root: Path = CGROUP_ROOT, own_cgroups: Path = OWN_CGROUPS
) -> int | None:
    """Bytes allowed by the tightest memory limit on this process's cgroup and its ancestors,
    or None when unlimited or unknown."""
    limits = []
    for directory in cgroup_dirs("memory", cgroup_root, own_cgroups):
        for name in ("memory.max", "memory.limit_in_bytes"):
            try:
                value = int((directory / name).read_text().strip())
            except (OSError, ValueError):  # unreadable, absent or "max"
                continue
            if value < 1 << 60:  # v1 writes "no limit" as a huge number
                limits.append(value)
    return min(limits, default=None)


def cgroup_dirs(controller: str, cgroup_root: Path, own_cgroups: Path) -> list[Path]:
    """The directories of this process's cgroup for `controller` and of its ancestors up to
    the mount, innermost first.

    /proc/self/cgroup names the cgroup as a path from the hierarchy's root (v1: one line per
    hierarchy, `N:cpu,cpuacct:/path`; v2: `0::/path`). A service under systemd sits deep in
    the tree (system.slice/app.service, where CPUQuota= lands); in a container the mount is
    already the container's own cgroup and the path may not exist below it, so the mount
    itself is the answer.
    """
    try:
        lines = own_cgroups.read_text().splitlines()
    except OSError:
        lines = []
    mounts: list[tuple[Path, str]] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            mounts += [(cgroup_root, path), (cgroup_root / "unified", path)]
        elif controller in controllers.split(","):
            mounts += [(cgroup_root / controllers, path), (cgroup_root / controller, path)]
    mounts.append((cgroup_root / controller, "/"))
    mounts.append((cgroup_root, "/"))
    found: list[Path] = []
    for mount, path in mounts:
        directory = mount / path.strip("/")
        if not directory.is_dir():
            directory = mount
        while directory.is_dir() and directory not in found:
            found.append(directory)
            if directory == mount:
                break
            directory = directory.parent
    return found
