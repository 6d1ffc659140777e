"""CPU quota and memory limit from cgroup trees written to disk as the kernel lays them out."""

from __future__ import annotations

from pathlib import Path

from prodready.project.cpus import cgroup_cpu_quota, cgroup_memory_limit


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
