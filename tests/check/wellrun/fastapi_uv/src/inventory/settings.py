from functools import lru_cache

from pydantic import PostgresDsn, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_", env_file=None)

    database_url: PostgresDsn
    secret_key: SecretStr
    pool_size: int = 5
    max_overflow: int = 5
    upstream_url: str = "https://catalog.internal.example.com"


@lru_cache
def get_settings() -> Settings:
    return Settings()
