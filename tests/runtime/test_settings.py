"""ProdSettings: layered .env files, NAME_FILE secrets, and refusing weak production secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from prodready.errors import UserError
from prodready.runtime.settings import InsecureSettingsError, ProdSettings

STRONG = "Yk3v9Xq7mR2pL8sT4wZ6nB1cD5fG0hJ9kM3qV7xA2eE"


class AppSettings(ProdSettings):
    stripe_api_key: SecretStr | None = None
    db_password: str | None = None


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("ENVIRONMENT", "SECRET_KEY", "DATABASE_URL", "DEBUG", "CORS_ORIGINS",
                 "STRIPE_API_KEY", "DB_PASSWORD", "SECRET_KEY_FILE", "REDIS_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_env_then_environment_specific_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"ENVIRONMENT=staging\nSECRET_KEY={STRONG}\nCORS_ORIGINS=https://a.example, "
        "https://b.example\nLOG_LEVEL=DEBUG\n"
    )
    (tmp_path / ".env.staging").write_text("LOG_LEVEL=WARNING\n")
    settings = AppSettings()
    assert settings.environment == "staging"
    assert settings.log_level == "WARNING", ".env.{ENVIRONMENT} overrides .env"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.problems() == []


def test_file_variables_and_environment_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(STRONG + "\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret_file))
    (tmp_path / ".env").write_text("SECRET_KEY=from-dotenv\n")
    assert AppSettings().secret_key.get_secret_value() == STRONG
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(UserError, match=r"SECRET_KEY_FILE points to .*missing.*cannot be read"):
        AppSettings()


def test_production_refuses_every_problem_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "changeme")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:postgres@db:5432/app")
    monkeypatch.setenv("STRIPE_API_KEY", "<your-key-here>")
    monkeypatch.setenv("DB_PASSWORD", "summer2024")
    monkeypatch.setenv("DEBUG", "true")
    with pytest.raises(InsecureSettingsError) as caught:
        AppSettings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("refusing to start in production, 5 problem(s): ")
    for phrase in ("DEBUG is on", "SECRET_KEY is a well-known default",
                   "DATABASE_URL has a password that is a well-known default",
                   "STRIPE_API_KEY is a placeholder", "DB_PASSWORD is weak"):  # fmt: skip
        assert phrase in message
    assert "changeme" not in message and "summer2024" not in message, "never print a secret"
    assert "secrets.token_urlsafe" in caught.value.hint


def test_outside_production_problems_are_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "secret")
    settings = AppSettings()
    assert settings.problems() == ["SECRET_KEY is a well-known default password"]


def test_malformed_url_and_bad_types_are_one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "db.internal:5432")
    with pytest.raises(InsecureSettingsError, match="DATABASE_URL is not a URL"):
        AppSettings()
    monkeypatch.setenv("DEBUG", "perhaps")
    with pytest.raises(UserError, match=r"invalid settings: DEBUG: .*bool") as caught:
        AppSettings()
    assert "\n" not in str(caught.value)


def test_production_uses_settings_for_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import Flask

    from prodready.runtime import Production

    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.com")
    monkeypatch.setenv("RATE_LIMIT", "10/second")
    prod = Production(Flask(__name__), settings=AppSettings(), json_logs=False)
    assert prod.options.cors_origins == ("https://app.example.com",)
    assert prod.options.rate_limit == "10/second"


def test_weak_production_secret_stops_an_app_with_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "settings_app.py").write_text(
        "from prodready.runtime import ProdSettings\nsettings = ProdSettings()\n"
    )
    env = {"ENVIRONMENT": "production", "SECRET_KEY": "password123", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "import settings_app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == (
        "prodready.runtime.settings.InsecureSettingsError: refusing to start in production, "
        "1 problem(s): SECRET_KEY is a well-known default password"
    )
