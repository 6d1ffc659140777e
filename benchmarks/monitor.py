"""Is `prodready monitor` fast to detect, quiet on blips, one alert per storm, silent after a
restart, and cheap? Measured against the same monitor set to Gatus's defaults, in one run.

Everything runs against a local switchable target server (tests/monitor/target_server.py, its
own process on 127.0.0.1) at the real 10 s interval; network only to 127.0.0.1.

- detect: endpoints whose outage is injected at a random moment; the time from the injection
  to `down` for prodready (a failed probe re-checked at once and after 1 s) and for the same
  monitor set to Gatus's defaults (failure threshold 3, no re-check) on the same schedule, in
  the same process, at the same time;
- blips: single-probe failures (one failed answer between successes) injected again as soon as
  each is seen; false alerts = endpoints declared down + notifications sent;
- storm: 50 endpoints go down within 5 s: notifications at a real local webhook; then the
  monitor is restarted while the incident is open (notifications after the restart are
  duplicates), then all recover within 5 s (resolved notifications);
- cpu: `prodready monitor` as its own process watching 1,000 HTTP endpoints at 10 s: its CPU
  time over the probes it made (and the share of one core);
- storage: a simulated year (tests/monitor/yearsim.py) through the store: MB per endpoint-year.

Default run (about 2 minutes here): 20 + 20 detect endpoints, 200 blips, 20 endpoints for storage.
Full size (about 3 minutes): --detect-endpoints 100 --blips 1000 --year-endpoints 100. Last line:

    detect_median_s=… gatus_style_detect_median_s=… false_alerts=… storm_notifications=…
    duplicate_after_restart=… cpu_us_per_probe=… db_mb_per_endpoint_year=…

    .venv/bin/python benchmarks/monitor.py [--detect-endpoints 20] [--blips 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from prodready.monitor.config import Alerting, Endpoint, MonitorConfig  # noqa: E402
from prodready.monitor.scheduler import Monitor  # noqa: E402
from prodready.monitor.store import Store  # noqa: E402
from tests.monitor.receivers import WebhookReceiver  # noqa: E402
from tests.monitor.yearsim import simulate_year  # noqa: E402

PRODREADY = Path(sys.executable).parent / "prodready"
TARGET = REPO / "tests" / "monitor" / "target_server.py"
INTERVAL = 10.0


def start_target() -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen([sys.executable, str(TARGET)], stdout=subprocess.PIPE)
    assert process.stdout is not None
    return process, f"http://127.0.0.1:{int(process.stdout.readline())}"


def config_for(
    base: str, names: list[str], store: Path, gatus_style: bool = False, **alerting: Any
) -> MonitorConfig:
    endpoints = tuple(
        Endpoint(name=n, url=f"{base}/{n}", kind="http", interval=INTERVAL, timeout=5.0)
        for n in names
    )
    made = MonitorConfig(endpoints=endpoints, store=store, alerting=Alerting(**alerting))
    return replace(made, rechecks=0, failure_threshold=3) if gatus_style else made


class Watch:
    """One in-process monitor, its events and a stop switch."""

    def __init__(self, config: MonitorConfig) -> None:
        self.store = Store(config.store)
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.monitor = Monitor(config, self.store, self._on_event)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.monitor.run(self.stop))

    def _on_event(self, event: dict[str, Any]) -> None:
        self.events.append((time.monotonic(), event))

    def named(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(at, e) for at, e in self.events if e["event"] == kind]

    async def close(self) -> None:
        self.stop.set()
        await self.task
        self.store.close()


async def set_mode(session: aiohttp.ClientSession, base: str, mode: str, *names: str) -> None:
    params = [("mode", mode), *(("name", n) for n in names)]
    async with session.post(f"{base}/_mode", params=params) as response:
        response.raise_for_status()


async def until(condition: Any, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def detect(
    session: aiohttp.ClientSession, base: str, folder: Path, count: int, webhook: str
) -> tuple[list[float], list[float]]:
    """Outages injected at random moments: seconds to `down` for prodready and Gatus-style."""
    ours_names = [f"detect-pr-{i}" for i in range(count)]
    gatus_names = [f"detect-gatus-{i}" for i in range(count)]
    ours = Watch(config_for(base, ours_names, folder / "detect-pr.db", webhooks=(webhook,)))
    gatus = Watch(
        config_for(base, gatus_names, folder / "detect-gatus.db", True, webhooks=(webhook,))
    )
    await asyncio.sleep(INTERVAL + 1)  # every endpoint probed up at least once
    injected: dict[str, float] = {}
    rng = random.Random(16)
    moments = sorted(
        (rng.uniform(0, INTERVAL), pair) for pair in zip(ours_names, gatus_names, strict=True)
    )
    started = time.monotonic()
    for offset, pair in moments:
        await asyncio.sleep(max(0.0, started + offset - time.monotonic()))
        await set_mode(session, base, "down", *pair)
        now = time.monotonic()
        injected.update({pair[0]: now, pair[1]: now})
    await until(
        lambda: len(ours.named("down")) + len(gatus.named("down")) >= 2 * count, 6 * INTERVAL
    )
    await ours.close()
    await gatus.close()

    def delays(watch: Watch) -> list[float]:
        return [at - injected[e["endpoint"]] for at, e in watch.named("down")]

    return delays(ours), delays(gatus)


async def blips(
    session: aiohttp.ClientSession, base: str, folder: Path, wanted: int, webhook: str
) -> tuple[int, int]:
    """Single-probe failures, each re-armed once the monitor saw it: (blips, false alerts)."""
    names = [f"blip-{i}" for i in range(100)]
    watch = Watch(config_for(base, names, folder / "blips.db", webhooks=(webhook,)))
    await set_mode(session, base, "blip", *names)
    seen = 0
    deadline = time.monotonic() + wanted / 10 * 3 + 60
    while seen < wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        fresh = [e["endpoint"] for _, e in watch.named("blip")[seen:]]
        seen += len(fresh)
        if fresh and seen < wanted:
            await set_mode(session, base, "blip", *fresh)
    await asyncio.sleep(INTERVAL / 2)
    async with session.get(f"{base}/_blips") as response:
        served = int(await response.json())
    await watch.close()
    false_alerts = len(watch.named("down")) + len(watch.named("notified"))
    return served, false_alerts


async def storm(
    session: aiohttp.ClientSession, base: str, folder: Path, receiver: WebhookReceiver
) -> dict[str, int]:
    """50 endpoints down within 5 s; a restart mid-incident; recovery within 5 s."""
    names = [f"storm-{i}" for i in range(50)]
    config = config_for(base, names, folder / "storm.db", webhooks=(receiver.url,))
    watch = Watch(config)
    await asyncio.sleep(INTERVAL + 1)
    for start in range(0, 50, 10):
        await set_mode(session, base, "down", *names[start : start + 10])
        await asyncio.sleep(1.0)
    await until(lambda: len(watch.named("down")) >= 50, 4 * INTERVAL)
    await until(lambda: len(watch.named("notified")) >= 1, 2 * INTERVAL)
    await asyncio.sleep(config.alerting.group_wait + 2)
    await watch.close()
    firing = len(receiver.received)
    watch = Watch(config)  # the restart, while all 50 are still down
    await asyncio.sleep(2 * INTERVAL)
    duplicates = len(receiver.received) - firing
    for start in range(0, 50, 10):
        await set_mode(session, base, "healthy", *names[start : start + 10])
        await asyncio.sleep(1.0)
    await until(lambda: len(watch.named("up")) >= 50, 5 * INTERVAL)
    await asyncio.sleep(config.alerting.group_wait + 2)
    await until(lambda: len(receiver.received) > firing + duplicates, INTERVAL)
    await watch.close()
    resolved = len(receiver.received) - firing - duplicates
    return {"firing": firing, "duplicates": duplicates, "resolved": resolved}


def cpu_per_probe(
    base: str, folder: Path, endpoints: int, seconds: float
) -> tuple[float, float, int]:
    """`prodready monitor` as a process over `endpoints` HTTP endpoints at 10 s: CPU-us per probe
    and % of one core, measured after the first round (start-up excluded)."""
    config = folder / "cpu.toml"
    lines = [f'[monitor]\ninterval = "10s"\ntimeout = "5s"\nstore = "{folder / "cpu.db"}"\n']
    lines += [
        f'[[endpoints]]\nname = "cpu-{i}"\nurl = "{base}/cpu-{i}"\n' for i in range(endpoints)
    ]
    config.write_text("\n".join(lines))
    process = subprocess.Popen(
        [
            str(PRODREADY),
            "monitor",
            str(config),
            "--for",
            f"{seconds + INTERVAL + 2:.0f}s",
            "--json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watched = psutil.Process(process.pid)
    time.sleep(INTERVAL)
    before_cpu, before_wall = sum(watched.cpu_times()[:2]), time.monotonic()
    store = Store(folder / "cpu.db")
    before_rows = store.db.execute("SELECT count(*) FROM results").fetchone()[0]
    time.sleep(seconds)
    after_cpu, after_wall = sum(watched.cpu_times()[:2]), time.monotonic()
    time.sleep(1.5)  # results are flushed every 0.25 s
    probes = store.db.execute("SELECT count(*) FROM results").fetchone()[0] - before_rows
    store.close()
    process.wait(timeout=INTERVAL + 30)
    cpu = after_cpu - before_cpu
    return cpu / max(probes, 1) * 1e6, cpu / (after_wall - before_wall) * 100, probes


async def live_parts(base: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    with WebhookReceiver() as storm_hook, WebhookReceiver() as blip_hook, WebhookReceiver() as hook:
        async with aiohttp.ClientSession() as session:
            (ours, gatus), (served, false_alerts), storm_counts = await asyncio.gather(
                detect(session, base, folder, args.detect_endpoints, hook.url),
                blips(session, base, folder, args.blips, blip_hook.url),
                storm(session, base, folder, storm_hook),
            )
    return {
        "ours": ours,
        "gatus": gatus,
        "blips": served,
        "false_alerts": false_alerts,
        **storm_counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detect-endpoints", type=int, default=20, help="per monitor [20]")
    parser.add_argument("--blips", type=int, default=200, help="single-probe blips [200]")
    parser.add_argument("--cpu-endpoints", type=int, default=1000, help="[1000]")
    parser.add_argument("--cpu-seconds", type=float, default=30.0, help="measured window [30]")
    parser.add_argument("--year-endpoints", type=int, default=20, help="simulated year [20]")
    args = parser.parse_args()
    target, base = start_target()
    try:
        with tempfile.TemporaryDirectory(prefix="prodready-monitor-bench-") as scratch:
            folder = Path(scratch)
            live = asyncio.run(live_parts(base, folder, args))
            cpu_us, core_percent, probes = cpu_per_probe(
                base, folder, args.cpu_endpoints, args.cpu_seconds
            )
            year_store = simulate_year(
                folder / "year.db", endpoints=args.year_endpoints, interval=30
            )
            db_mb = year_store.size_bytes() / 1e6 / args.year_endpoints
            year_store.close()
    finally:
        target.terminate()
        target.wait(timeout=10)
    ours, gatus = live["ours"], live["gatus"]
    print(
        f"detect ({len(ours)} + {len(gatus)} outages at a 10 s interval): prodready median "
        f"{statistics.median(ours):.1f} s (max {max(ours):.1f}), Gatus-style median "
        f"{statistics.median(gatus):.1f} s (max {max(gatus):.1f}): "
        f"{statistics.median(gatus) / statistics.median(ours):.1f}x faster"
    )
    print(f"blips: {live['blips']} single-probe failures, {live['false_alerts']} false alerts")
    print(
        f"storm: 50 endpoints down within 5 s -> {live['firing']} notification(s); restart "
        f"mid-incident -> {live['duplicates']} duplicate(s); recovery -> {live['resolved']}"
    )
    print(
        f"cpu: {args.cpu_endpoints} endpoints at 10 s: {probes} probes in "
        f"{args.cpu_seconds:.0f} s, "
        f"{cpu_us:.0f} CPU-us per probe, {core_percent:.1f}% of one core"
    )
    print(
        f"storage: a simulated year of {args.year_endpoints} endpoints at 30 s: "
        f"{db_mb:.2f} MB per endpoint-year"
    )
    print(
        f"detect_median_s={statistics.median(ours):.1f} "
        f"gatus_style_detect_median_s={statistics.median(gatus):.1f} "
        f"false_alerts={live['false_alerts']} storm_notifications={live['firing']} "
        f"storm_resolved_notifications={live['resolved']} "
        f"duplicate_after_restart={live['duplicates']} cpu_us_per_probe={cpu_us:.0f} "
        f"cpu_core_percent={core_percent:.1f} db_mb_per_endpoint_year={db_mb:.2f}"
    )


if __name__ == "__main__":
    main()
