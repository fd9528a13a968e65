"""Webhook mode over real HTTP: Telegram's secret header or 403, and nothing read or stored."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from bot import cli, webhook
from config.settings import Settings
from db.models import InboundUpdate
from tests.cli import free_port
from tests.harness import BotHarness, raw_message

SECRET = "s3cret_token-for-the-webhook"
URL = "https://bot.example.org/telegram"


async def stored_update_ids(harness) -> list[int]:
    async with harness.sessionmaker() as session:
        return list((await session.scalars(select(InboundUpdate.update_id))).all())


async def test_webhook_refuses_requests_without_the_secret(tg, db_url, clock):
    harness = BotHarness(tg, db_url, clock, webhook_url=URL, webhook_secret=SecretStr(SECRET))
    app = harness.build()
    port, stop = free_port(), asyncio.Event()
    serving = asyncio.create_task(
        webhook.serve(app, url=URL, secret=SECRET, listen="127.0.0.1", port=port, stop=stop)
    )
    try:
        await tg.wait_for(lambda: tg.calls("setWebhook"), message="the webhook to be set")
        [call] = tg.calls("setWebhook")
        assert (call["url"], call["secret_token"]) == (URL, SECRET)

        robin = harness.person(3001, "Robin")
        endpoint = f"http://127.0.0.1:{port}/telegram"
        forged = {"update_id": 900, "message": raw_message(robin, "/start", clock())}
        async with aiohttp.ClientSession() as http:
            for headers in (
                {},
                {webhook.SECRET_HEADER: ""},
                {webhook.SECRET_HEADER: "wrong"},
                {webhook.SECRET_HEADER: SECRET + "x"},
                {webhook.SECRET_HEADER: SECRET[:-1]},
                {"X-Telegram-Bot-Api-Secret": SECRET},  # the right value under another name
            ):
                async with http.post(endpoint, json=forged, headers=headers) as response:
                    assert response.status == 403
            good = {webhook.SECRET_HEADER: SECRET}
            for body in (b"not json", b"[1, 2]", b'{"no": "update_id"}'):
                async with http.post(endpoint, data=body, headers=good) as response:
                    assert response.status == 400
            real = {"update_id": 901, "message": raw_message(robin, "/start", clock(), 778)}
            async with http.post(endpoint, json=real, headers=good) as response:
                assert response.status == 200
        await app.settle(901)  # updates are handled in order: a forged one would be done too

        assert "personal link from your counselor" in robin.last_text()
        assert len(robin.messages()) == 1  # one reply, to the real update
        assert 900 not in app.handled
        assert await stored_update_ids(harness) == [901]
    finally:
        stop.set()
        await serving


def test_webhook_url_needs_a_secret():
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET must be set when WEBHOOK_URL"):
        Settings(_env_file=None, webhook_url=URL)
    with pytest.raises(ValidationError, match="A-Z, a-z, 0-9, _ and -"):
        Settings(_env_file=None, webhook_url=URL, webhook_secret=SecretStr("has spaces"))
    with pytest.raises(ValidationError, match="https://"):
        Settings(_env_file=None, webhook_url="http://bot.example.org/telegram",
                 webhook_secret=SecretStr(SECRET))  # fmt: skip
    settings = Settings(_env_file=None, webhook_url=URL, webhook_secret=SecretStr(SECRET))
    assert webhook.path_of(settings.webhook_url) == "/telegram"


def test_run_without_the_secret_stops_with_a_clear_message(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("WEBHOOK_URL", URL)
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    assert cli.main(["run"]) == 2
    assert "WEBHOOK_SECRET must be set when WEBHOOK_URL is set" in capsys.readouterr().err
