"""Zero-downtime deploys under load: `prodready deploy` / `rollback` against a stop+start.

Real nginx on 127.0.0.1 in front of ROOT/run/app.sock (the upstream include `prodready deploy`
writes); `prodready load -c 50` against nginx for the whole of each run. For bookshop (Django)
and flashcards (FastAPI, local PostgreSQL and Redis) under Gunicorn, and bookshop under Granian:
a first deploy, then --deploys deploys and --rollbacks rollbacks under load. On bookshop with
Gunicorn, three broken releases are deployed under load too (an import error, a failing health
route, a failing migration): each must exit 1 with no failed request. Then the seeds' approach in
the same run: stop the serving generation and start it again (what `systemctl restart` does),
under the same load, counting its failed requests.

A failed request is a connection error, a timeout or a non-2xx answer. switch_p99_over_steady
is the worst p99 of the one-second windows holding a switch over the median p99 of the windows
before the first deploy; deploying_p99_over_steady the worst window of the whole deploys
(builds and boots on the same CPUs included). rollback_s is the median time from the rollback
command to the switch.

    python benchmarks/deploy_under_load.py [--deploys 2] [--rollbacks 1] [--rate 300]

The issue's full run is --deploys 5 --rollbacks 2; the defaults keep it near 3 minutes on 2
CPUs. The load is 50 connections at --rate requests/s (open model). With --rate 0 (closed loop,
as fast as the servers answer) the CPUs are saturated, and flashcards' own gunicorn.conf.py
(max_requests = 1000) recycles each worker every second or two: while the new generation boots
on the same two CPUs, the serving one's recycled workers cannot boot in time and it stalls
(timeouts). That is the example's setting meeting a saturated machine, and docs/deploy.md
reports it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from prodready.verify.deployfront import write_deploy_front_conf

REPO = Path(__file__).resolve().parents[1]


BIN = Path(sys.executable).parent
PRODREADY = str(BIN / "prodready")
SERVICES = {
    "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}
BROKEN_MIGRATION = """from django.db import migrations


def fail(apps, schema_editor):
    raise RuntimeError("this migration fails (deploy benchmark)")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(fail)]
