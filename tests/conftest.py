"""Shared fixtures: a database per backend, a controllable clock, the local Bot API server,
and the real bot running against it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests import databases
from tests.harness import BotHarness, Clock

POSTGRES_URL = databases.postgres_url_from_env()
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def screen_model():
    """The free-text screen's model, trained once per test process (each xdist worker), as
    `aftercare run` trains it before its first update: no test's timing includes the training
    (a hypothesis deadline would not survive it)."""
    from messages.catalog import load_catalog

    return load_catalog().screen.model()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    return databases.sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_database():
    assert POSTGRES_URL
    try:
        url = asyncio.run(databases.create_postgres_database(POSTGRES_URL))
    except (OSError, Exception) as exc:  # noqa: BLE001 - any connection failure lands here
        message = f"PostgreSQL at {POSTGRES_URL} is not usable: {exc!r}"
        if databases.postgres_required():
            pytest.fail(message + " (CI=true requires it)", pytrace=False)
        pytest.skip(message)
    asyncio.run(databases.migrate(url))
    yield url
    asyncio.run(databases.drop_postgres_database(POSTGRES_URL, url))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, sqlite_template):
    """A migrated, empty database on each backend in turn."""
    if request.param == "sqlite":
        return databases.sqlite_copy(sqlite_template, tmp_path)
    url = request.getfixturevalue("postgres_database")
    asyncio.run(databases.truncate_all(url))
    return url


@pytest.fixture
def pg_url(request):
    """PostgreSQL only, for tests of PostgreSQL behaviour (workers, dropped connections).
    Sync on purpose: the session fixture behind it creates the database with asyncio.run."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL is not configured (set TEST_DATABASE_URL; CI always does)")
    url = request.getfixturevalue("postgres_database")
    asyncio.run(databases.truncate_all(url))
    return url


@pytest.fixture
def clock():
    # A Monday in winter, 14:00 UTC (09:00 in New York).
    return Clock(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))


@pytest.fixture
async def tg():
    from tests.fake_telegram import FakeTelegram

    server = FakeTelegram(
        token="123456:TEST-secret-token-abcdef", bot_username="aftercare_test_bot"
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(tg, db_url, clock):
    async with BotHarness(tg, db_url, clock) as harness:
        yield harness
