"""process_* metrics in multiprocess mode: one series per live worker, labelled with its pid."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

WORKERS = 2
PROCESS_METRICS = (
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
    "process_open_fds",
    "process_start_time_seconds",
)


def process_samples(text: str) -> dict[str, dict[int, float]]:
    found: dict[str, dict[int, float]] = {name: {} for name in PROCESS_METRICS}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in found:
                found[sample.name][int(sample.labels["pid"])] = sample.value
    return found


def test_every_worker_has_its_own_process_metrics(serve, tmp_path: Path) -> None:
    server = serve(
        "gunicorn",
        "flask_app:app",
        env={"PRODREADY_TEST_METRICS_DIR": str(tmp_path / "metrics")},
        extra_args=["-c", "gunicorn_conf.py", "-w", str(WORKERS)],
    )
    workers = server.worker_pids()
    assert len(workers) == WORKERS
    # Each worker must have served something to own metric files; keep asking until both have.
    deadline = time.monotonic() + 30
    while True:
        for _ in range(20):
            assert server.get("/hello").status_code == 200
        found = process_samples(server.get("/metrics").text)
        if set(found["process_resident_memory_bytes"]) >= workers or time.monotonic() > deadline:
            break

    for name in PROCESS_METRICS:
        assert set(found[name]) >= workers, (name, found[name], workers)
    for pid in workers:
        rss_kib = next(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        )
        # The same process, read a moment apart: within 50 % of what /proc says now.
        assert 0.5 < found["process_resident_memory_bytes"][pid] / (rss_kib * 1024) < 1.5
        assert found["process_open_fds"][pid] >= 3
        # A worker started after the test began and not in the future.
        assert time.time() - 300 < found["process_start_time_seconds"][pid] <= time.time()
