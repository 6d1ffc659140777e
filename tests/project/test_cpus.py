"""CPU quota and memory limit from cgroup trees written to disk as the kernel lays them out."""

from __future__ import annotations

from pathlib import Path

from prodready.project.cpus import (
    CpuThrottling,
    cgroup_cpu_quota,
    cgroup_cpu_throttling,
    cgroup_memory_limit,
)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_systemd_service_quota_below_the_root_is_found(tmp_path: Path) -> None:
    """cgroup v2: CPUQuota=50% and MemoryMax= land on system.slice/app.service, not the root."""
    root = tmp_path / "cgroup"
    write(root / "cpu.stat", "")  # the v2 root has no cpu.max
    write(root / "system.slice" / "cpu.max", "max 100000\n")
    write(root / "system.slice" / "app.service" / "cpu.max", "50000 100000\n")
    write(root / "system.slice" / "app.service" / "memory.max", "536870912\n")
    own = tmp_path / "self-cgroup"
    write(own, "0::/system.slice/app.service\n")

    assert cgroup_cpu_quota(root, own) == 0.5
    assert cgroup_memory_limit(root, own) == 512 * 1024 * 1024


def test_the_tightest_quota_on_the_path_wins_under_cgroup_v1(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    parent = root / "cpu,cpuacct" / "batch"
    write(parent / "cpu.cfs_quota_us", "150000\n")
    write(parent / "cpu.cfs_period_us", "100000\n")
    write(parent / "loadgen" / "cpu.cfs_quota_us", "-1\n")
    write(parent / "loadgen" / "cpu.cfs_period_us", "100000\n")
    write(root / "memory" / "memory.limit_in_bytes", "9223372036854771712\n")  # no limit
    own = tmp_path / "self-cgroup"
    write(own, "4:memory:/batch/loadgen\n3:cpu,cpuacct:/batch/loadgen\n")

    assert cgroup_cpu_quota(root, own) == 1.5
    assert cgroup_memory_limit(root, own) is None


def test_a_container_whose_mount_is_its_own_cgroup_reads_the_mount(tmp_path: Path) -> None:
    """Without a cgroup namespace /proc/self/cgroup names the host's path, absent below the
    container's mount: the mount itself holds the container's limits."""
    root = tmp_path / "cgroup"
    write(root / "cpu.max", "200000 100000\n")
    write(root / "memory.max", "max\n")
    own = tmp_path / "self-cgroup"
    write(own, "0::/docker/0123abcd\n")

    assert cgroup_cpu_quota(root, own) == 2.0
    assert cgroup_memory_limit(root, own) is None


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_quota(tmp_path / "none", tmp_path / "none-either") is None
    assert cgroup_memory_limit(tmp_path / "none", tmp_path / "none-either") is None


def test_the_throttling_counters_are_those_of_the_tightest_quota(tmp_path: Path) -> None:
    """cgroup v1 `cpu.stat` (throttled_time in ns) of the cgroup whose quota binds, not of an
    unlimited child nor of a looser parent; v2 writes the same two counters."""
    root = tmp_path / "cgroup"
    parent = root / "cpu" / "batch"
    write(parent / "cpu.cfs_quota_us", "150000\n")
    write(parent / "cpu.cfs_period_us", "100000\n")
    write(parent / "cpu.stat", "nr_periods 900\nnr_throttled 10\nthrottled_time 5\n")
    tight = parent / "loadgen"
    write(tight / "cpu.cfs_quota_us", "5000\n")
    write(tight / "cpu.cfs_period_us", "100000\n")
    write(tight / "cpu.stat", "nr_periods 40\nnr_throttled 30\nthrottled_time 7\n")
    write(tight / "free" / "cpu.cfs_quota_us", "-1\n")
    write(tight / "free" / "cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n")
    own = tmp_path / "self-cgroup"
    write(own, "3:cpu:/batch/loadgen/free\n")

    before = cgroup_cpu_throttling(root, own)
    assert before == CpuThrottling(tight, periods=40, throttled=30)
    write(tight / "cpu.stat", "nr_periods 42\nnr_throttled 32\nthrottled_time 9\n")
    too_few = cgroup_cpu_throttling(root, own)
    assert too_few is not None and too_few.throttled_fraction_since(before) is None
    write(tight / "cpu.stat", "nr_periods 140\nnr_throttled 110\nthrottled_time 9\n")
    after = cgroup_cpu_throttling(root, own)
    assert after is not None and after.throttled_fraction_since(before) == 0.8
    looser = CpuThrottling(parent, periods=0, throttled=0)
    assert after.throttled_fraction_since(looser) is None  # another cgroup's counters


def test_no_quota_or_no_counters_means_no_throttling_figure(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    write(root / "cpu.max", "max 100000\n")
    write(root / "cpu.stat", "usage_usec 10\nnr_periods 0\nnr_throttled 0\n")
    own = tmp_path / "self-cgroup"
    write(own, "0::/\n")
    assert cgroup_cpu_throttling(root, own) is None
    write(root / "cpu.max", "50000 100000\n")
    write(root / "cpu.stat", "usage_usec 10\n")  # a kernel without the counters
    assert cgroup_cpu_throttling(root, own) is None
