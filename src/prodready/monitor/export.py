"""`prodready monitor export prometheus`: the same checks for the standard stack, as
blackbox_exporter modules, a Prometheus scrape config, alert rules and an Alertmanager config,
each checked by promtool / amtool where installed.

What maps: HTTP status, latency, body regex and TLS expiry (blackbox `http`), TCP connect
(`tcp`), TLS (`tcp` with `tls`), Redis (`tcp` with a PING/+PONG exchange), PostgreSQL (a TCP
connect: `SELECT 1` needs postgres_exporter). What does not: JSONPath values, health+json
`warn`, host limits (node_exporter's job); those are listed in the files' comments. Our
re-checks have no Prometheus equivalent: `for:` one interval is the nearest (a failure must
persist to the next scrape)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from prodready.errors import InputError
from prodready.monitor.config import Endpoint, MonitorConfig
from prodready.monitor.durations import format_duration

RULES = "monitor-alerts.yml"
FILES = ("blackbox.yml", "prometheus.yml", RULES, "alertmanager.yml")
HEALTH_FAIL = '"status"\\s*:\\s*"fail"'
"""An application/health+json body saying fail (blackbox cannot read the content type)."""
BLACKBOX = ("prometheus-blackbox-exporter", "blackbox_exporter")
"""Debian's name for the binary, then upstream's."""


@dataclass(frozen=True)
class Exported:
    path: Path
    tool: str | None
    """The validating command that ran, or None when it is not installed."""
    ok: bool
    output: str


def export_prometheus(config: MonitorConfig, out: Path, force: bool) -> list[Exported]:
    existing = [out / name for name in FILES if (out / name).exists()]
    if existing and not force:
        raise InputError(
            f"{existing[0]} exists; nothing was written",
            "pass --force to overwrite, or --out elsewhere",
        )
    out.mkdir(parents=True, exist_ok=True)
    modules, jobs, skipped = {}, [], []
    for endpoint in config.endpoints:
        module = _module(endpoint)
        if module is None:
            instead = (
                "scrape the app's /metrics with Prometheus and alert on its rates"
                if endpoint.kind == "metrics"
                else "use node_exporter for host limits"
            )
            skipped.append(f"{endpoint.name} ({endpoint.url}): {instead}")
            continue
        name = _slug(endpoint.name)
        modules[name] = module
        jobs.append(_job(endpoint, name))
    notes = [f"not exported: {line}" for line in skipped] + [
        f"{e.name}: the JSONPath check ({e.json_path}) has no blackbox equivalent"
        for e in config.endpoints
        if e.json_path
    ]
    documents = {
        "blackbox.yml": {"modules": modules},
        "prometheus.yml": {
            "global": {"evaluation_interval": "15s"},
            "rule_files": [RULES],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]},
            "scrape_configs": jobs,
        },
        RULES: {"groups": [{"name": "prodready-monitor", "rules": _rules(config)}]},
        "alertmanager.yml": _alertmanager(config),
    }
    written = []
    for name, document in documents.items():
        path = out / name
        header = "# Written by `prodready monitor export prometheus`.\n"
        header += "".join(f"# {note}\n" for note in notes)
        path.write_text(header + yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    for name in FILES:
        written.append(_validate(out / name))
    return written


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "endpoint"


def _seconds(value: float) -> str:
    return f"{max(1, round(value))}s"


def _module(endpoint: Endpoint) -> dict[str, Any] | None:
    timeout = _seconds(endpoint.timeout)
    if endpoint.kind == "http":
        http: dict[str, Any] = {
            "valid_status_codes": list(endpoint.expect_status),
            "preferred_ip_protocol": "ip4",
            "follow_redirects": True,
        }
        if endpoint.body_regex:
            http["fail_if_body_not_matches_regexp"] = [endpoint.body_regex]
        if endpoint.health_json:
            http["fail_if_body_matches_regexp"] = [HEALTH_FAIL]
        return {"prober": "http", "timeout": timeout, "http": http}
    if endpoint.kind == "redis":
        exchange = [{"send": "PING"}, {"expect": "^\\+PONG"}]
        return {"prober": "tcp", "timeout": timeout, "tcp": {"query_response": exchange}}
    if endpoint.kind == "tls":
        return {
            "prober": "tcp",
            "timeout": timeout,
            "tcp": {"tls": True, "preferred_ip_protocol": "ip4"},
        }
    if endpoint.kind in ("tcp", "postgres"):
        return {"prober": "tcp", "timeout": timeout, "tcp": {"preferred_ip_protocol": "ip4"}}
    return None


def _target(endpoint: Endpoint) -> str:
    if endpoint.kind == "http":
        return endpoint.url
    parts = urlsplit(endpoint.url)
    default = {"postgres": 5432, "redis": 6379}.get(endpoint.kind, 0)
    return f"{parts.hostname}:{parts.port or default}"


def _job(endpoint: Endpoint, name: str) -> dict[str, Any]:
    return {
        "job_name": f"monitor_{name}",
        "metrics_path": "/probe",
        "params": {"module": [name]},
        "scrape_interval": _seconds(endpoint.interval),
        "scrape_timeout": _seconds(min(endpoint.timeout + 1, endpoint.interval)),
        "static_configs": [{"targets": [_target(endpoint)], "labels": {"endpoint": endpoint.name}}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": "127.0.0.1:9115"},
        ],
    }


def _rules(config: MonitorConfig) -> list[dict[str, Any]]:
    interval = max(e.interval for e in config.endpoints)
    rules: list[dict[str, Any]] = [
        {
            "alert": "EndpointDown",
            "expr": 'probe_success{job=~"monitor_.*"} == 0',
            "for": _seconds(interval),
            "labels": {"severity": "page"},
            "annotations": {
                "summary": "{{ $labels.endpoint }} is down",
                "description": "{{ $labels.instance }} failed its probe for over "
                f"{format_duration(interval)}.",
            },
        }
    ]
    for endpoint in config.endpoints:
        if endpoint.max_latency is not None and endpoint.kind == "http":
            rules.append(
                {
                    "alert": "EndpointSlow",
                    "expr": f'probe_duration_seconds{{job="monitor_{_slug(endpoint.name)}"}} '
                    f"> {endpoint.max_latency:g}",
                    "for": _seconds(endpoint.interval),
                    "labels": {"severity": "ticket"},
                    "annotations": {"summary": f"{endpoint.name} slower than "
                                    f"{format_duration(endpoint.max_latency)}"},
                }
            )  # fmt: skip
        days = endpoint.min_cert_days
        if endpoint.kind == "tls" or (endpoint.url.startswith("https") and days is not None):
            limit = days if days is not None else 14
            job = f"monitor_{_slug(endpoint.name)}"
            rules.append(
                {
                    "alert": "CertificateExpiresSoon",
                    "expr": f'probe_ssl_earliest_cert_expiry{{job="{job}"}} - time() '
                    f"< {limit:g} * 86400",
                    "labels": {"severity": "ticket"},
                    "annotations": {"summary": f"{endpoint.name}: certificate expires within "
                                    f"{limit:g} days"},
                }
            )  # fmt: skip
    return rules


def _alertmanager(config: MonitorConfig) -> dict[str, Any]:
    alerting = config.alerting
    receiver: dict[str, Any] = {"name": "prodready"}
    if alerting.webhooks:
        receiver["webhook_configs"] = [
            {"url": url, "send_resolved": True} for url in alerting.webhooks
        ]
    return {
        "route": {
            "receiver": "prodready",
            "group_by": ["alertname"],
            "group_wait": _seconds(alerting.group_wait),
            "group_interval": _seconds(alerting.group_max_wait),
            "repeat_interval": _seconds(alerting.reminder_interval),
        },
        "receivers": [receiver],
    }


def _validate(path: Path) -> Exported:
    if path.name == "alertmanager.yml":
        command = ["amtool", "check-config", str(path)]
    elif path.name == "prometheus.yml":
        command = ["promtool", "check", "config", str(path)]
    elif path.name == RULES:
        command = ["promtool", "check", "rules", str(path)]
    else:
        found = next((name for name in BLACKBOX if shutil.which(name)), BLACKBOX[1])
        command = [found, "--config.check", f"--config.file={path}"]
    tool = shutil.which(command[0])
    if tool is None:
        return Exported(path, None, True, f"{command[0]} is not installed: not validated")
    done = subprocess.run(
        [tool, *command[1:]], capture_output=True, text=True, timeout=60, check=False
    )
    output = (done.stdout + done.stderr).strip()
    shown = " ".join(c for c in command[:-1] if not c.startswith("--config.file"))
    return Exported(path, shown, done.returncode == 0, output)
