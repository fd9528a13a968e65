"""Migrations produce exactly the models' schema, on each backend, and downgrade cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from db.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine
from db.migrate import downgrade, upgrade
from db.models import Base
from tests import databases
from tests.conftest import BACKENDS, POSTGRES_URL


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
