"""The items of `prodready verify` that read the shared server with requests: metrics (exact
counts across workers, no raw paths as labels), logs (JSON, request ids echoed, no secrets),
security headers and TLS (through nginx, sslyze) and limits (429 with Retry-After, 413,
slowloris), on riskapi behind the generated nginx site and on small apps made to pass or to
fail each claim."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from prodready.generate.validate import find_tool, self_signed_certificate
from prodready.project.detect import detect
from prodready.verify.front import SERVER_NAME, Front
from prodready.verify.items import limits, tls
from prodready.verify.server import free_port
from tests.verify.conftest import by_id, items_of, require_tools, run_verify

KIT_APP = """\
import logging

from flask import Flask, request
from prodready.runtime import Production

app = Flask(__name__)
prod = Production(app)
log = logging.getLogger("shop")
{extra}


@app.get("/")
def index():
    return {{"ok": True}}


@app.get("/items/<int:item_id>")
def item(item_id: int):
    {count}
    return {{"id": item_id}}


@app.post("/login")
def login():
    {login_log}
    return {{"ok": True}}


@app.get("/boom")
def boom():
    raise RuntimeError("boom")
"""

CAREFUL = {"extra": "", "count": "pass", "login_log": 'log.info("login attempt")'}
"""Logs that a login was tried, nothing of what was sent; metrics from the kit only."""

CARELESS = {
    "extra": 'from prometheus_client import Counter\n\nHITS = Counter("item_hits", "Hits.", ["path"])',
    "count": "HITS.labels(request.path).inc()",
    "login_log": 'log.info("login %s %s", request.get_data(as_text=True), '
    'request.headers.get("Authorization"))',
}
"""Counts hits by raw path, and logs the body and the Authorization header of a login."""


def kit_app(root: Path, parts: dict[str, str]) -> Path:
    root.mkdir()
    (root / "requirements.txt").write_text("flask==3.0.3\n")
    (root / "app.py").write_text(KIT_APP.format(**parts))
    return root


@pytest.fixture(scope="module")
def riskapi(riskapi_scorecard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The items of the one full run of examples/riskapi (conftest's riskapi_scorecard)."""
    return by_id(riskapi_scorecard)


def test_riskapi_exposes_no_metrics_so_metrics_fails_with_a_hint(
    riskapi: dict[str, dict[str, Any]],
) -> None:
    metrics = riskapi["metrics"]
    assert metrics["status"] == "fail", metrics
    assert metrics["summary"] == "the app exposes no metrics (GET /metrics: 404)"
    assert any(d.startswith("hint: ") and "Production(app)" in d for d in metrics["details"])


def test_riskapi_logs_fail_without_request_ids_and_keep_the_secrets_out(
    riskapi: dict[str, dict[str, Any]],
) -> None:
    logs = riskapi["logs"]
    assert logs["status"] == "fail", logs
    assert logs["summary"].startswith("no X-Request-ID on 5 of 5 responses")
    assert logs["measures"]["echoed_ids_checked"] == 0
    # POST /api/score with a body it does not expect: the exception route of EXPECTED.md
    assert logs["measures"]["answers_500"] == 1
    assert any(line.startswith("POST /api/score (JSON password") for line in logs["details"])
    assert '"request_id": null' in logs["log"]
    assert not any("appears in the log" in line for line in logs["details"])


def test_riskapi_through_nginx_has_the_headers_tls_1_2_and_1_3_only_and_the_redirect(
    riskapi: dict[str, dict[str, Any]],
) -> None:
    tls = riskapi["tls"]
    assert tls["status"] == "pass", tls
    measures = tls["measures"]
    assert measures["hsts_max_age_s"] == 63072000
    assert measures["nosniff"] is True and measures["frame_protection"] is True
    assert measures["http_status"] == 308
    assert measures["tls_versions"] == "TLS 1.2, TLS 1.3"
    assert measures["weak_ciphers"] == 0
    assert "sslyze TLS 1.0: not offered" in tls["details"]
    (tls13,) = [line for line in tls["details"] if line.startswith("sslyze TLS 1.3: ")]
    assert "TLS_AES_128_GCM_SHA256" in tls13


def test_riskapi_through_nginx_answers_413_holds_slowloris_and_429_with_retry_after(
    riskapi: dict[str, dict[str, Any]],
) -> None:
    limits = riskapi["limits"]
    assert limits["status"] == "pass", limits
    measures = limits["measures"]
    assert measures["oversized_body_status"] == 413
    assert measures["ordinary_answered"] == measures["ordinary_sent"] > 0
    assert measures["answered_429"] > 0
    assert measures["429_without_retry_after"] == 0
    assert measures["let_through"] <= measures["allowed_by_rate"] + 8
    assert "limit_req rate 20.0 r/s burst 40" in limits["details"][0]


def test_a_kit_app_counts_exactly_across_workers_and_logs_json_with_ids_and_no_secrets(
    tmp_path: Path,
) -> None:
    app = kit_app(tmp_path / "careful", CAREFUL)
    items = items_of(run_verify(app, "--only", "metrics,logs", "--json"))

    metrics = items["metrics"]
    assert metrics["status"] == "pass", metrics
    assert metrics["measures"]["counter_rise"] == metrics["measures"]["requests_sent"] == 30
    assert metrics["measures"]["workers_seen"] >= 1
    assert metrics["measures"]["raw_path_labels"] == 0
    assert any(line.startswith("parametrised route /items/<int:item_id>") for line in
               metrics["details"])  # fmt: skip

    logs = items["logs"]
    assert logs["status"] == "pass", logs
    assert logs["measures"]["answers_500"] == 1  # GET /boom, its request id echoed and logged
    assert logs["measures"]["echoed_ids_checked"] == 4
    assert "4 of 4 echoed request ids found in the log" in logs["details"]


