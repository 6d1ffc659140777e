"""`prodready monitor` as users run it: --once and its exit codes, --json, configs in TOML and
YAML, bad configs (one line naming key and line, exit 2), silences, and a real long-running
monitor through an alert storm, a restart during the incident and the recovery."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import PRODREADY, run_prodready
from tests.monitor.conftest import Target
from tests.monitor.receivers import WebhookReceiver


def test_once_exit_codes_and_json(target: Target) -> None:
    up = run_prodready("monitor", target.url("home"), "--once")
    assert up.returncode == 0, up.stderr
    assert up.stdout.startswith("up   127.0.0.1:") and up.stdout.endswith("1 up, 0 down\n")
    target.set("down", "home")
    down = run_prodready("monitor", target.url("home"), "--once", "--json")
    assert down.returncode == 1, down.stderr
    report = json.loads(down.stdout)
    assert report["down"] == 1
    (row,) = report["endpoints"]
    assert (row["up"], row["reason"], row["probes"]) == (False, "HTTP 503", 3)


def test_a_blip_is_rechecked_and_not_down(target: Target) -> None:
    target.set("blip", "home")
    result = run_prodready("monitor", target.url("home"), "--once", "--json")
    assert result.returncode == 0
    (row,) = json.loads(result.stdout)["endpoints"]
    assert (row["up"], row["probes"]) == (True, 2)
    assert target.hits()["home"] == 2


def test_toml_and_yaml_configs(tmp_path: Path, target: Target) -> None:
    target.set("down", "b")
    toml = tmp_path / "monitor.toml"
    toml.write_text(
        f'[monitor]\ninterval = "30s"\n\n[[endpoints]]\nname = "a"\nurl = "{target.url("a")}"\n'
        f'\n[[endpoints]]\nname = "b"\nurl = "{target.url("b")}"\n'
    )
    result = run_prodready("monitor", toml, "--once")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith("DOWN b ")
    yaml = tmp_path / "monitor.yaml"
    yaml.write_text(f"endpoints:\n  - name: a\n    url: {target.url('a')}\n    body-less: 1\n")
    bad = run_prodready("monitor", yaml, "--once")
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        f"error: {yaml}:4: endpoints[0].body-less: unknown key\nhint: known keys:"
    )
    target.set("json", "a")
    yaml.write_text(
        f"endpoints:\n  - name: a\n    url: {target.url('a')}\n    json_path: $.status\n"
    )
    assert run_prodready("monitor", yaml, "--once").returncode == 0


def test_bad_configs_name_key_and_line(tmp_path: Path) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(
        '[[endpoints]]\nurl = "http://127.0.0.1:9/"\n\n'
        '[[endpoints]]\nname = "api"\nurl = "http://127.0.0.1:9/api"\nmax_latency = "fast"\n'
    )
    result = run_prodready("monitor", config, "--once")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == (
        f"error: {config}:7: endpoints[1].max_latency: 'fast' is not a duration such as "
        "500ms, 10s, 5m, 2h or 30d"
    )
    config.write_text('[[endpoints]]\nurl = "http://127.0.0.1:9/"\nname = api\n')
    broken = run_prodready("monitor", config, "--once")
    assert broken.returncode == 2
    assert (
        broken.stderr.splitlines()[0]
        == f"error: {config}:3: not valid TOML: Invalid value (column 8)"
    )
    yaml = tmp_path / "monitor.yaml"
    yaml.write_text("endpoints:\n  - url: http://127.0.0.1:9/\n   name: [a\n")
    broken_yaml = run_prodready("monitor", yaml, "--once")
    assert broken_yaml.returncode == 2
    assert broken_yaml.stderr.startswith(f"error: {yaml}:3: not valid YAML: ")
    config.write_text('[[endpoints]]\nurl = "ftp://127.0.0.1/"\n')
    scheme = run_prodready("monitor", config)
    assert scheme.returncode == 2
    assert scheme.stderr.startswith(
        f"error: {config}:2: endpoints[0].url: 'ftp://127.0.0.1/': unknown scheme"
    )
    config.write_text(
        '[alerting]\napprise = [\n  "mailto://127.0.0.1:9?from=m@example.com&to=ops@example.com",\n  "nosuch://x",\n]\n'
        '[[endpoints]]\nurl = "http://127.0.0.1:9/"\n'
    )
    channel = run_prodready("monitor", config, "--once")
    assert channel.returncode == 2
    assert channel.stderr.startswith(
        f"error: {config}:4: alerting.apprise[1]: apprise cannot use 'nosuch://x'"
    )
    flag = run_prodready("monitor", "http://127.0.0.1:9/", "--interval", "fast", "--once")
    assert flag.returncode == 2
    assert flag.stderr.startswith("error: --interval: 'fast' is not a duration")
    missing = run_prodready("monitor", tmp_path / "nope.toml")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_silence(tmp_path: Path) -> None:
    store = tmp_path / "m.db"
    result = run_prodready("monitor", "silence", "api-*", "2h", "--store", store)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("silenced api-* for 2h, until ")
    from prodready.monitor.store import Store

    ((pattern, until),) = Store(store).silences(time.time())
    assert pattern == "api-*" and 7190 < until - time.time() <= 7200
    bad = run_prodready("monitor", "silence", "api", "soon", "--store", store)
    assert bad.returncode == 2 and bad.stderr.startswith("error: silence: 'soon' is not a duration")


def wait_for(condition: Callable[[], bool], limit_s: float = 20) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def start_monitor(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(PRODREADY), "monitor", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    return out, err


def test_storm_restart_and_recovery(
    tmp_path: Path, target: Target, webhook: WebhookReceiver
) -> None:
    names = [f"svc{i}" for i in range(8)]
    config = tmp_path / "monitor.toml"
    lines = [
        '[monitor]\ninterval = "500ms"\ntimeout = "1s"\nrecheck_delay = "200ms"\nstore = "m.db"\n',
        f'[alerting]\ngroup_wait = "1500ms"\nwebhooks = ["{webhook.url}"]\n',
    ]
    lines += [f'[[endpoints]]\nname = "{n}"\nurl = "{target.url(n)}"\n' for n in [*names, "blippy"]]
    config.write_text("\n".join(lines))
    monitor = start_monitor(config)
    try:
        assert wait_for(lambda: target.hits().get("svc7", 0) >= 2)
        second = run_prodready("monitor", config, "--for", "1s")
        assert second.returncode == 2
        assert second.stderr.startswith(f"error: another monitor is running on {tmp_path / 'm.db'}")
        target.set("blip", "blippy")
        target.set("down", *names)
        assert wait_for(lambda: len(webhook.received) >= 1)
        time.sleep(2.5)  # anything else would have arrived by now
        (storm,) = webhook.received
        assert storm["kind"] == "firing"
        assert sorted(d["endpoint"] for d in storm["down"]) == names
    finally:
        out, _ = stop(monitor)
    events = [json.loads(line) for line in out.splitlines()]
    assert {e["endpoint"] for e in events if e["event"] == "down"} == set(names)
    assert any(e["event"] == "blip" and e["endpoint"] == "blippy" for e in events)
    monitor = start_monitor(config)  # a restart while the incident is open
    try:
        assert wait_for(lambda: target.hits()["svc0"] >= 8)
        time.sleep(2.0)
        assert len(webhook.received) == 1  # nothing re-sent
        target.set("healthy", *names)
        assert wait_for(lambda: len(webhook.received) >= 2)
        time.sleep(2.5)
    finally:
        out, _ = stop(monitor)
    assert len(webhook.received) == 2
    resolved = webhook.received[1]
    assert resolved["kind"] == "resolved"
    assert sorted(r["endpoint"] for r in resolved["resolved"]) == names
    assert not any(e["event"] == "down" for e in map(json.loads, out.splitlines()))


def test_the_monitors_own_metrics(tmp_path: Path, target: Target) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    target.set("down", "bad")
    process = subprocess.Popen(
        [str(PRODREADY), "monitor", target.url("bad"), "--interval", "500ms", "--metrics",
         "127.0.0.1:0", "--store", str(tmp_path / "m.db"), "--recheck-delay", "100ms"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        process.stderr.readline()  # watching ...
        url = process.stderr.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/metrics")

        def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            import urllib.request

            text = urllib.request.urlopen(url, timeout=5).read().decode()
            return {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }

        name = (("endpoint", target.url("bad").removeprefix("http://")),)
        assert wait_for(lambda: ("prodready_monitor_endpoint_up", name) in samples())
        now = samples()
        assert now[("prodready_monitor_endpoint_up", name)] == 0
        assert now[("prodready_monitor_probe_success", name)] == 0
        failed = (*name, ("result", "fail"))
        assert now[("prodready_monitor_probes_total", tuple(sorted(failed)))] >= 3
    finally:
        stop(process)


def test_a_live_status_line_on_a_terminal(tmp_path: Path, target: Target) -> None:
    import os
    import pty
    import re

    target.set("down", "t")
    main, child = pty.openpty()
    process = subprocess.Popen(
        [str(PRODREADY), "monitor", target.url("t"), "--interval", "300ms", "--for", "2s",
         "--recheck-delay", "100ms", "--store", str(tmp_path / "m.db")],
        stdout=child, stderr=child, env={**os.environ, "TERM": "xterm", "COLUMNS": "150"},
    )  # fmt: skip
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed its side
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=15) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode(errors="replace"))
    assert "1 endpoint: 0 up, 1 down, 0 unknown · " in text
    assert re.search(r"\d\d:\d\d:\d\d DOWN 127\.0\.0\.1:\d+/t: HTTP 503", text)


def test_gatus_conditions(tmp_path: Path, target: Target) -> None:
    target.set("json", "status")
    config = tmp_path / "gatus.yaml"
    config.write_text(
        "endpoints:\n"
        f'  - name: shop\n    url: "{target.url("shop")}"\n    conditions:\n'
        '      - "[STATUS] == 200"\n      - "[RESPONSE_TIME] < 300"\n      - "[BODY] == pat(*ok*)"\n'
        f'  - name: status\n    url: "{target.url("status")}"\n    conditions:\n'
        '      - "[STATUS] == any(200, 204)"\n      - "[BODY].db.connections[1] == 4"\n'
        '      - "[CONNECTED] == true"\n'
    )
    assert run_prodready("monitor", config, "--once").returncode == 0
    target.set("healthy", "status")  # "ok" is not JSON: the [BODY].path condition fails
    failing = run_prodready("monitor", config, "--once")
    assert failing.returncode == 1 and "DOWN status" in failing.stdout
    config.write_text(
        config.read_text().replace('"[CONNECTED] == true"', '"[DNS_RCODE] == NOERROR"')
    )
    refused = run_prodready("monitor", config, "--once")
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        f"error: {config}:13: endpoints[1].conditions[2]: '[DNS_RCODE] == NOERROR' has no "
        "prodready equivalent\nhint: supported: [STATUS]"
    )
