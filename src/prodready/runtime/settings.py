"""`ProdSettings`: typed settings that refuse to start production with a weak secret.

    class Settings(ProdSettings):
        database_url: str
        stripe_api_key: SecretStr

    settings = Settings()
    prod = Production(app, settings=settings)   # CORS_ORIGINS, RATE_LIMIT, REDIS_URL, ... used

Where values come from, first wins: keyword arguments, environment variables, `NAME_FILE`
variables (the file's content: Docker and Kubernetes secrets), `.env.{ENVIRONMENT}`, `.env`,
files in /run/secrets.

Secrets (fields named like SECRET_KEY, *_PASSWORD, *_TOKEN, *_API_KEY ...) and passwords inside
URLs are judged by `prodready.secretstrength`, the same judge as `prodready check`'s .env rules.
With ENVIRONMENT=production a weak, default, placeholder or empty secret, a malformed URL or
DEBUG=true stops start-up with one `InsecureSettingsError` that lists every problem; elsewhere
the problems are logged as one warning and kept in `settings.problems()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from prodready import secretstrength
from prodready.errors import UserError

PRODUCTION_NAMES = frozenset({"production", "prod"})
SECRETS_DIR = "/run/secrets"
URL_SUFFIXES = ("_url", "_dsn", "_uri")


class InsecureSettingsError(UserError):
    """Settings that must not reach production, all listed in one message."""


class ProdSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    environment: str = "development"
    debug: bool = False
    secret_key: SecretStr | None = None
    database_url: str | None = None
    redis_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = []
    cors_allow_credentials: bool = False
    trusted_proxies: Annotated[list[str], NoDecode] = []
    rate_limit: str | None = None
    log_level: str = "INFO"

    def __init__(self, **values: Any) -> None:
        values.setdefault("_env_file", _env_files(values.get("environment")))
        if "_secrets_dir" not in values and os.path.isdir(SECRETS_DIR):
            values["_secrets_dir"] = SECRETS_DIR
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise UserError(
                f"invalid settings: {_summarise(error)}",
                hint="set them in the environment, a .env file or NAME_FILE secrets",
            ) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            FileVariables(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> ProdSettings:
        problems = self.problems()
        if problems and self.is_production:
            raise InsecureSettingsError(
                f"refusing to start in production, {len(problems)} problem(s): "
                + "; ".join(problems),
                hint='generate secrets with: python -c "import secrets; '
                'print(secrets.token_urlsafe(50))"',
            )
        if problems:
            from prodready.runtime.logs import get_logger

            get_logger("prodready.settings").warning(
                "insecure_settings", environment=self.environment, problems=problems
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment.strip().lower() in PRODUCTION_NAMES

    def problems(self) -> list[str]:
        """Every weak secret, bad URL and production-unsafe flag, one phrase each. Never
        includes a secret's value."""
        found = []
        if self.debug and self.is_production:
            found.append("DEBUG is on")
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if not isinstance(value, str):
                continue
            label = name.upper()
            if name.endswith(URL_SUFFIXES):
                found.extend(_url_problems(label, value))
            elif secretstrength.is_secret_name(label):
                judgement = secretstrength.judge(value, label)
                if judgement.verdict != secretstrength.Verdict.STRONG:
                    found.append(f"{label} {judgement.reason}")
        return found


class FileVariables(PydanticBaseSettingsSource):
    """`SECRET_KEY_FILE=/run/secrets/key` sets SECRET_KEY to the file's content."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        environ = {key.upper(): value for key, value in os.environ.items()}
        for name in self.settings_cls.model_fields:
            path = environ.get(f"{name.upper()}_FILE")
            if not path:
                continue
            try:
                values[name] = Path(path).read_text().rstrip("\r\n")
            except OSError as error:
                raise UserError(
                    f"{name.upper()}_FILE points to {path}, which cannot be read: {error.strerror}",
                    hint="mount the secret there, or unset the variable",
                ) from None
        return values


def _env_files(environment: str | None) -> tuple[str, ...]:
    """.env, then .env.{ENVIRONMENT} (which wins); ENVIRONMENT may itself come from .env."""
    if environment is None:
        environment = os.environ.get("ENVIRONMENT")
    if environment is None and Path(".env").is_file():
        from dotenv import dotenv_values

        environment = dotenv_values(".env").get("ENVIRONMENT")
    environment = (environment or "development").strip().lower()
    return (".env", f".env.{environment}")


def _url_problems(label: str, value: str) -> list[str]:
    if not value:
        return []
    parts = urlsplit(value)
    local = parts.scheme.startswith(("sqlite", "file", "unix", "redis+unix"))
    if "://" not in value or not (parts.netloc or (local and parts.path)):
        return [f"{label} is not a URL (expected scheme://user:password@host:port/name)"]
    if parts.password is None:
        return []
    judgement = secretstrength.judge(parts.password, label)
    if judgement.verdict == secretstrength.Verdict.STRONG:
        return []
    return [f"{label} has a password that {judgement.reason}"]


def _summarise(error: ValidationError) -> str:
    phrases = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]).upper() or "settings"
        phrases.append(f"{where}: {problem['msg'].lower()}")
    return "; ".join(phrases)
