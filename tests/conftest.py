"""Shared fixtures: a database per backend, a controllable clock, the local Bot API server,
and the real bot running against it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from tests import databases
from tests.harness import BotHarness, Clock
from tests.subprocess_site.no_fsync import commit_without_waiting_for_the_disk

POSTGRES_URL = databases.postgres_url_from_env()


def _one_tls_context_for_all_clients() -> None:
    """Every httpx client loads the CA bundle into a new TLS context (about 45 ms of CPU), and
    python-telegram-bot makes two clients a bot, so a test pays for two or three. The tests
    speak plain HTTP to the local server; one context with the same default settings serves
    every client of this process."""
    import httpx._transports.default as transports

    original = getattr(transports, "create_ssl_context", None)
    if original is None:  # httpx changed: nothing to share, nothing broken
        return
    shared = {}

    def create_ssl_context(verify=True, cert=None, trust_env=True):
        if verify is not True or cert is not None:
            return original(verify=verify, cert=cert, trust_env=trust_env)
        if trust_env not in shared:
            shared[trust_env] = original(verify=True, cert=None, trust_env=trust_env)
        return shared[trust_env]

    transports.create_ssl_context = create_ssl_context


_one_tls_context_for_all_clients()
# Test databases commit without waiting for the disk: SQLite here (and in the processes tests
# start, tests/cli.py), PostgreSQL for the run's database (postgres_database below).
commit_without_waiting_for_the_disk()
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
    asyncio.run(databases.commit_without_waiting(url))
    asyncio.run(databases.migrate(url))
    yield url
    asyncio.run(databases.drop_postgres_database(POSTGRES_URL, url))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, sqlite_template):
    """A migrated, empty database on each backend in turn."""
    if request.param == "sqlite":
        return databases.sqlite_copy(sqlite_template, tmp_path)
    url = request.getfixturevalue("postgres_database")
    asyncio.run(databases.empty_all(url))
    return url


@pytest.fixture
def pg_url(request):
    """PostgreSQL only, for tests of PostgreSQL behaviour (workers, dropped connections).
    Sync on purpose: the session fixture behind it creates the database with asyncio.run."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL is not configured (set TEST_DATABASE_URL; CI always does)")
    url = request.getfixturevalue("postgres_database")
    asyncio.run(databases.empty_all(url))
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


# Files whose tests run real processes, a browser, or real time, longest first. They go to
# the front of the run: with the Makefile's --maxschedchunk 1 the workers take them one at a
# time from the start, and the run ends on short tests instead of one worker on a minute-long
# test while the others wait. Order only: every test still runs.
LONG_FIRST = (
    "test_poller.py", "test_faults.py", "test_cli_end_to_end.py", "test_log_privacy.py",
    "test_operator_errors.py", "test_dashboard_browser.py", "test_interleaving.py",
    "test_fuzz.py", "test_logs.py", "test_audit_export.py", "test_meetings_import.py",
    "test_backup_restore.py", "test_screen_cli.py", "test_deploy_kit.py",
)  # fmt: skip


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))  # stable
