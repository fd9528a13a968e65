"""The backup and restore in docs/operators.md, with its commands: pg_dump and pg_restore into
a new database, and SQLite's .backup; the restored copy holds the same participants and is at
the current revision."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.engine import create_engine, create_sessionmaker
from db.migrate import head_revision
from db.models import Participant
from tests import databases
from tests.cli import aftercare, operator_env


async def participants(url: str) -> int:
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(Participant))
    await engine.dispose()
    return count


async def run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, (command[0], err.decode())


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if databases.postgres_required():
            pytest.fail(f"{tool} is needed to test the documented backup")
        pytest.skip(f"{tool} is not installed")


async def test_pg_dump_and_pg_restore_into_a_new_database(pg_url, tmp_path):
    need("pg_dump")
    await databases.add_due_participants(pg_url, 25, 40_000, datetime.now(UTC))
    libpq = databases.asyncpg_dsn(pg_url)
    dump = tmp_path / "aftercare.dump"
    await run("pg_dump", "--format=custom", f"--file={dump}", libpq)
    restored = await databases.create_postgres_database(pg_url, prefix="aftercare_restored")
    try:
        await run("pg_restore", "--no-owner", f"--dbname={databases.asyncpg_dsn(restored)}",
                  str(dump))  # fmt: skip
        code, out, err = await aftercare(operator_env(DATABASE_URL=restored), tmp_path,
                                         "db", "upgrade")  # fmt: skip
        assert code == 0, err
        assert out.strip() == f"database is up to date (revision {head_revision()})"
        assert await participants(restored) == 25
    finally:
        await databases.drop_postgres_database(pg_url, restored)
    assert make_url(restored).database != make_url(pg_url).database


async def test_sqlite_backup_and_restore(tmp_path, sqlite_template):
    need("sqlite3")
    url = databases.sqlite_copy(sqlite_template, tmp_path)
    live = make_url(url).database
    await databases.add_due_participants(url, 7, 41_000, datetime.now(UTC))
    backup = tmp_path / "backup.db"
    await run("sqlite3", live, f".backup '{backup}'")
    await databases.truncate_all_sqlite(url)  # the loss the backup is for
    assert await participants(url) == 0
    shutil.copyfile(backup, live)  # the restore: the bot stopped, the backup copied over
    for leftover in (Path(f"{live}-wal"), Path(f"{live}-shm")):
        leftover.unlink(missing_ok=True)
    assert await participants(url) == 7
