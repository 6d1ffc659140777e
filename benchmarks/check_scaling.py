"""Does `prodready check` take time linear in files and in compose services?

For each kind of input (nginx site files, one folder of them sharing a file level, Dockerfiles,
a compose file with a depends_on chain) builds a tree of n and of 4n, times `prodready check`
on each (median of a few rounds, interleaved), and prints the 4n/n time ratio: near 4 is
linear, near 16 quadratic. Each run is `run_check` (what `prodready check` runs) in a fresh
process, timed without the interpreter's start and the imports. Compare ratios, never absolute
times: the machine is shared. The last line holds the ratios as name=value pairs.

    .venv/bin/python benchmarks/check_scaling.py [--files 1000] [--services 1500] [--rounds 3]

Issue 12 item 14 measured 110 s for 10k nginx files or Dockerfiles and 234 s for 22k services.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_speed import NGINX  # the same site file check_speed.py measures

FLAT_NGINX = "limit_req_zone $binary_remote_addr zone=z{n}:10m rate=1r/s;\n" + NGINX
DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
ENV APP_NAME=svc{n}
COPY . .
CMD gunicorn -b 0.0.0.0:{port} svc{n}.app:app
"""
SERVICE = """\
  s{n}:
    build: .
    command: gunicorn -b 0.0.0.0:8000 app:app
    ports: ["{port}:8000"]
    volumes: ["./data{n}:/data"]
    environment:
      DATABASE_URL: postgresql://app:${{DB_PASSWORD}}@db/app
"""
SERVICE_DEPENDS = "    depends_on:\n      s{previous}:\n        condition: service_started\n"


def nginx_sites(root: Path, n: int) -> None:
    """Site files in folders of 100, as conf.d trees of many projects look."""
    for index in range(n):
        path = root / f"nginx{index // 100}" / f"site{index}.conf"
        path.parent.mkdir(exist_ok=True)
        path.write_text(NGINX.format(n=index, port=8000 + index % 1000))


def nginx_one_folder(root: Path, n: int) -> None:
    """Every site file in one folder, each with a file-level directive: their shared http
    level holds n directives."""
    (root / "conf.d").mkdir()
    for index in range(n):
        text = FLAT_NGINX.format(n=index, port=8000 + index % 1000)
        (root / "conf.d" / f"site{index}.conf").write_text(text)


def dockerfiles(root: Path, n: int) -> None:
    for index in range(n):
        (root / f"svc{index}").mkdir()
        text = DOCKERFILE.format(n=index, port=8000 + index % 1000)
        (root / f"svc{index}" / "Dockerfile").write_text(text)


def compose_services(root: Path, n: int) -> None:
    """One compose file, each service built from the root Dockerfile and depending on the one
    before it."""
    (root / "Dockerfile").write_text(DOCKERFILE.format(n=0, port=8000))
    parts = ["services:\n"]
    for index in range(n):
        parts.append(SERVICE.format(n=index, port=10000 + index % 50000))
        if index:
            parts.append(SERVICE_DEPENDS.format(previous=index - 1))
    text = "".join(parts)
    if len(text) > 2_000_000:  # check skips a file above 2 MB: there would be nothing to time
        raise SystemExit(f"{n} services make {len(text):,} bytes, above 2 MB: use fewer")
    (root / "compose.yaml").write_text(text)


KINDS: dict[str, tuple[Callable[[Path, int], None], str]] = {
    "nginx": (nginx_sites, "files"),
    "nginx_one_folder": (nginx_one_folder, "files"),
    "dockerfile": (dockerfiles, "files"),
    "compose_services": (compose_services, "services"),
}


TIMED_CHECK = """
import sys, time
from pathlib import Path
from prodready.check.engine import run_check
from prodready.check.registry import load_rules
load_rules()
start = time.perf_counter()
run_check(Path(sys.argv[1]))
print(time.perf_counter() - start)
"""
"""Times the check itself in a fresh process: the interpreter's start and the imports (a fixed
cost, noisy on a shared machine) would flatten the ratio of a small tree."""


def check_seconds(root: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-c", TIMED_CHECK, str(root)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"check {root} failed ({result.returncode}): {result.stderr[-500:]}")
    return float(result.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="n for the file kinds")
    parser.add_argument("--services", type=int, default=1500, help="n for compose services")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="prodready-check-scaling-") as tmp:
        for name, (build, unit) in KINDS.items():
            n = args.services if unit == "services" else args.files
            trees = {}
            for size in (n, 4 * n):
                trees[size] = Path(tmp, f"{name}-{size}")
                trees[size].mkdir()
                build(trees[size], size)
            times: dict[int, list[float]] = {n: [], 4 * n: []}
            for _ in range(args.rounds):
                for size, root in trees.items():
                    times[size].append(check_seconds(root))
            small, big = (statistics.median(times[size]) for size in (n, 4 * n))
            ratios[name] = big / small
            print(
                f"{name}: {n} {unit} {small:.2f} s, {4 * n} {unit} {big:.2f} s "
                f"ratio {ratios[name]:.1f}",
                flush=True,
            )
    print(" ".join(f"{name}_4x_time_ratio={ratio:.1f}" for name, ratio in ratios.items()))


if __name__ == "__main__":
    main()