"""


@dataclass(frozen=True)
class Case:
    name: str
    example: str
    server: str
    path: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    failed: int = 0
    switch_ratio: float = 0.0
    deploying_ratio: float = 0.0
    rollback_s: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A deploy root for one example and nginx in front of its stable socket."""

    def __init__(self, work: Path, case: Case) -> None:
        self.case = case
        self.source = work / f"{case.name}-src"
        shutil.copytree(
            REPO / "examples" / case.example,
            self.source,
            ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"),
        )
        self.root = work / f"{case.name}-root"
        (self.root / "shared").mkdir(parents=True)
        env_lines = "".join(f"{k}={v}\n" for k, v in case.env.items())
        (self.root / "shared" / ".env.production").write_text(env_lines)
        self.nginx_dir = work / f"{case.name}-nginx"
        self.nginx_dir.mkdir()
        self.port = free_port()
        self.conf = self.nginx_dir / "nginx.conf"
        write_deploy_front_conf(
            self.conf, self.root, self.port, connections=1024, keepalive=32, host="localhost"
        )
        self.nginx: subprocess.Popen[bytes] | None = None

    def prodready(self, *args: str) -> subprocess.CompletedProcess[str]:
        nginx = ["--nginx-prefix", str(self.nginx_dir), "--nginx-conf", str(self.conf)]
        common = ["--root", str(self.root), "--server", self.case.server, *nginx]
        return subprocess.run(
            [PRODREADY, *args, *common], capture_output=True, text=True, timeout=300, check=False
        )

    def deploy(self, *args: str, source: Path | None = None) -> subprocess.CompletedProcess[str]:
        return self.prodready("deploy", str(source or self.source), "--skip-check", *args)

    def start_nginx(self) -> None:
        self.nginx = subprocess.Popen(["nginx", "-p", str(self.nginx_dir), "-c", str(self.conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("nginx did not start")

    def switch_times(self) -> list[float]:
        """Wall-clock times of the switches recorded in deploy.log."""
        lines = [json.loads(line) for line in (self.root / "deploy.log").read_text().splitlines()]
        return [
            datetime.fromisoformat(line["at"]).timestamp()
            for line in lines
            if line["step"] == "switch" and line["status"] == "ok"
        ]

    def stop(self) -> None:
        for pidfile in (self.root / "run").glob("*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(pidfile.read_text().split()[0]), signal.SIGTERM)
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(timeout=10)


class Load:
    """`prodready load -c 50` against nginx until stopped; its JSON report."""

    def __init__(self, stack: Stack, report: Path, rate: int) -> None:
        self.report = report
        url = f"http://127.0.0.1:{stack.port}{stack.case.path}"
        argv = [PRODREADY, "load", url, "-c", "50", "-d", "900s", "-w", "1", "--json", str(report)]
        if rate:
            argv += ["--rate", str(rate)]
        self.started = time.time()
        self.process = subprocess.Popen([*argv, "-q"], stderr=subprocess.DEVNULL)

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        return json.loads(self.report.read_text())


def failed_requests(report: dict) -> int:
    """Transport errors and every answer outside 2xx (errors already holds those of 400+)."""
    return int(report["summary"]["errors"]) + sum(_odd_statuses(report).values())


def _odd_statuses(report: dict) -> dict[str, int]:
    """Answers that are neither 2xx nor errors (1xx, 3xx)."""
    return {
        code: n
        for code, n in report["status_codes"].items()
        if not code.startswith("2") and int(code) < 400
    }


def _failure_kinds(report: dict) -> str:
    """' (timeout 2, 502 1)': what the failed requests were, when there were any."""
    kinds = {**report["errors_by_kind"], **_odd_statuses(report)}
    return f" ({', '.join(f'{k} {n}' for k, n in kinds.items())})" if kinds else ""


def window_p99(report: dict, started: float, moments: list[float]) -> list[float]:
    """p99 of the one-second windows that hold each moment (and the one after)."""
    timeline = report["timeline"]
    worst = []
    for moment in moments:
        index = int(moment - started)
        windows = [w["p99_ms"] for w in timeline[index : index + 2] if w["responses"]]
        if windows:
            worst.append(max(windows))
    return worst


def run_case(
    stack: Stack, deploys: int, rollbacks: int, rate: int, broken: bool, work: Path
) -> Result:
    result = Result()
    first = stack.deploy()
    if first.returncode != 0:
        raise SystemExit(f"{stack.case.name}: first deploy failed:\n{first.stderr}")
    stack.start_nginx()
    load = Load(stack, work / f"{stack.case.name}-load.json", rate)
    time.sleep(5)  # the steady windows
    steady_until = time.time()
    for _ in range(deploys):
        done = stack.deploy()
        if done.returncode != 0:
            raise SystemExit(f"{stack.case.name}: deploy failed:\n{done.stderr}")
    deploys_until = time.time()
    for _ in range(rollbacks):
        start = time.monotonic()
        done = stack.prodready("rollback")
        if done.returncode != 0:
            raise SystemExit(f"{stack.case.name}: rollback failed:\n{done.stderr}")
        drained = _drain_seconds(stack.root)
        result.rollback_s.append(time.monotonic() - start - drained)
    if broken:
        result.notes.extend(_broken_releases(stack, work))
    time.sleep(1)
    report = load.stop()
    result.failed = failed_requests(report)
    steady = [
        w["p99_ms"]
        for w in report["timeline"][1 : int(steady_until - load.started)]
        if w["responses"]
    ]
    switches = [t for t in stack.switch_times() if t > steady_until]
    during = window_p99(report, load.started, switches)
    result.switch_ratio = max(during) / statistics.median(steady) if during and steady else 0.0
    deploying = [
        w["p99_ms"]
        for w in report["timeline"][
            int(steady_until - load.started) : int(deploys_until - load.started) + 1
        ]
        if w["responses"]
    ]
    result.deploying_ratio = max(deploying) / statistics.median(steady)
    result.notes.append(
        f"{stack.case.name}: {report['summary']['responses']} responses, "
        f"{result.failed} failed{_failure_kinds(report)}, "
        f"steady p99 {statistics.median(steady):.1f} ms, "
        f"switch p99 {max(during, default=0):.1f} ms, worst p99 while deploying "
        f"{max(deploying):.1f} ms"
    )
    return result


def _drain_seconds(root: Path) -> float:
    last = json.loads((root / "deploy.log").read_text().splitlines()[-1])
    lines = [json.loads(x) for x in (root / "deploy.log").read_text().splitlines()]
    return sum(x["seconds"] for x in lines if x["run"] == last["run"] and x["step"] == "drain")


def _broken_releases(stack: Stack, work: Path) -> list[str]:
    """An import error, a failing health route, a failing migration: each must exit 1."""
    notes = []
    import_error = work / "broken-import"
    shutil.copytree(stack.source, import_error)
    wsgi = import_error / "bookshop" / "wsgi.py"
    wsgi.write_text(wsgi.read_text() + "\nraise ImportError('broken release')\n")
    migration = work / "broken-migration"
    shutil.copytree(stack.source, migration)
    (migration / "catalog" / "migrations" / "0002_fails.py").write_text(BROKEN_MIGRATION)
    for what, source, args in [
        ("import error", import_error, ["--timeout", "20"]),
        ("failing health", stack.source, ["--health-path", "/no-such-route", "--timeout", "8"]),
        ("failing migration", migration, []),
    ]:
        done = stack.deploy(*args, source=source)
        first = done.stderr.splitlines()[0] if done.stderr else ""
        notes.append(f"broken release ({what}): exit {done.returncode}: {first}")
        if done.returncode != 1:
            raise SystemExit(f"a broken release ({what}) exited {done.returncode}, not 1")
    return notes


def restart_failures(stack: Stack, work: Path, rate: int) -> int:
    """The seeds' deploy.sh: stop the server, start it again, under the same load."""
    load = Load(stack, work / f"{stack.case.name}-restart.json", rate)
    time.sleep(3)
    current = (stack.root / "current").resolve().name
    pidfile = stack.root / "run" / f"{current}.pid"
    pid = int(pidfile.read_text().split()[0])
    os.kill(pid, signal.SIGTERM)
    while Path(f"/proc/{pid}").exists() and b"Z" not in Path(f"/proc/{pid}/stat").read_bytes():
        time.sleep(0.05)
    release = stack.root / "releases" / current
    from prodready.deploy.releasestep import release_env

    restarted = subprocess.Popen(
        [
            str(release / ".venv" / "bin" / "python"), "-m", "prodready.cli.main", "serve",
            "--dir", str(release), "--server", stack.case.server,
            "--bind", f"unix:{stack.root / 'run' / f'{current}.sock'}",
        ],
        cwd=release, env=release_env(release), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    pidfile.write_text(f"{restarted.pid} 0\n")
    time.sleep(12)  # until it serves again, and a little more
    report = load.stop()
    os.killpg(restarted.pid, signal.SIGTERM)
    restarted.wait(timeout=60)
    return failed_requests(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deploys", type=int, default=2)
    parser.add_argument("--rollbacks", type=int, default=1)
    parser.add_argument(
        "--rate", type=int, default=300, help="requests/s over the 50 connections; 0: closed loop"
    )
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is not installed (scripts/ensure-system-deps.sh installs it)")
    cases = [
        Case("bookshop-gunicorn", "bookshop", "gunicorn", "/"),
        Case("flashcards-gunicorn", "flashcards", "gunicorn", "/api/health", SERVICES),
        Case("bookshop-granian", "bookshop", "granian", "/"),
    ]
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="prodready-deploy-bench-"))
    results: dict[str, Result] = {}
    restart = 0
    try:
        for case in cases:
            stack = Stack(work, case)
            try:
                broken = case.name == "bookshop-gunicorn"
                results[case.name] = run_case(
                    stack, args.deploys, args.rollbacks, args.rate, broken, work
                )
                if broken:
                    restart = restart_failures(stack, work, args.rate)
            finally:
                stack.stop()
            for note in results[case.name].notes:
                print(note, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    gunicorn = [r for name, r in results.items() if name.endswith("gunicorn")]
    granian = [r for name, r in results.items() if name.endswith("granian")]
    rollback_s = statistics.median(s for r in results.values() for s in r.rollback_s)
    ratio = max(r.switch_ratio for r in results.values())
    deploying = max(r.deploying_ratio for r in results.values())
    print(f"total {time.monotonic() - started:.0f} s")
    print(
        f"deploy_failed_requests={sum(r.failed for r in gunicorn)} rollback_s={rollback_s:.2f} "
        f"switch_p99_over_steady={ratio:.2f} deploying_p99_over_steady={deploying:.2f} "
        f"restart_failed_requests={restart} "
        f"granian_deploy_failed_requests={sum(r.failed for r in granian)}"
    )


if __name__ == "__main__":
    main()
