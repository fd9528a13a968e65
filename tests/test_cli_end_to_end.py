"""`aftercare` as an operator runs it: a real process against the local Bot API server.

This is the closest test to production: the CLI, the migrations on start, long polling,
enrollment, a check-in, and the log at DEBUG, which must never contain the token.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from tests.cli import WAIT, aftercare, free_port, operator_env, until_started
from tests.fake_telegram import FakeTelegram

TOKEN = "987654:E2E-secret-token-do-not-log"


def cli_env(tg: FakeTelegram, tmp_path, **extra: str) -> dict[str, str]:
    values = dict(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=tg.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}",
        LOG_LEVEL="DEBUG",
        TICK_INTERVAL_SECONDS="1",
        STATUS_LISTEN=f"127.0.0.1:{free_port()}",
        # The test taps and types faster than any person: without this each reply to the same
        # chat waited a second behind the last (tests/harness.py does the same; the spacing is
        # tested on its own, in tests/test_rate_limit.py).
        RATE_CHAT_INTERVAL_SECONDS="0",
    )
    return operator_env(**(values | extra))


async def reply_to(tg: FakeTelegram, chat_id: int, text: str) -> dict:
    before = len(tg.sent(chat_id))
    tg.push_message(chat_id, text)
    return (await tg.wait_for_sent(chat_id, count=before + 1, timeout=WAIT))[-1]


async def tap(tg: FakeTelegram, chat_id: int, label: str) -> dict:
    before = len(tg.sent(chat_id))
    message = next(
        m
        for m in reversed(tg.sent(chat_id))
        if (m.get("reply_markup") or {}).get("inline_keyboard")
    )
    tg.push_callback(chat_id, message["message_id"], tg.button_data(message, label))
    return (await tg.wait_for_sent(chat_id, count=before + 1, timeout=WAIT))[-1]


@pytest.fixture
async def tg():
    async with FakeTelegram(token=TOKEN, bot_username="aftercare_e2e_bot") as server:
        yield server


async def test_operator_runs_the_bot_and_the_token_never_reaches_the_log(tg, tmp_path):
    env = cli_env(tg, tmp_path)
    code, out, err = await aftercare(env, tmp_path, "invite-counselor", "--name", "Dana Reyes")
    assert code == 0, err
    link = out.strip().splitlines()[-1]
    assert link.startswith("https://t.me/aftercare_e2e_bot?start=")

    # A file, not a pipe: an unread pipe fills up and blocks the bot's logging.
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
            stdout=log_file, stderr=log_file,
        )  # fmt: skip
    completed = False
    try:
        await until_started(process, log_path)
        tg.user(1001, first_name="Dana")
        tg.user(2001, first_name="Sam")
        welcome = await reply_to(tg, 1001, "/start " + link.rsplit("=", 1)[1])
        assert "registered as a counselor" in welcome["text"]
        invite = await reply_to(tg, 1001, "/invite Sam")
        token = invite["text"].split("?start=")[1].split()[0]
        assert "Welcome, Sam" in (await reply_to(tg, 2001, "/start " + token))["text"]
        assert "time zone" in (await tap(tg, 2001, "Yes, I agree"))["text"]
        assert "America/Denver" in (await reply_to(tg, 2001, "America/Denver"))["text"]
        assert "weekly" in (await reply_to(tg, 2001, "08:15"))["text"]
        assert "all set" in (await tap(tg, 2001, "Sun"))["text"]
        assert "mood" in (await reply_to(tg, 2001, "/checkin"))["text"]
        assert "cravings" in (await tap(tg, 2001, "4"))["text"]
        assert "used alcohol" in (await reply_to(tg, 2001, "2"))["text"]
        completed = True
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), WAIT)
        log = log_path.read_text()
        if not completed:
            print(log[-6000:])  # pytest shows it with the failure
    assert "DEBUG" in log  # the log really was at DEBUG
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    assert process.returncode == 0, log[-3000:]


async def test_run_without_a_token_explains_itself(tg, tmp_path):
    env = cli_env(tg, tmp_path)
    env.pop("TELEGRAM_BOT_TOKEN")
    code, _, err = await aftercare(env, tmp_path, "run")
    assert code == 2 and "TELEGRAM_BOT_TOKEN is not set" in err


async def test_a_second_process_on_one_sqlite_file_is_refused(tg, tmp_path):
    from db.single_process import hold_lock

    env = cli_env(tg, tmp_path)
    descriptor = hold_lock(env["DATABASE_URL"])  # as if another `aftercare run` held it
    try:
        code, _, err = await aftercare(env, tmp_path, "run")
    finally:
        os.close(descriptor)
    assert code == 2
    assert "another aftercare process is already running" in err and "PostgreSQL" in err
