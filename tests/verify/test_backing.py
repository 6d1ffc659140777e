"""How verify points an app at its scratch database when the settings name the database piece
by piece (Django's DATABASES from SQL_HOST, SQL_DATABASE..., libpq's PGHOST...)."""

from __future__ import annotations

import json
from pathlib import Path

from prodready.verify.backing import split_env, split_settings
from tests.verify.conftest import run_verify


def test_django_on_docker_style_settings_are_found_by_prefix() -> None:
    reads = {"SQL_ENGINE", "SQL_DATABASE", "SQL_USER", "SQL_PASSWORD", "SQL_HOST", "SQL_PORT"}
    assert split_settings(reads) == {
        "host": "SQL_HOST",
        "port": "SQL_PORT",
        "user": "SQL_USER",
        "password": "SQL_PASSWORD",
        "name": "SQL_DATABASE",
    }


def test_libpq_variables_are_split_settings_too() -> None:
    assert split_settings({"PGHOST", "PGDATABASE", "PGUSER"}) == {
        "host": "PGHOST",
        "user": "PGUSER",
        "name": "PGDATABASE",
    }


def test_a_host_without_a_database_name_is_not_database_settings() -> None:
    assert split_settings({"REDIS_HOST", "DB_HOST", "SMTP_USER"}) == {}


def test_the_scratch_url_is_given_piece_by_piece() -> None:
    split = split_settings({"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"})
    url = "postgresql://app:s3cret@127.0.0.1:5433/verify_1a2b3c4d"
    assert split_env(split, url) == {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": "5433",
        "DB_NAME": "verify_1a2b3c4d",
        "DB_USER": "app",
        "DB_PASSWORD": "s3cret",
    }


def small_app(tmp_path: Path, requirements: str, source: str) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text(requirements)
    (root / "app.py").write_text(source)
    return root


def test_an_app_with_split_settings_runs_on_the_scratch_database(
    tmp_path: Path, pg_server: str
) -> None:
    root = small_app(
        tmp_path,
        "flask==3.0.3\npsycopg==3.2.3\n",
        "import os\n\nimport psycopg\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n"
        "@app.get('/')\ndef index():\n"
        "    with psycopg.connect(host=os.environ['DB_HOST'], port=os.environ['DB_PORT'],\n"
        "                         dbname=os.environ['DB_NAME'], user=os.environ['DB_USER'],\n"
        "                         password=os.environ.get('DB_PASSWORD', '')) as conn:\n"
        "        conn.execute('CREATE TABLE IF NOT EXISTS hits (n int)')\n"
        "        conn.execute('INSERT INTO hits VALUES (1)')\n"
        "        return {'db': conn.info.dbname}\n",
    )
    result = run_verify(root, "--only", "backup", "--json", "--database-url", pg_server)
    assert result.returncode in (0, 1), result.stderr
    card = json.loads(result.stdout)
    (note,) = [line for line in card["boot"] if line.startswith("PostgreSQL")]
    assert "as DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME" in note, note
    (backup,) = card["items"]
    assert backup["status"] == "pass", backup
    # verify's first request (is it up?) made the app write its table in the scratch database:
    # the backup found it there, with rows, and had nothing to seed
    assert backup["measures"]["seeded_rows"] == 0, backup
    assert backup["measures"]["tables"] == 1 and backup["measures"]["rows"] >= 1, backup


def test_the_app_gets_the_scratch_url_with_the_driver_its_own_urls_name(
    tmp_path: Path, pg_server: str
) -> None:
    """--database-url says postgresql://; the app's own default says postgresql+psycopg://, and
    SQLAlchemy reads a bare postgresql:// as psycopg2, which the app does not have."""
    root = small_app(
        tmp_path,
        "flask==3.0.3\nsqlalchemy==2.0.36\npsycopg==3.2.3\n",
        "import os\n\nfrom flask import Flask\n\n"
        "URL = os.environ.get('DATABASE_URL', 'postgresql+psycopg://app@localhost/app')\n"
        "if not URL.startswith('postgresql+psycopg://'):\n"
        "    raise RuntimeError(f'no psycopg2 here: {URL}')\n"
        "app = Flask(__name__)\n\n\n@app.get('/')\ndef index():\n    return 'ok'\n",
    )
    result = run_verify(root, "--only", "check", "--json", "--database-url", pg_server)
    assert result.returncode in (0, 1), result.stderr
    assert any("scratch database" in line for line in json.loads(result.stdout)["boot"])
