"""`prodready monitor export prometheus`: the files pass promtool, amtool and blackbox_exporter's
own config check, and a real blackbox_exporter probing with the exported modules agrees with
the monitor's own verdicts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import run_prodready
from tests.monitor.conftest import Target, closed_port

TOOLS = ("promtool", "amtool", "prometheus-blackbox-exporter")


def tools_or_skip() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{', '.join(missing)} required under CI=true (scripts/ensure-system-deps.sh)"
            )
        pytest.skip(f"not installed: {', '.join(missing)}")


def probe_success(exporter: str, module: str, target: str) -> float:
    query = urllib.parse.urlencode({"module": module, "target": target})
    text = urllib.request.urlopen(f"{exporter}/probe?{query}", timeout=15).read().decode()
    (line,) = [line for line in text.splitlines() if line.startswith("probe_success ")]
    return float(line.split()[1])


def test_export_validates_and_runs_on_blackbox_exporter(
    tmp_path: Path, target: Target, redis_url: str
) -> None:
    tools_or_skip()
    target.set("down", "b")
    target.set("health-fail", "h")
    closed = closed_port()
    config = tmp_path / "monitor.toml"
    config.write_text(
        '[monitor]\ninterval = "15s"\ntimeout = "3s"\n'
        '[alerting]\nwebhooks = ["http://127.0.0.1:9/hook"]\n'
        f'[[endpoints]]\nname = "a"\nurl = "{target.url("a")}"\nbody_regex = "^ok$"\nmax_latency = "2s"\n'
        f'[[endpoints]]\nname = "b"\nurl = "{target.url("b")}"\n'
        f'[[endpoints]]\nname = "h"\nurl = "{target.url("h")}"\nexpect_status = [200, 503]\n'
        f'[[endpoints]]\nname = "cache"\nurl = "{redis_url}"\n'
        f'[[endpoints]]\nname = "gone"\nurl = "tcp://127.0.0.1:{closed}"\n'
        '[[endpoints]]\nname = "host"\nurl = "host://"\nmax_disk_percent = 99\n'
    )
    out = tmp_path / "prom"
    result = run_prodready("monitor", "export", "prometheus", config, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {out}/blackbox.yml  (prometheus-blackbox-exporter --config.check: ok)",
        f"wrote {out}/prometheus.yml  (promtool check config: ok)",
        f"wrote {out}/monitor-alerts.yml  (promtool check rules: ok)",
        f"wrote {out}/alertmanager.yml  (amtool check-config: ok)",
    ]
    assert "# not exported: host (host://)" in (out / "prometheus.yml").read_text()
    again = run_prodready("monitor", "export", "prometheus", config, "--out", out)
    assert again.returncode == 2 and "exists; nothing was written" in again.stderr

    ours = json.loads(run_prodready("monitor", config, "--once", "--json").stdout)
    verdicts = {
        row["endpoint"]: row["up"] for row in ours["endpoints"] if row["endpoint"] != "host"
    }
    assert verdicts == {"a": True, "b": False, "h": False, "cache": True, "gone": False}

    port = closed_port()
    exporter = subprocess.Popen(
        ["prometheus-blackbox-exporter", f"--config.file={out / 'blackbox.yml'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/metrics", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        targets = {
            "a": target.url("a"),
            "b": target.url("b"),
            "h": target.url("h"),
            "cache": redis_url.removeprefix("redis://").split("/")[0],
            "gone": f"127.0.0.1:{closed}",
        }
        theirs = {name: probe_success(base, name, t) == 1 for name, t in targets.items()}
        assert theirs == verdicts
    finally:
        exporter.terminate()
        exporter.wait(timeout=10)
