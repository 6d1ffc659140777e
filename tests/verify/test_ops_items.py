"""The operations items of `prodready verify`: image (hadolint, systemd exposure), backup (a
verified backup restored into a new database, compared) and monitor (one round against the
health route through nginx), on riskapi and on small apps made for one claim each."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from tests.verify.conftest import items_of, require_tools, run_verify
from tests.verify.variants import example_copy

OPS = "image,backup,monitor"

UNHARDENED_UNIT = """\
[Unit]
Description=the app

[Service]
ExecStart=/srv/app/.venv/bin/gunicorn app:app
Restart=always

[Install]
WantedBy=multi-user.target
"""


def flask_app(root: Path, health: str = "return {'status': 'ok'}", extra: str = "") -> Path:
    root.mkdir()
    (root / "requirements.txt").write_text("flask==3.0.3\n")
    (root / "app.py").write_text(
        "from flask import Flask\n\napp = Flask(__name__)\n"
        f"{extra}\n\n@app.get('/health')\ndef health():\n    {health}\n"
    )
    return root


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_riskapi_fails_hadolint_passes_the_backup_round_trip_and_the_monitor(
    tmp_path: Path, pg_server: str
) -> None:
    require_tools("hadolint", "systemd-analyze", "nginx", "pg_dump", "pg_restore")
    app = example_copy("riskapi", tmp_path)
    result = run_verify(app, "--only", OPS, "--json", "--database-url", pg_server)
    items = items_of(result)
    assert result.returncode == 1
    card = json.loads(result.stdout)

    image = items["image"]
    assert image["status"] == "fail", image
    assert image["measures"]["dockerfile"] == "Dockerfile"
    assert image["measures"]["hadolint_findings"] >= 3
    assert "DL3025" in image["summary"] and "DL3042" in image["summary"]
    assert any(line.startswith("Dockerfile:5 DL3042") for line in image["details"])
    assert image["measures"]["unit"] == "generated"
    assert image["measures"]["exposure"] <= 1.5
    assert len(image["summary"]) < 90

    backup = items["backup"]
    assert backup["status"] == "pass", backup
    assert backup["measures"]["seeded_rows"] == 1000
    assert backup["measures"]["rows"] == 1000 and backup["measures"]["verified"] is True
    assert backup["measures"]["differing_tables"] == 0

    monitor = items["monitor"]
    assert monitor["status"] == "pass", monitor
    assert monitor["measures"]["up"] is True
    assert monitor["measures"]["cert_days"] > 300  # the throwaway certificate, verified
    assert "https://app.example.com:" in monitor["details"][0]

    note = next(n for n in card["boot"] if "scratch database" in n)
    scratch = note.split("scratch database ")[1].split()[0]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (scratch + "%",)
        ).fetchall()
    assert left == [], "the scratch, verify and restored databases are all dropped"


def test_no_dockerfile_gets_the_generated_one_sqlite_is_backed_up_from_a_copy_and_503_is_red(
    tmp_path: Path,
) -> None:
    require_tools("hadolint", "systemd-analyze", "nginx")
    app = flask_app(
        tmp_path / "app",
        health="return {'status': 'starting'}, 503",
        extra="DATABASE = 'sqlite:///notes.db'",
    )
    with sqlite3.connect(app / "notes.db") as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"n{i}",) for i in range(37)])
    conn.close()
    before = tree_digest(app)

    items = items_of(run_verify(app, "--only", OPS, "--json"))

    image = items["image"]
    assert image["status"] == "pass", image
    assert image["measures"]["dockerfile"] == "generated"
    assert image["measures"]["hadolint_findings"] == 0
    assert image["measures"]["unit"] == "generated"

    backup = items["backup"]
    assert backup["status"] == "pass", backup
    assert backup["measures"]["seeded_rows"] == 0
    assert backup["measures"]["rows"] == 37
    assert any("a copy of" in line and "notes.db" in line for line in backup["details"])

    monitor = items["monitor"]
    assert monitor["status"] == "fail", monitor
    assert "HTTP 503" in monitor["summary"]
    assert monitor["measures"]["up"] is False

    assert tree_digest(app) == before, "nothing in the app's folder was written or changed"


def test_a_bad_dockerfile_and_an_unhardened_unit_fail_with_their_evidence(tmp_path: Path) -> None:
    require_tools("hadolint", "systemd-analyze")
    app = flask_app(tmp_path / "app")
    (app / "Dockerfile").write_text(
        "FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install flask gunicorn\n"
        "CMD gunicorn app:app\n"
    )
    (app / "deploy").mkdir()
    (app / "deploy" / "app.service").write_text(UNHARDENED_UNIT)

    items = items_of(run_verify(app, "--only", OPS, "--json"))

    image = items["image"]
    assert image["status"] == "fail", image
    for code in ("DL3006", "DL3013", "DL3042", "DL3025"):
        assert any(code in line for line in image["details"]), (code, image["details"])
    assert image["measures"]["unit"] == "deploy/app.service"
    assert image["measures"]["exposure"] >= 7.5
    assert image["measures"]["exposure"] > image["measures"]["generated_exposure"]
    assert "exposure" in image["summary"] and len(image["summary"]) < 90

    assert items["backup"]["status"] == "skipped"
    assert items["backup"]["summary"] == "no database configured"
    assert items["monitor"]["status"] == "pass", items["monitor"]


def test_hadolint_info_findings_only_warn_and_an_unparsable_dockerfile_fails(
    tmp_path: Path,
) -> None:
    from prodready.verify.items.image import hadolint_claim
    from prodready.verify.model import Status

    require_tools("hadolint")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        'FROM python:3.12-slim\nRUN echo a\nRUN echo b\nUSER app\nCMD ["python", "app.py"]\n'
    )
    measures: dict[str, Any] = {}
    info_only = hadolint_claim(dockerfile, "Dockerfile", measures)
    assert info_only.status is Status.WARN
    assert info_only.short == "hadolint 2 (DL3059 DL3066)"
    assert measures == {"hadolint_findings": 2, "hadolint_errors_warnings": 0}

    dockerfile.write_text("FRM python\n")
    broken = hadolint_claim(dockerfile, "Dockerfile", measures)
    assert broken.status is Status.FAIL and broken.short == "hadolint refused it"
    assert any("Dockerfile:1:1 unexpected" in line for line in broken.details)
