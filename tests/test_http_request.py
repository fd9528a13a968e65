"""The bot's request layer on aiohttp (delivery/http_request.py), against the local Bot API server:
the same results and errors PTB's own HTTPXRequest gives."""

from __future__ import annotations

import asyncio
import io
import json
import socket

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from delivery.http_request import AiohttpRequest
from delivery.retry import retry_seconds


@pytest.fixture
async def bot(tg):
    tg.user(7001, first_name="Ana")
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                   request=AiohttpRequest(read_timeout=1.0)) as bot:  # fmt: skip
        yield bot


async def test_a_message_with_html_and_buttons_arrives_as_sent(tg, bot):
    markup = {"inline_keyboard": [[{"text": "Fine & well", "callback_data": "m:1"}]]}
    message = await bot.send_message(7001, "<b>How are you</b> &amp; today?", parse_mode="HTML",
                                     reply_markup=markup)  # fmt: skip
    [sent] = tg.sent(7001)
    assert message.message_id == sent["message_id"]
    assert sent["plain_text"] == "How are you & today?"
    assert sent["reply_markup"] == markup


async def test_raw_parameters_through_do_api_request(tg, bot):
    answer = await bot.do_api_request("sendMessage", api_kwargs={"chat_id": 7001, "text": "hé"})
    assert answer["text"] == "hé" and tg.sent(7001)[0]["text"] == "hé"


async def test_a_document_goes_as_multipart(tg, bot):
    await bot.send_document(7001, io.BytesIO(b"a,b\n1,2\n"), filename="export.csv",
                            caption="your data")  # fmt: skip
    [sent] = tg.sent(7001)
    assert sent["kind"] == "document"
    assert sent["document"]["file_name"] == "export.csv"
    assert sent["document"]["content"] == b"a,b\n1,2\n"


async def test_telegram_errors_keep_their_types(tg, bot):
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(9999, "nobody")
    tg.block(7001)
    with pytest.raises(Forbidden):
        await bot.send_message(7001, "blocked")
    tg.unblock(7001)
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(7001, "too fast")
    assert retry_seconds(caught.value) == 3
    tg.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(7001, "bad gateway")


async def test_a_slow_answer_is_a_timeout(tg, bot):
    tg.delay_next("sendMessage", 3.0)
    with pytest.raises(TimedOut):
        await bot.send_message(7001, "late")


async def test_no_server_is_a_network_error():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot123456:TEST/getMe")
    finally:
        await request.shutdown()
    assert not isinstance(caught.value, TimedOut)


async def test_no_free_connection_within_the_pool_timeout_is_a_timeout(tg):
    tg.user(7002)
    tg.delay_next("sendMessage", 2.0)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1, connect_timeout=0.1)
    await request.initialize()
    try:
        bot = Bot(tg.token, base_url=tg.base_url, request=request)
        await bot.initialize()
        slow = asyncio.create_task(bot.send_message(7002, "takes the only connection"))
        await asyncio.sleep(0.3)
        with pytest.raises(TimedOut):
            await bot.send_message(7002, "waits for it")
        await slow
        assert [m["text"] for m in tg.sent(7002)] == ["takes the only connection"]
    finally:
        await request.shutdown()


async def test_shut_down_it_refuses_and_initialized_again_it_sends(tg):
    tg.user(7003)
    request = AiohttpRequest()
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request(tg.base_url + tg.token + "/getMe", "POST")
    await request.initialize()
    try:
        code, body = await request.do_request(f"{tg.base_url}{tg.token}/getMe", "POST")
        assert code == 200 and json.loads(body)["result"]["is_bot"] is True
    finally:
        await request.shutdown()
