"""Test databases: a migrated SQLite file per test, and one PostgreSQL database per run.

PostgreSQL runs when TEST_DATABASE_URL is set; with CI=true it is required (default URL
below) and an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bot.runner import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Base, Counselor, Participant

CI_DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url_from_env() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url and os.environ.get("CI", "").lower() == "true":
        url = CI_DEFAULT_POSTGRES
    return url


def postgres_required() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    """The SQLAlchemy URL as a plain PostgreSQL DSN, for asyncpg itself."""
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def create_postgres_database(url: str, prefix: str = "aftercare_t") -> str:
    """A fresh, empty database beside the one in `url`; returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _execute(url, f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def commit_without_waiting(url: str) -> None:
    """The database's commits return before the WAL reaches the disk (synchronous_commit=off
    for every connection to it, the bot's processes' too). For the test session's database
    only, never the bench's (its figures are the product's) nor the product's defaults: a crash
    could lose the last commits of a database that is thrown away anyway."""
    name = make_url(url).database
    await _execute(url, f'ALTER DATABASE "{name}" SET synchronous_commit = off')


async def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    await _execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _execute(url: str, statement: str) -> None:
    """SQL on a connection of its own (CREATE and DROP DATABASE can't run in a transaction)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
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


async def empty_all(url: str) -> None:
    """Empty every table (PostgreSQL), keeping the migrated schema, and start every sequence
    at 1 again, as TRUNCATE ... RESTART IDENTITY would. DELETE, children first, in one
    transaction: TRUNCATE makes new files for every table and index (about 0.4 s a test),
    deleting a test's few rows costs milliseconds."""
    tables = reversed(Base.metadata.sorted_tables)
    deletes = "".join(f'DELETE FROM "{t.name}";' for t in tables)  # noqa: S608 - our own names
    restart = (
        "SELECT setval(c.oid, 1, false) FROM pg_class c "
        "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace;"
    )
    await _execute(url, f"BEGIN;{deletes}{restart}COMMIT;")


async def truncate_all_sqlite(url: str) -> None:
    """Empty every table of a SQLite database, children first."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()


async def add_due_participants(
    url: str, count: int, first_chat: int, due: datetime, *, not_due: int = 0
) -> None:
    """`count` active participants with chats first_chat.., all due at `due`, then `not_due`
    more whose check-in is a day later. Bulk, past the handlers: for broadcasts in the
    benchmark and the fault tests."""
    engine = create_engine(url)
    async with create_sessionmaker(engine).begin() as session:
        counselor = Counselor(telegram_user_id=1, name="Dana", created_at=due)
        session.add(counselor)
        await session.flush()
        rows = [
            dict(telegram_user_id=first_chat + i, chat_id=first_chat + i, first_name="P",
                 counselor_id=counselor.id, status="active", timezone="America/New_York",
                 checkin_time="09:00", next_checkin_at=due, checkins_started=0,
                 last_milestone=0, created_at=due)
            for i in range(count + not_due)
        ]  # fmt: skip
        for row in rows[count:]:
            row["next_checkin_at"] = due + timedelta(days=1)
        for start in range(0, len(rows), 10_000):  # bounded statements for 100,000 rows
            await session.execute(insert(Participant), rows[start : start + 10_000])
    await engine.dispose()
