"""Which database: DATABASE_URL, read the way the bot reads it, for code that runs without the
bot's settings (the `alembic` command's db/migrations/env.py)."""

from __future__ import annotations

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./aftercare.db"


def database_url_from_environment() -> str:
    """DATABASE_URL from the environment, else from a .env file in the working directory, else
    the default (an SQLite file there), as config/settings.py's Settings reads it."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class _Database(BaseSettings):
        model_config = SettingsConfigDict(env_file=".env", extra="ignore")
        database_url: str = DEFAULT_DATABASE_URL

    return _Database().database_url
