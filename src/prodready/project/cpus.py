"""How many CPUs this process may really use: cpuset affinity and cgroup v2 / v1 CPU quota,
not `os.cpu_count()` (which reports the host's CPUs inside a limited container)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
    tightest = tightest_cpu_quota(cgroup_root, own_cgroups)
    return tightest.cpus if tightest else None


class CpuQuota(NamedTuple):
    directory: Path
    cpus: float


# Fewer enforcement periods than this (100 ms each by default) say nothing about a share.
MIN_THROTTLING_PERIODS = 5


@dataclass(frozen=True)
class CpuThrottling:
    """The `cpu.stat` counters of a cgroup with a quota: enforcement periods in which it ran,
    and how many of them ended with the cgroup stopped for having used its quota."""

    directory: Path
    periods: int
    throttled: int

    def throttled_fraction_since(self, earlier: CpuThrottling) -> float | None:
        """The share of the periods since `earlier` that ended throttled; None when too few
        periods ran to tell (a mostly idle cgroup) or the counters are another cgroup's."""
        periods = self.periods - earlier.periods
        if periods < MIN_THROTTLING_PERIODS or self.directory != earlier.directory:
            return None
        return (self.throttled - earlier.throttled) / periods


def cgroup_cpu_throttling(
    cgroup_root: Path = CGROUP_ROOT, own_cgroups: Path = OWN_CGROUPS
) -> CpuThrottling | None:
    """The throttling counters of the cgroup whose quota is the tightest, or None without a
    quota or counters.

    The counters cover the whole cgroup: a process's own CPU time misses what the kernel
    charged its siblings in the cgroup, but a throttled period is the quota itself at work."""
    tightest = tightest_cpu_quota(cgroup_root, own_cgroups)
    return read_cpu_throttling(tightest.directory) if tightest else None


def read_cpu_throttling(directory: Path) -> CpuThrottling | None:
    """One cgroup's counters: v1 and v2 both write `nr_periods` and `nr_throttled` to
    `cpu.stat`; None when it has no such file or keys."""
    try:
        lines = (directory / "cpu.stat").read_text().splitlines()
        counters = dict(line.split()[:2] for line in lines if line.strip())
        return CpuThrottling(directory, int(counters["nr_periods"]), int(counters["nr_throttled"]))
    except (OSError, ValueError, KeyError):
        return None


def tightest_cpu_quota(cgroup_root: Path, own_cgroups: Path) -> CpuQuota | None:
    """The tightest CPU quota on this process's cgroup and its ancestors, and where it is."""
    quotas = [
        CpuQuota(directory, cpus)
        for directory in cgroup_dirs("cpu", cgroup_root, own_cgroups)
        if (cpus := cpu_quota_of(directory)) is not None
    ]
    return min(quotas, key=lambda quota: quota.cpus, default=None)


def cpu_quota_of(directory: Path) -> float | None:
    """The CPUs one cgroup's own quota allows (v2 `cpu.max`, else v1), None when unlimited."""
    try:
        quota, period = (directory / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((directory / "cpu.cfs_quota_us").read_text())
        period_us = int((directory / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


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
