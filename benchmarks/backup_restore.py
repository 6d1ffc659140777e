"""Does `prodready backup` / `restore` cost little over doing it by hand, in flat memory?

Builds a PostgreSQL database with pgbench (`--scale 60` is about 1 GB; develop with 2), then per
round, interleaved, times:

- `prodready backup` (dump + verification by a restore into a scratch database) against
  `pg_dump -Fc` + `createdb` + `pg_restore` into a scratch database by hand;
- `prodready backup --no-verify` against `pg_dump -Fc` alone;
- `prodready restore` (restore into a new database, compare, swap) against
  `pg_restore --single-transaction` into a new database;

and the peak RSS of the prodready process (VmHWM, polled from /proc while it runs: its own memory,
not that of pg_dump / pg_restore). A CHECKPOINT before each timed step keeps one step's dirty
buffers off the next one's time, each pair (backup, restore) swaps order every round, and the
live database is vacuumed after the restore swapped in a fresh copy (as autovacuum would). Then
it runs the fault-injection suite (tests/backup/test_faults.py) and counts its cases.
Network only to 127.0.0.1. The last line:

    verify_total_over_manual=X backup_over_pg_dump=Y restore_over_pg_restore=Z peak_rss_mib=R
    faults_tried=N faults_caught=M live_db_changed=0 bad_backups_recorded=0

    .venv/bin/python benchmarks/backup_restore.py [--scale 60] [--rounds 1] [--no-faults]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PRODREADY = Path(sys.executable).parent / "prodready"
SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_ENV = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "postgres"}


def sh(*argv: str, timeout: float = 3600) -> None:
    """Runs a client tool to the end; any failure stops the benchmark."""
    subprocess.run(argv, env=PG_ENV, check=True, timeout=timeout, stdout=subprocess.DEVNULL)


def psql(query: str) -> str:
    done = subprocess.run(
        ["psql", "-At", "-d", "postgres", "-c", query],
        env=PG_ENV, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return done.stdout.strip()


def drop(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settle() -> None:
    """Writes out the dirty buffers the last step left (a restore leaves ~1 GB of them), so the
    next timed step does not pay for its predecessor's checkpoint."""
    psql("CHECKPOINT")


def timed(*argv: str) -> float:
    settle()
    start = time.perf_counter()
    sh(*argv)
    return time.perf_counter() - start


def plain_restore(target: str, dump: Path) -> float:
    """`createdb` + `pg_restore --single-transaction` into `target`, timed, then dropped."""
    settle()
    start = time.perf_counter()
    sh("createdb", "-T", "template0", target)
    sh("pg_restore", "--single-transaction", "--exit-on-error", "-d", target, str(dump))
    seconds = time.perf_counter() - start
    drop(target)
    return seconds


def prodready(*args: str) -> tuple[float, float, str]:
    """Runs prodready; returns (seconds, peak RSS in MiB of the prodready process, stdout).

    A thread samples the RSS while this one blocks in wait(): the run's end is seen the moment
    it comes, as for the peers run by subprocess.run, not up to a sampling period late."""
    settle()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(PRODREADY), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak_kib = 0
    status = Path(f"/proc/{proc.pid}/status")
    finished = threading.Event()

    def sample() -> None:
        nonlocal peak_kib
        while not finished.wait(0.05):
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kib = max(peak_kib, int(line.split()[1]))
            except OSError:
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    finished.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"prodready {' '.join(args)} failed ({proc.returncode}): {err}")
    return seconds, peak_kib / 1024, out


