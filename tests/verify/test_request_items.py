"""The items of `prodready verify` that read the shared server with requests: metrics (exact
counts across workers, no raw paths as labels), logs (JSON, request ids echoed, no secrets),
security headers and TLS (through nginx, sslyze) and limits (429 with Retry-After, 413,
slowloris), on riskapi behind the generated nginx site and on small apps made to pass or to
fail each claim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prodready.generate.validate import find_tool
from tests.services import missing
from tests.verify.conftest import run_verify
from tests.verify.variants import example_copy

REQUEST_ITEMS = "metrics,logs,tls,limits"

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


def require_tools(*names: str) -> None:
    for name in names:
        if not find_tool(name):
            missing(name, "not installed")


def items_of(result: Any) -> dict[str, dict[str, Any]]:
    assert result.returncode in (0, 1), result.stderr
    return {item["id"]: item for item in json.loads(result.stdout)["items"]}


def kit_app(root: Path, parts: dict[str, str]) -> Path:
    root.mkdir()
    (root / "requirements.txt").write_text("flask==3.0.3\n")
    (root / "app.py").write_text(KIT_APP.format(**parts))
    return root


@pytest.fixture(scope="module")
def riskapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """riskapi behind the generated nginx site, the four request items run once."""
    require_tools("nginx", "openssl")
    app = example_copy("riskapi", tmp_path_factory.mktemp("riskapi"))
    return items_of(run_verify(app, "--only", REQUEST_ITEMS, "--json"))


def test_riskapi_exposes_no_metrics_so_metrics_is_skipped_with_why(
    riskapi: dict[str, dict[str, Any]],
) -> None:
    metrics = riskapi["metrics"]
    assert metrics["status"] == "skipped", metrics
    assert metrics["summary"] == "the app exposes no metrics (GET /metrics: 404)"


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
    assert metrics["measures"]["workers_seen"] >= 2
    assert metrics["measures"]["raw_path_labels"] == 0
    assert any(line.startswith("parametrised route /items/<int:item_id>") for line in
               metrics["details"])  # fmt: skip

    logs = items["logs"]
    assert logs["status"] == "pass", logs
    assert logs["measures"]["answers_500"] == 1  # GET /boom, its request id echoed and logged
    assert logs["measures"]["echoed_ids_checked"] == 4
    assert "4 of 4 echoed request ids found in the log" in logs["details"]


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
