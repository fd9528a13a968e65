"""Test databases: a migrated SQLite file per test, and one PostgreSQL database per run.

PostgreSQL runs when TEST_DATABASE_URL is set; with CI=true it is required (default URL
below) and an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.runner import migrate
from db.engine import create_engine
from db.models import Base

CI_DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url_from_env() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url and os.environ.get("CI", "").lower() == "true":
        url = CI_DEFAULT_POSTGRES
    return url


def postgres_required() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def create_postgres_database(url: str, prefix: str = "aftercare_t") -> str:
    """A fresh, empty database beside the one in `url`; returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / "aftercare.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


async def truncate_all(url: str) -> None:
    """Empty every table (PostgreSQL), keeping the migrated schema."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