GET_ONLY_KIT_APP = """\
from flask import Flask
from prodready.runtime import Production

app = Flask(__name__)
prod = Production(app)


@app.get("/")
def index():
    return {"ok": True}
"""


def test_a_kit_app_without_a_post_route_gets_its_posts_on_an_app_route_not_a_probe(
    tmp_path: Path,
) -> None:
    """The kit does not access-log its probes: POSTs sent to /health/ready would echo ids
    that no log line can hold."""
    app = tmp_path / "getonly"
    app.mkdir()
    (app / "requirements.txt").write_text("flask==3.0.3\n")
    (app / "app.py").write_text(GET_ONLY_KIT_APP)
    logs = items_of(run_verify(app, "--only", "logs", "--json"))["logs"]
    assert logs["status"] == "pass", logs
    assert "POST / (JSON password, Bearer token): 405" in logs["details"]
    assert "3 of 3 echoed request ids found in the log" in logs["details"]


def test_an_app_that_labels_raw_paths_and_logs_a_login_body_fails_both(tmp_path: Path) -> None:
    app = kit_app(tmp_path / "careless", CARELESS)
    items = items_of(run_verify(app, "--only", "metrics,logs", "--json"))

    metrics = items["metrics"]
    assert metrics["status"] == "fail", metrics
    assert metrics["summary"].startswith("raw path as a label value: /items/")
    assert metrics["measures"]["raw_path_labels"] == 2
    assert metrics["measures"]["counter_rise"] == 30  # the kit's own counter is right

    logs = items["logs"]
    assert logs["status"] == "fail", logs
    leaks = [line for line in logs["details"] if "appears in the log" in line]
    assert leaks == [
        "the password (JSON body) sent appears in the log (1 line(s))",
        "the password (form body) sent appears in the log (1 line(s))",
        "the Authorization token sent appears in the log (2 line(s))",
    ]
    assert "pv-" in logs["log"] and "login" in logs["log"]


WEAK_SITE = """\
limit_req_zone $binary_remote_addr zone=weak:1m rate=5r/s;
server {{
    listen 127.0.0.1:{upstream};
    location / {{ return 200 "ok\\n"; }}
}}
server {{
    listen 127.0.0.1:{http};
    server_name {name};
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
}}
server {{
    listen 127.0.0.1:{https} ssl;
    server_name {name};
    ssl_certificate {prefix}/tls/fullchain.pem;
    ssl_certificate_key {prefix}/tls/privkey.pem;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0;
    client_max_body_size 0;
    location / {{
        limit_req zone=weak burst=5 nodelay;
        limit_req_status 429;
        proxy_pass http://127.0.0.1:{upstream};
    }}
}}
"""
"""A hand-written site with what the generated one avoids: TLS 1.0 and 1.1, a CBC suite, no
security headers, plain HTTP served, bodies of any size, 429s without Retry-After."""


@pytest.fixture
def weak_stage(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A real nginx with WEAK_SITE, and the parts of a Stage the tls and limits items read."""
    require_tools("nginx", "openssl")
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    self_signed_certificate(prefix / "tls", SERVER_NAME)
    http, https, upstream = free_port(), free_port(), free_port()
    site = WEAK_SITE.format(
        upstream=upstream, http=http, https=https, name=SERVER_NAME, prefix=prefix
    )
    (prefix / "site.conf").write_text(site)
    (prefix / "nginx.conf").write_text(
        f"daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/error.log warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {prefix}/tmp_body;\n"
        f"  proxy_temp_path {prefix}/tmp_proxy;\n  include site.conf;\n}}\n"
    )
    nginx = find_tool("nginx")
    assert nginx
    process = subprocess.Popen(
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    front = Front(process, prefix, http, https, SERVER_NAME)
    try:
        wait_for(front)
        app = tmp_path / "app"
        app.mkdir()
        yield SimpleNamespace(front=front, front_missing="", project=detect(app))
    finally:
        front.stop()


def wait_for(front: Front) -> None:
    for _ in range(100):
        try:
            front.http("/", timeout=1.0)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError((front.prefix / "logs" / "error.log").read_text())


def test_a_front_with_old_tls_no_headers_and_no_redirect_fails_tls(
    weak_stage: SimpleNamespace,
) -> None:
    result = tls.verify(weak_stage)  # type: ignore[arg-type]
    assert result.status == "fail", result
    assert result.summary == "no Strict-Transport-Security on HTTPS answers"
    assert "no X-Content-Type-Options: nosniff" in result.details
    assert "TLS 1.0, TLS 1.1 accepted: only TLS 1.2 and 1.3 should be" in result.details
    assert result.measures["http_status"] == 200
    assert result.measures["weak_ciphers"] >= 1
    assert any("ECDHE-ECDSA-AES128-SHA (TLS 1.2)" in line for line in result.details)


def test_a_front_without_a_body_limit_or_retry_after_fails_limits(
    weak_stage: SimpleNamespace,
) -> None:
    result = limits.verify(weak_stage)  # type: ignore[arg-type]
    assert result.status == "fail", result
    assert result.summary == "client_max_body_size 0: nginx takes bodies of any size"
    assert result.measures["answered_429"] > 0
    assert result.measures["429_without_retry_after"] == result.measures["answered_429"]
    assert result.measures["ordinary_answered"] == result.measures["ordinary_sent"]
