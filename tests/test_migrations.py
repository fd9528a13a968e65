"""Migrations produce exactly the models' schema, on each backend, and downgrade cleanly."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from db.migrate import downgrade, head_revision, upgrade
from db.models import Base
from tests import databases
from tests.cli import operator_env
from tests.conftest import BACKENDS, POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=BACKENDS)
async def empty_url(request, tmp_path):
    """A database with nothing in it (not even the migrations)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = await databases.create_postgres_database(POSTGRES_URL, prefix="aftercare_mig")
    yield url
    await databases.drop_postgres_database(POSTGRES_URL, url)


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def _tables(connection):
    return set(inspect(connection).get_table_names())


async def test_migrations_match_models_and_downgrade_to_base(empty_url):
    engine = create_engine(empty_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            tables = await connection.run_sync(_tables)
        assert tables == set(Base.metadata.tables) | {"alembic_version"}

        await downgrade(engine, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) <= {"alembic_version"}

        await upgrade(engine)  # and back up again, from base
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_sqlite_engine_pragmas(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.connect() as connection:
            driver = await connection.get_raw_connection()
            cursor = await driver.driver_connection.execute("PRAGMA journal_mode")
            assert (await cursor.fetchone())[0] == "wal"
            cursor = await driver.driver_connection.execute("PRAGMA foreign_keys")
            assert (await cursor.fetchone())[0] == 1
            cursor = await driver.driver_connection.execute("PRAGMA busy_timeout")
            assert (await cursor.fetchone())[0] == SQLITE_BUSY_TIMEOUT_MS
    finally:
        await engine.dispose()


async def test_the_alembic_command_migrates_without_the_bot(tmp_path):
    """`alembic upgrade head` (docs/architecture.md, Schema changes) reads DATABASE_URL from a
    .env file as the bot does, and runs with `bot` unimportable: migrations need no bot."""
    database = tmp_path / "cli.db"
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite+aiosqlite:///{database}\n")
    script = (
        "import sys; sys.modules['bot'] = None; from alembic.config import main; "
        f"main(['-c', {str(ROOT / 'alembic.ini')!r}, 'upgrade', 'head'])"
    )
    env = operator_env(PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, (out + err).decode()
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            version = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()
    assert version == head_revision()