def run_faults() -> dict[str, int]:
    """Runs the fault-injection suite; each case appends its outcome to a log we count."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as log:
        path = Path(log.name)
    try:
        subprocess.run(
            [sys.executable, "-m", "pytest", "tests/backup/test_faults.py", "-q",
             "-p", "no:cacheprovider"],
            cwd=REPO, env={**os.environ, "PRODREADY_FAULT_LOG": str(path)}, check=False,
            timeout=1800,
        )  # fmt: skip
        cases = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    finally:
        path.unlink(missing_ok=True)
    return {
        "faults_tried": len(cases),
        "faults_caught": sum(bool(c["caught"]) for c in cases),
        "live_db_changed": sum(c["live_db_changed"] for c in cases),
        "bad_backups_recorded": sum(c["bad_backups_recorded"] for c in cases),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=60, help="pgbench scale (60 ≈ 1 GB)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-faults", action="store_true", help="skip the fault suite")
    args = parser.parse_args()

    name = f"bench_br_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="backup_restore_"))
    dest = work / "backups"
    common = ["--database", f"{SERVER}/{name}", "--dest", str(dest), "--dir", str(work), "-q"]
    ratios: dict[str, list[float]] = {"verify": [], "backup": [], "restore": []}
    peak = 0.0
    try:
        sh("createdb", name)
        sh("pgbench", "-i", "-q", "-s", str(args.scale), name)
        size = psql(f"SELECT pg_size_pretty(pg_database_size('{name}'))")
        print(f"database {name}: pgbench scale {args.scale}, {size}", file=sys.stderr)
        for round_ in range(args.rounds):
            first = round_ % 2 == 0  # prodready's step first every other round: no order bias
            if first:
                t_backup, rss, _ = prodready("backup", "--no-verify", "--json", *common)
                peak = max(peak, rss)
            dump = work / "manual.dump"
            t_dump = timed("pg_dump", "-Fc", "-f", str(dump), name)
            scratch = f"{name}_manual"
            settle()
            start = time.perf_counter()
            sh("createdb", "-T", "template0", scratch)
            sh("pg_restore", "--exit-on-error", "-d", scratch, str(dump))
            t_manual_restore = time.perf_counter() - start
            drop(scratch)

            t_verify, rss, out = prodready("backup", "--json", *common)
            peak = max(peak, rss)
            backup_id = json.loads(out)["id"]
            if not first:
                t_backup, rss, _ = prodready("backup", "--no-verify", "--json", *common)
                peak = max(peak, rss)

            if not first:
                t_plain_restore = plain_restore(f"{name}_plain", dump)
                t_restore, rss, _ = prodready("restore", backup_id, *common)
            else:
                t_restore, rss, _ = prodready("restore", backup_id, *common)
                t_plain_restore = plain_restore(f"{name}_plain", dump)
            peak = max(peak, rss)
            kept = f"SELECT datname FROM pg_database WHERE datname LIKE '{name}_prev_%'"
            for prev in psql(kept).split():  # the restore keeps the old copy: ours to drop
                drop(prev)
            # The restore swapped in a freshly loaded copy: its first reader would set the hint
            # bits of every row, on whichever backup goes first next round. A database in
            # service has them (autovacuum), as pgbench's had: back to that state, untimed.
            sh("vacuumdb", "--quiet", name)
            dump.unlink()

            ratios["verify"].append(t_verify / (t_dump + t_manual_restore))
            ratios["backup"].append(t_backup / t_dump)
            ratios["restore"].append(t_restore / t_plain_restore)
            print(
                f"round {round_ + 1}: pg_dump {t_dump:.1f} s, manual restore "
                f"{t_manual_restore:.1f} s, backup+verify {t_verify:.1f} s, "
                f"backup {t_backup:.1f} s, pg_restore -1 {t_plain_restore:.1f} s, "
                f"restore+swap {t_restore:.1f} s",
                file=sys.stderr,
            )
    finally:
        for db in psql(f"SELECT datname FROM pg_database WHERE datname LIKE '{name}%'").split():
            drop(db)
        subprocess.run(["rm", "-rf", str(work)], check=False)
    faults = (
        {"faults_tried": 0, "faults_caught": 0, "live_db_changed": 0, "bad_backups_recorded": 0}
        if args.no_faults
        else run_faults()
    )
    line = {
        "verify_total_over_manual": f"{statistics.median(ratios['verify']):.3f}",
        "backup_over_pg_dump": f"{statistics.median(ratios['backup']):.3f}",
        "restore_over_pg_restore": f"{statistics.median(ratios['restore']):.3f}",
        "peak_rss_mib": f"{peak:.1f}",
        **{key: str(value) for key, value in faults.items()},
    }
    print(" ".join(f"{key}={value}" for key, value in line.items()))


if __name__ == "__main__":
    main()
