"""How fast is `prodready check` on a big tree, against bandit on the same Python files?

Builds a synthetic tree (1,000 Python modules, 100,000 lines, 200 deployment files), then, in
one run and interleaved, times the full `prodready check` (every rule, every file kind) and
`bandit -r` on the Python files alone. Prints the median of each and their ratio; the last line
holds the headline figures as name=value pairs. Target: prodready at most half of bandit's time.

    .venv/bin/python benchmarks/check_speed.py [--rounds 3] [--modules 1000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent

MODULE = '''\
"""Module {n}: orders, payments and reporting for a service."""

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests

log = logging.getLogger(__name__)
API = os.environ.get("API_URL_{n}", "http://localhost:8000")


@dataclass
class Order{n}:
    id: int
    amount: float
    currency: str = "EUR"

    def total(self, tax: float = 0.2) -> float:
        return round(self.amount * (1 + tax), 2)

    def is_large(self) -> bool:
        return self.amount > 1000


def fetch_orders_{n}(customer: str) -> list[Order{n}]:
    response = requests.get(f"{{API}}/orders", params={{"customer": customer}})
    response.raise_for_status()
    return [Order{n}(**item) for item in response.json()]


def summarize_{n}(orders: list[Order{n}]) -> dict[str, float]:
    totals: dict[str, float] = {{}}
    for order in orders:
        totals[order.currency] = totals.get(order.currency, 0.0) + order.total()
    return totals


def stamp_{n}() -> str:
    return datetime.utcnow().isoformat()


def window_{n}(days: int) -> tuple[datetime, datetime]:
    end = datetime.now()
    return end - timedelta(days=days), end


def parse_{n}(payload: str) -> dict[str, object]:
    try:
        return json.loads(payload)
    except json.JSONDecodeError as error:
        log.warning("bad payload: %s", error)
        return {{}}


class Report{n}:
    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[tuple[str, float]] = []

    def add(self, name: str, value: float) -> None:
        self.rows.append((name, value))

    def render(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for name, value in sorted(self.rows):
            lines.append(f"{{name:<20}} {{value:>10.2f}}")
        return "\\n".join(lines)

    def best(self) -> tuple[str, float] | None:
        return max(self.rows, key=lambda row: row[1]) if self.rows else None


def retry_{n}(func, attempts: int = 3):
    last = None
    for attempt in range(attempts):
        try:
            return func()
        except requests.RequestException as error:
            last = error
            log.info("attempt %d failed", attempt)
    raise RuntimeError("gave up") from last


def checksum_{n}(values: list[int]) -> int:
    total = 0
    for index, value in enumerate(values):
        total = (total * 31 + value + index) % 1_000_003
    return total


def paginate_{n}(items: list[object], size: int = 50) -> list[list[object]]:
    """Splits items into pages of `size`."""
    pages = []
    for start in range(0, len(items), size):
        pages.append(items[start : start + size])
    return pages
'''

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
HEALTHCHECK CMD curl -f http://localhost:{port}/health || exit 1
CMD gunicorn -b 0.0.0.0:{port} svc{n}.app:app
"""
COMPOSE = """\
services:
  web:
    build: .
    ports: ["{port}:{port}"]
    environment:
      DATABASE_URL: postgresql://app:${{DB_PASSWORD:-postgres}}@db/app
  db:
    image: postgres
    ports: ["5432:5432"]
    environment:
      POSTGRES_PASSWORD: postgres
"""
NGINX = """\
server {{
    listen 80;
    server_name svc{n}.example.com;
    location / {{
        proxy_pass http://127.0.0.1:{port};
        add_header X-Frame-Options DENY;
    }}
}}
"""
ENV = "SECRET_KEY=changeme\nDEBUG=True\nDATABASE_URL=postgresql://app:app@db/app\n"
UNIT = """\
[Unit]
Description=svc{n}
[Service]
ExecStart=/srv/venv/bin/gunicorn -b 127.0.0.1:{port} app:app
[Install]
WantedBy=multi-user.target
"""
GUNICORN = "import multiprocessing\nworkers = multiprocessing.cpu_count() * 2 + 1\ntimeout = 0\n"


def build_tree(root: Path, modules: int, services: int) -> Path:
    python_root = root / "src"
    for n in range(modules):
        package = python_root / f"pkg{n // 50}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"mod{n}.py").write_text(MODULE.format(n=n))
    writers = [
        ("Dockerfile", DOCKERFILE),
        ("compose.yaml", COMPOSE),
        ("nginx/site.conf", NGINX),
        (".env", ENV),
        ("deploy/app.service", UNIT),
        ("gunicorn.conf.py", GUNICORN),
        ("requirements.txt", "flask\ngunicorn\nrequests\n"),
        ("Procfile", "web: python app.py\n"),
    ]
    written = 0
    for n in range(services):
        for name, template in writers:
            if written >= services:
                break
            path = root / "deploy" / f"svc{n}" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.format(n=n, port=8000 + n) if "{" in template else template)
            written += 1
    return python_root


def count_lines(root: Path) -> int:
    return sum(p.read_text().count("\n") for p in root.rglob("*.py"))


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({result.returncode}): {result.stderr[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--deployment-files", type=int, default=200)
    args = parser.parse_args()
    bandit = shutil.which("bandit", path=str(BIN)) or shutil.which("bandit")
    if bandit is None:
        raise SystemExit("bandit is not installed: pip install bandit")
    with tempfile.TemporaryDirectory(prefix="prodready-check-speed-") as tmp:
        root = Path(tmp)
        python_root = build_tree(root, args.modules, args.deployment_files)
        lines = count_lines(root)
        deployment = sum(1 for p in (root / "deploy").rglob("*") if p.is_file())
        print(f"tree: {args.modules} Python files, {lines:,} lines, {deployment} deployment files")
        prodready_times: list[float] = []
        bandit_times: list[float] = []
        for round_number in range(1, args.rounds + 1):
            prodready_times.append(
                timed([str(BIN / "prodready"), "check", str(root), "--format", "json", "-q"])
            )
            bandit_times.append(
                timed([bandit, "-r", str(python_root), "-q", "-f", "json", "-o", "/dev/null"])
            )
            print(
                f"round {round_number}: prodready {prodready_times[-1]:.2f} s, "
                f"bandit {bandit_times[-1]:.2f} s",
                flush=True,
            )
    prodready_s = statistics.median(prodready_times)
    bandit_s = statistics.median(bandit_times)
    print(
        f"prodready_check_s={prodready_s:.2f} bandit_python_only_s={bandit_s:.2f} "
        f"ratio={prodready_s / bandit_s:.2f}"
    )


if __name__ == "__main__":
    main()
