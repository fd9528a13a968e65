"""What an operator sees when something is wrong, as real processes: a configuration error in
at most 3 lines naming the variable, a database or Bot API that isn't there yet retried with
one line per attempt, and no traceback anywhere."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import make_url

from db import audit
from db.engine import create_engine, create_sessionmaker
from db.migrate import head_revision
from tests.cli import aftercare, free_port, operator_env, start_bot, until_started
from tests.fake_telegram import FakeTelegram
from tests.tcp_proxy import TcpProxy

HEAD = head_revision()
TOKEN = "424242:OPERATOR-errors-token-secret"


def env_for(tmp_path, **values: str) -> dict[str, str]:
    base = dict(
        TELEGRAM_BOT_TOKEN=TOKEN,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}",
        STATUS_LISTEN=f"127.0.0.1:{free_port()}",
    )
    return operator_env(**(base | values))


@pytest.mark.parametrize(
    "values, variable, hint",
    [
        ({"WEBHOOK_SECRET": "has spaces hunter2secret"}, "WEBHOOK_SECRET", "A-Z, a-z, 0-9"),
        ({"DATABASE_URL": "postgresql://bot:hunter2secret@db/aftercare"}, "DATABASE_URL",
         "postgresql+asyncpg://"),
        ({"DATABASE_URL": "not a url hunter2secret"}, "DATABASE_URL", "can't be parsed"),
        ({"LOG_LEVEL": "VERBOSE"}, "LOG_LEVEL", "DEBUG, INFO"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT", "text or json"),
        ({"STATUS_LISTEN": "everywhere"}, "STATUS_LISTEN", "HOST:PORT"),
        ({"STARTUP_RETRY_SECONDS": "-1"}, "STARTUP_RETRY_SECONDS", "greater than or equal"),
        ({"WEBHOOK_URL": "https://bot.example.org/tg"}, "WEBHOOK_SECRET", "must be set"),
    ],
)  # fmt: skip
async def test_a_configuration_error_is_three_lines_naming_the_variable(
    tmp_path, values, variable, hint
):
    code, out, err = await aftercare(env_for(tmp_path, **values), tmp_path, "run")
    assert code == 2, err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 3, err
    assert variable in lines[0] and hint in err and "Fix it" in lines[-1]
    assert "hunter2secret" not in err + out and "input_value" not in err
    assert "Traceback" not in err


async def test_an_unreachable_database_is_retried_then_given_up_in_one_line(tmp_path):
    closed = free_port()
    url = f"postgresql+asyncpg://bot:pw-secret-1@127.0.0.1:{closed}/x"
    env = env_for(tmp_path, STARTUP_RETRY_SECONDS="2", DATABASE_URL=url)
    code, _, err = await aftercare(env, tmp_path, "run")
    assert code == 1, err
    lines = err.strip().splitlines()
    assert all("can't be reached" in line for line in lines), err  # one line per attempt
    assert len(lines) >= 2 and "retrying in" in lines[0]
    assert lines[-1].split(": ", 1)[1].startswith("gave up after 2 s (STARTUP_RETRY_SECONDS)")
    assert f"connection refused at 127.0.0.1:{closed}" in lines[-1]
    assert "pw-secret-1" not in err and "Traceback" not in err


async def test_an_unreachable_bot_api_is_retried_then_given_up(tmp_path):
    env = env_for(tmp_path, STARTUP_RETRY_SECONDS="2",
                  TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")  # fmt: skip
    code, _, err = await aftercare(env, tmp_path, "run")
    assert code == 1, err
    assert "the Bot API can't be reached" in err.strip().splitlines()[-1]
    assert TOKEN.split(":")[1] not in err and "Traceback" not in err


async def test_a_missing_database_stops_at_once_in_one_line(pg_url, tmp_path):
    missing = make_url(pg_url).set(database="aftercare_no_such_db").render_as_string(False)
    code, _, err = await aftercare(env_for(tmp_path, DATABASE_URL=missing), tmp_path, "run")
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert "'aftercare_no_such_db' does not exist" in line and "createdb" in line


async def test_a_database_that_comes_up_late_is_waited_for(pg_url, tmp_path):
    """After a reboot PostgreSQL may start after the bot: it waits, then runs."""
    url = make_url(pg_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    await proxy.down()  # the port is known, and nothing listens on it yet
    late = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    async with FakeTelegram(token=TOKEN, bot_username="aftercare_late_bot") as tg:
        env = env_for(tmp_path, DATABASE_URL=late, TELEGRAM_API_BASE_URL=tg.base_url)
        log = tmp_path / "bot.log"
        bot = await start_bot(env, tmp_path, log)
        try:
            await tg.wait_for(lambda: "attempt 2, retrying" in log.read_text(), timeout=30,
                              interval=0.2, message="two attempts at the database")  # fmt: skip
            assert bot.returncode is None
            await proxy.up()
            await until_started(bot, log)
            tg.user(90_001, first_name="P")
            tg.push_message(90_001, "hello")
            await tg.wait_for_sent(90_001, timeout=30)
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
            await proxy.down()
    text = log.read_text()
    assert "the database can't be reached (connection refused" in text
    assert "Traceback" not in text and bot.returncode == 0


async def test_version_and_db_upgrade_say_where_they_stand(tmp_path):
    env = env_for(tmp_path)
    code, out, _ = await aftercare(env, tmp_path, "--version")
    assert code == 0 and out.startswith("aftercare ") and out.strip() != "aftercare unknown"
    code, out, err = await aftercare(env, tmp_path, "db", "upgrade")
    assert code == 0, err
    assert out.strip() == f"database upgraded from empty to revision {HEAD}"
    code, out, _ = await aftercare(env, tmp_path, "db", "upgrade")
    assert out.strip() == f"database is up to date (revision {HEAD})"


async def test_a_closed_pipe_ends_an_export_quietly_and_it_is_still_recorded(tmp_path):
    env = env_for(tmp_path)
    assert (await aftercare(env, tmp_path, "db", "upgrade"))[0] == 0
    engine = create_engine(env["DATABASE_URL"])
    now = datetime.now(UTC)
    async with create_sessionmaker(engine).begin() as session:
        for n in range(5000):  # far more than a pipe's buffer holds
            audit.record(session, now, "cli", "history_viewed", f"participant:{n}")
    # `aftercare audit export ... | head -1`: the reader takes one line and goes away.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "audit", "export", "--since", "2000-01-01", env=env,
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    header = await process.stdout.readline()
    assert header.startswith(b"at,")
    process._transport.get_pipe_transport(1).close()  # close our end, as head does
    err = await asyncio.wait_for(process.stderr.read(), 30)
    assert await process.wait() == 0
    assert err == b"", err.decode()
    async with create_sessionmaker(engine)() as session:
        events = [e async for e in audit.between(session, now, None)]
    await engine.dispose()
    [export] = [e for e in events if e.action == "audit_exported"]
    assert export.details["reader_closed"] is True


async def test_a_schema_newer_than_this_version_refuses_to_start(tmp_path):
    """After a roll back without restoring the backup: stop, don't run on an unknown schema."""
    import sqlite3

    env = env_for(tmp_path)
    assert (await aftercare(env, tmp_path, "db", "upgrade"))[0] == 0
    with sqlite3.connect(tmp_path / "ops.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    code, _, err = await aftercare(env, tmp_path, "run")
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert "schema is not one this version knows" in line and "restore" in line
