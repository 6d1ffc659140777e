"""Each kind of check against the real thing: the target server, a TLS server with a
throwaway certificate, PostgreSQL, Redis and this host."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from prodready.monitor.checks import ProbeResult, probe
from prodready.monitor.config import single_endpoint_config
from prodready.monitor.scheduler import client_session
from tests.monitor.conftest import Target, closed_port
from tests.monitor.tls_server import TlsServer, make_certificates


def check(url: str, **options: object) -> ProbeResult:
    endpoint = single_endpoint_config(url, Path("unused.db"), **options).endpoints[0]

    async def once() -> ProbeResult:
        async with client_session() as session:
            return await probe(endpoint, session)

    return asyncio.run(once())


def test_http_status_body_and_latency(target: Target) -> None:
    assert check(target.url("a")).ok
    assert check(target.url("a"), body_regex="^ok$").ok
    no_match = check(target.url("a"), body_regex="welcome")
    assert not no_match.ok and "does not match" in no_match.reason
    target.set("down", "b")
    down = check(target.url("b"))
    assert (down.ok, down.reason) == (False, "HTTP 503")
    assert check(target.url("b"), expect_status=[200, 503]).ok
    target.set("slow", "c")
    slow = check(target.url("c"), max_latency="200ms")
    assert not slow.ok and slow.reason.startswith("slow: ")
    timed_out = check(target.url("c"), timeout="300ms")
    assert not timed_out.ok and "timeout" in timed_out.reason
    refused = check(f"http://127.0.0.1:{closed_port()}/")
    assert not refused.ok and "connect" in refused.reason.lower()


def test_http_json_path(target: Target) -> None:
    target.set("json", "j")
    assert check(target.url("j"), json_path="$.status", json_equals="ok").ok
    assert check(target.url("j"), json_path="$.db.connections[1]", json_equals=4).ok
    wrong = check(target.url("j"), json_path="$.status", json_equals="fine")
    assert not wrong.ok and "expected 'fine'" in wrong.reason
    missing = check(target.url("j"), json_path="$.cache.ok")
    assert not missing.ok and "no 'cache'" in missing.reason
    not_json = check(target.url("plain"), json_path="$.status")
    assert (not_json.ok, not_json.reason) == (False, "body is not JSON")


def test_health_json_pass_warn_fail(target: Target) -> None:
    for mode in ("pass", "warn", "fail"):
        target.set(f"health-{mode}", f"h{mode}")
    passing = check(target.url("hpass"))
    assert (passing.ok, passing.reason) == (True, "")
    warning = check(target.url("hwarn"))
    assert (warning.ok, warning.reason) == (True, "health: warn")
    failing = check(target.url("hfail"), expect_status=[200, 503])
    assert (failing.ok, failing.reason) == (False, "health: fail")


def test_tcp_connect(target: Target) -> None:
    port = target.base.rsplit(":", 1)[1]
    assert check(f"tcp://127.0.0.1:{port}").ok
    assert not check(f"tcp://127.0.0.1:{closed_port()}").ok


def test_tls_days_to_expiry_and_chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca, leaf, key = make_certificates(tmp_path, days=10)
    server = TlsServer(leaf, key)
    try:
        url = f"tls://localhost:{server.port}"
        untrusted = check(url)
        assert not untrusted.ok and "certificate" in untrusted.reason
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        near = check(url)
        assert not near.ok and near.reason.startswith("certificate expires in ")
        assert near.cert_days is not None and 9 < near.cert_days < 10
        fine = check(url, min_cert_days=5)
        assert fine.ok and fine.cert_days is not None
    finally:
        server.close()


def test_postgres_select_1(pg_url: str) -> None:
    assert check(pg_url).ok
    down = check(f"postgresql://postgres@127.0.0.1:{closed_port()}/postgres", timeout="2s")
    assert not down.ok and down.reason


def test_redis_ping(redis_url: str) -> None:
    assert check(redis_url).ok
    assert not check(f"redis://127.0.0.1:{closed_port()}/0", timeout="2s").ok


def test_host_limits() -> None:
    assert check("host://", max_disk_percent=100, max_cpu_percent=100).ok
    over = check("host://", max_memory_percent=0.001)
    assert not over.ok and over.reason.startswith("memory ")


def test_https_chain_and_certificate_days(tmp_path: Path) -> None:
    import json

    from tests.conftest import run_prodready
    from tests.monitor.conftest import start_target

    ca, leaf, key = make_certificates(tmp_path, days=20)
    process, target = start_target(tls=(leaf, key))
    try:
        untrusted = run_prodready("monitor", target.url("a"), "--once", "--json")
        assert untrusted.returncode == 1
        (row,) = json.loads(untrusted.stdout)["endpoints"]
        assert "certificate verify failed" in row["reason"]
        trusted = {"SSL_CERT_FILE": str(ca)}
        fine = run_prodready("monitor", target.url("a"), "--once", "--json", env=trusted)
        assert fine.returncode == 0, fine.stdout
        (row,) = json.loads(fine.stdout)["endpoints"]
        assert 19 < row["cert_days"] <= 20
        near = run_prodready(
            "monitor", target.url("a"), "--once", "--min-cert-days", "30", env=trusted
        )
        assert near.returncode == 1
        assert re.search(
            r"DOWN localhost:\d+/a .* certificate expires in (19|20)\.\d days", near.stdout
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
