"""The log an operator reads, from a real process: quiet at INFO (no line per scheduler run),
one start-up line that says what runs where, and LOG_FORMAT=json as one object a line."""

from __future__ import annotations

import asyncio
import json
import signal

from tests.cli import free_port, operator_env, start_bot, until_started
from tests.fake_telegram import FakeTelegram

TOKEN = "313131:LOGS-test-token-never-printed"


async def test_info_is_quiet_json_and_starts_with_one_line_saying_what_runs(tmp_path):
    async with FakeTelegram(token=TOKEN, bot_username="aftercare_logs_bot") as tg:
        env = operator_env(
            TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=tg.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}",
            STATUS_LISTEN=f"127.0.0.1:{free_port()}", LOG_LEVEL="INFO", LOG_FORMAT="json",
            TICK_INTERVAL_SECONDS="0.25", DISPATCH_INTERVAL_SECONDS="0.25",
            SWEEP_INTERVAL_SECONDS="0.25",
        )  # fmt: skip
        log = tmp_path / "bot.log"
        bot = await start_bot(env, tmp_path, log)
        try:
            await until_started(bot, log)
            await asyncio.sleep(2)  # some two dozen scheduler runs
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
    entries = [json.loads(line) for line in log.read_text().splitlines()]  # each line JSON
    assert bot.returncode == 0
    messages = [entry["message"] for entry in entries]
    assert not [m for m in messages if "Running job" in m or "executed successfully" in m]
    assert len(entries) <= 15, messages  # no line per scheduler run
    [started] = [m for m in messages if m.startswith("aftercare ") and " started: " in m]
    assert "polling mode" in started and "@aftercare_logs_bot" in started
    assert f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}" in started
    assert {"time", "level", "logger", "message"} <= entries[0].keys()
