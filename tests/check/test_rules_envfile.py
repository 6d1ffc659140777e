"""Which .env variables hold a secret: settings about a secret (timeouts, lifetimes, switches)
do not, and an optional integration's empty DSN is not an empty secret (PR701)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.rules._common import is_secret_setting
from tests.check.helpers import findings_for


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DJANGO_SECRET_KEY", True),
        ("DB_PASSWORD", True),
        ("API_TOKEN", True),
        ("JWT_SECRET", True),
        ("PASSWORD_RESET_TIMEOUT", False),
        ("TOKEN_LIFETIME", False),
        ("REFRESH_TOKEN_LIFETIME_DAYS", False),
        ("JWT_SECRET_ROTATION_DAYS", False),
        ("API_KEY_ENABLED", False),
        ("PASSWORD_HASHER", False),
        ("TOKEN_TYPE", False),
        ("AWS_ACCESS_KEY_ID", False),
        ("MYSQL_RANDOM_ROOT_PASSWORD", False),
        ("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", False),
        ("MYSQL_ROOT_PASSWORD", True),
    ],
)
def test_is_secret_setting(name: str, secret: bool) -> None:
    assert is_secret_setting(name) is secret


def test_pr701_settings_about_secrets_and_optional_dsn(tmp_path: Path) -> None:
    (tmp_path / ".env.production").write_text(
        "PASSWORD_RESET_TIMEOUT=259200\nTOKEN_LIFETIME=3600\nAPI_KEY_ENABLED=true\n"
        "SENTRY_DSN=\nSECRET_KEY_FALLBACKS=\nSECRET_KEY=\nDB_PASSWORD=123456\n"
    )
    found = {f.line: f.severity for f in findings_for(tmp_path, "PR701")}
    assert found == {6: "warning", 7: "error"}


@pytest.mark.parametrize(
    ("line", "reported"),
    [
        ("SECRET_KEY=please-change-me-to-a-long-random-string", False),
        ("DJANGO_SECRET_KEY=your-secret-key-goes-here", False),
        ("JWT_SECRET=replace-with-output-of-openssl-rand-hex-32", False),
        ("API_TOKEN=CHANGE_ME_TO_A_RANDOM_STRING", False),
        ("POSTGRES_PASSWORD=supersecretpassword", False),
        ("STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", False),
        ("SESSION_TOKEN=use-a-long-random-string", False),
        ("STRIPE_API_KEY=sk_live_51HqLyjWDarjtT1zdp7dcXzQ9m4kR2vBn", True),
        ("DJANGO_SECRET_KEY=q3V9x-Lm2Rt8Kp4Wz7Nb1Cd5Fg0Hj9Km3Qv7Xa2Ee6Ty8", True),
    ],
)
def test_pr705_placeholders_written_as_words_are_not_real(
    tmp_path: Path, line: str, reported: bool
) -> None:
    (tmp_path / ".env.example").write_text(line + "\n")
    assert bool(findings_for(tmp_path, "PR705")) is reported


def test_lines_are_those_of_the_variables_after_blank_lines(tmp_path: Path) -> None:
    """python-dotenv's bindings start at the blank lines before them: the FastAPI template's
    SECRET_KEY (line 6) was reported on line 5."""
    (tmp_path / ".env").write_text(
        "# Logging of the app\nLOG_LEVEL=info\n\nNAME=shop\n\n\nSECRET_KEY=changeme\n"
    )
    assert [f.line for f in findings_for(tmp_path, "PR701")] == [7]


def test_a_placeholder_the_app_refuses_says_what_happens_with_it(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SECRET_KEY=changethis\nDB_PASSWORD=changeme\n")
    (tmp_path / "config.py").write_text(
        "import os\n\nSECRET_KEY = os.environ['SECRET_KEY']\n"
        "if SECRET_KEY == 'changethis':\n    raise ValueError('set SECRET_KEY')\n"
    )
    found = {f.line: f.message for f in findings_for(tmp_path, "PR701")}
    assert "refuses to start" in found[1] and "checks for" in found[1]
    assert "refuses to start" not in found[2]  # the app does not check this one


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ("FASTAPI_ENV=development\n", []),
        ("APP_ENV=local\n", []),
        ("APP_ENV=production\n", [2]),
        # a production file with a development switch left on (PR702's case) stays production
        ("APP_ENV=development\nDJANGO_SETTINGS_MODULE=shop.settings.production\n", [3]),
    ],
)
def test_pr701_an_env_file_that_says_it_is_for_development(
    tmp_path: Path, first_line: str, expected: list[int]
) -> None:
    """From the ecosystem run: a plain `.env` whose content sets its environment to
    development holds a developer's placeholders; one that says production is still judged."""
    (tmp_path / ".env").write_text(f"{first_line}SECRET_KEY=changethis\n")
    (tmp_path / "app.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n")
    assert [f.line for f in findings_for(tmp_path, "PR701")] == expected
