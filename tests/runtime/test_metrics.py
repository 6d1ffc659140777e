"""/metrics under real Gunicorn workers that recycle: exact counts, bounded files, fast scrapes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from runtime_support import Server

from prodready.runtime.metrics import metric_files


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def scrape_when_idle(server: Server, timeout: float = 5.0) -> str:
    """/metrics once no request is in flight. The kit records a request when the app returns,
    and Django's ASGI handler answers the client before it returns (it closes the request in
    a thread afterwards), so a scrape right after the answer can come first."""
    deadline = time.monotonic() + timeout
    while True:
        text = server.get("/metrics").text
        idle = all(value == 0 for _, value in samples(text, "http_requests_in_progress"))
        if idle or time.monotonic() > deadline:
            return text
        time.sleep(0.02)


def total_requests(text: str, **labels: str) -> float:
    return sum(
        value
        for sample_labels, value in samples(text, "http_requests_total")
        if all(sample_labels.get(k) == v for k, v in labels.items())
    )


def gunicorn_env(metrics_dir: Path) -> dict[str, str]:
    return {"PRODREADY_TEST_METRICS_DIR": str(metrics_dir)}


def test_counts_add_up_across_recycling_workers(serve, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    server = serve(
        "gunicorn",
        "flask_app:app",
        env=gunicorn_env(metrics_dir),
        extra_args=["-c", "gunicorn_conf.py", "-w", "4", "--max-requests", "25",
                    "--max-requests-jitter", "10", "--preload"],
    )  # fmt: skip
    requests_sent = 400
    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = [f"/items/{i}" for i in range(requests_sent)]
        statuses = list(pool.map(lambda path: server.get(path).status_code, paths))
    assert statuses == [200] * requests_sent
    text = server.get("/metrics").text
    assert total_requests(text) == requests_sent
    assert total_requests(text, route="/items/<int:item_id>", method="GET", status="200") == 400
    counts = samples(text, "http_request_duration_seconds_count")
    assert sum(value for _, value in counts) == requests_sent
    # Workers recycled ~16 times but their files were folded into the archives.
    assert len(metric_files(metrics_dir)) <= 30


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~1 min on an idle machine; Gunicorn spawns workers one by one
def test_scrape_after_1000_recycles_is_as_fast_as_the_first(serve, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    server = serve(
        "gunicorn",
        "wsgi_app:app",
        env=gunicorn_env(metrics_dir),
        extra_args=["-c", "gunicorn_conf.py", "-w", "4", "--max-requests", "1", "--preload"],
    )
    _, first_scrape = _timed_scrape(server)
    recycles = 1000
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: server.get("/hello").status_code, range(recycles)))
    assert statuses == [200] * recycles
    text, last_scrape = _timed_scrape(server)
    # Scrapes are requests too, and recycle workers as well: count only /hello.
    assert total_requests(text, route="<unmatched>") == recycles
    files = metric_files(metrics_dir)
    # 3 files per live process (workers and the preloading master) and 2 archives; without
    # the folding there would be 3,000.
    assert len(files) <= 30, f"{len(files)} metric files after {recycles} recycles"
    # Generous bound: a scrape over thousands of files takes seconds, not milliseconds.
    assert last_scrape < max(1.0, 10 * first_scrape)


def _timed_scrape(server) -> tuple[str, float]:
    started = time.perf_counter()
    response = server.get("/metrics")
    assert response.status_code == 200
    return response.text, time.perf_counter() - started


def test_mark_worker_dead_folds_files_exactly(tmp_path: Path, monkeypatch) -> None:
    """Three processes write metrics; two die and are folded; totals do not move."""
    metrics_dir = tmp_path / "metrics"
    writer = (
        "import os, sys\n"
        "from prodready.runtime.metrics import prepare_multiprocess_dir\n"
        "os.environ['PROMETHEUS_MULTIPROC_DIR'] = sys.argv[1]\n"
        "from prometheus_client import Counter, Gauge, Histogram\n"
        "c = Counter('jobs_total', 'jobs', ['kind'])\n"
        "h = Histogram('job_seconds', 'time')\n"
        "g = Gauge('queue_max', 'max', multiprocess_mode='max')\n"
        "live = Gauge('busy', 'busy', multiprocess_mode='livesum')\n"
        "n = int(sys.argv[2])\n"
        "for i in range(n):\n"
        "    c.labels('a' if i % 2 else 'b').inc()\n"
        "    h.observe(i / 10)\n"
        "g.set(n); live.set(1)\n"
        "print(os.getpid())\n"
    )
    from prodready.runtime.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    monkeypatch.setenv(MULTIPROC_ENV, "restored after the test")
    prepare_multiprocess_dir(metrics_dir)
    pids = []
    for n in (5, 7, 11):
        out = subprocess.run(
            [sys.executable, "-c", writer, str(metrics_dir), str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        pids.append(int(out.stdout))
    before = _collect(metrics_dir)
    assert before["jobs_total"] == 23 and before["job_seconds_count"] == 23
    assert before["queue_max"] == 11 and before["busy"] == 3

    subprocess.run(
        [sys.executable, "-c", "import sys; from prodready.runtime.metrics import "
         "mark_worker_dead; [mark_worker_dead(int(p), sys.argv[1]) for p in sys.argv[2:]]",
         str(metrics_dir), str(pids[0]), str(pids[2])],
        check=True,
    )  # fmt: skip
    after = _collect(metrics_dir)
    assert after["jobs_total"] == 23 and after["job_seconds_count"] == 23
    assert after["job_seconds_sum"] == pytest.approx(before["job_seconds_sum"])
    assert after["queue_max"] == 11
    assert after["busy"] == 1, "dead workers are no longer live"
    names = sorted(p.name for p in metrics_dir.glob("*.db"))
    assert not any(str(pids[0]) in name or str(pids[2]) in name for name in names)
    assert "counter_archive.db" in names and "histogram_archive.db" in names


def _collect(metrics_dir: Path) -> dict[str, float]:
    code = (
        "import sys, os\n"
        "os.environ['PROMETHEUS_MULTIPROC_DIR'] = sys.argv[1]\n"
        "from prodready.runtime.metrics import render_latest\n"
        "sys.stdout.write(render_latest().decode())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(metrics_dir)], capture_output=True, text=True, check=True
    )
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(out.stdout):
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                continue
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def test_prepare_empties_previous_run(tmp_path: Path, monkeypatch) -> None:
    from prodready.runtime.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

    metrics_dir = tmp_path / "m"
    metrics_dir.mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"old")
    monkeypatch.setenv(MULTIPROC_ENV, "restored after the test")
    prepare_multiprocess_dir(metrics_dir)
    assert os.environ[MULTIPROC_ENV] == str(metrics_dir.resolve())
    assert metric_files(metrics_dir) == []


def test_route_label_is_the_template_and_unmatched_paths_share_one(serve) -> None:
    server = serve("uvicorn", "fastapi_app:app")
    for i in range(5):
        server.get(f"/items/{i}")
        server.get(f"/no/such/path/{i}")
    text = server.get("/metrics").text
    routes = {labels["route"] for labels, _ in samples(text, "http_requests_total")}
    assert routes == {"/items/{item_id}", "<unmatched>"}
    assert total_requests(text, route="<unmatched>", status="404") == 5
    assert any(s.name.startswith("process_") for f in text_string_to_metric_families(text)
               for s in f.samples)  # fmt: skip
    assert samples(text, "http_requests_in_progress") == [({}, 0.0)]


def test_route_labels_under_mounts_carry_the_mounts_templates(serve) -> None:
    server = serve("uvicorn", "fastapi_app:app")
    for tenant in ("acme", "globex"):
        assert server.get(f"/tenants/{tenant}/v1/orders/7").json() == {"order": 7}
    assert server.get("/tenants/acme/v1/nothing").status_code == 404
    text = server.get("/metrics").text
    assert total_requests(text, route="/tenants/{tenant}/v1/orders/{order_id}", status="200") == 2
    assert total_requests(text, route="<unmatched>", status="404") == 1


def test_route_labels_of_included_routers_carry_the_include_prefixes(serve) -> None:
    server = serve("uvicorn", "fastapi_app:app")
    for tenant in ("acme", "globex"):
        assert server.get(f"/{tenant}/api/v1/decks/3/cards/4").json() == {"deck": 3, "card": 4}
    assert server.get("/legacy/decks/5/cards/6").status_code == 200
    text = server.get("/metrics").text
    routes = {labels["route"] for labels, _ in samples(text, "http_requests_total")}
    assert routes == {"/{tenant}/api/v1/decks/{deck_id}/cards/{card_id}",
                      "/legacy/decks/{deck_id}/cards/{card_id}"}  # fmt: skip
    server.stop()  # the access lines are written by then
    logged = {r["route"] for r in server.log_records() if r.get("path", "").endswith("/cards/6")}
    assert logged == {"/legacy/decks/{deck_id}/cards/{card_id}"}


@pytest.mark.parametrize(("kind", "target"), [("gunicorn", "django_app:application"),
                                              ("uvicorn", "django_asgi_app:application"),
                                              ("gunicorn", "flask_app:app")])  # fmt: skip
def test_route_templates_in_django_and_flask(serve, kind: str, target: str) -> None:
    server = serve(kind, target)
    for i in range(3):
        assert server.get(f"/items/{i}").status_code == 200
    server.get("/no/such/page")
    text = scrape_when_idle(server)
    assert total_requests(text, route="/items/<int:item_id>", status="200") == 3
    assert total_requests(text, route="<unmatched>", status="404") == 1
