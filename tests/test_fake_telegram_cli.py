"""`aftercare fake-telegram`: the local Bot API server as its own process, the way an operator
starts it to try the bot offline (README, docs/operators.md)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import urllib.request

import pytest

from tests.cli import WAIT, aftercare, free_port, operator_env, start_bot

TOKEN = "123456:LOCAL-only-token"  # the server's default, printed in its banner


async def start_server(tmp_path, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "fake-telegram", "--port", str(port),
        cwd=tmp_path, env=operator_env(), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def read_until(process: asyncio.subprocess.Process, wanted: str) -> list[str]:
    """Its output, line by line, up to and including the first line containing `wanted`."""
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), WAIT)
        if not raw:
            raise AssertionError(f"the server ended before {wanted!r}: {lines}")
        lines.append(raw.decode().rstrip("\n"))
        if wanted in lines[-1]:
            return lines


def call(port: int, method: str, **params) -> dict:
    """A Bot API call over plain HTTP, as any client would make it."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/bot{TOKEN}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
        return json.load(response)


async def type_line(process: asyncio.subprocess.Process, line: str) -> None:
    process.stdin.write(f"{line}\n".encode())
    await process.stdin.drain()


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), WAIT)
    return process.returncode, out.decode() + err.decode()


async def test_it_answers_the_bot_api_and_types_as_a_user(tmp_path):
    port = free_port()
    server = await start_server(tmp_path, port)
    try:
        banner = "\n".join(await read_until(server, "Ctrl-C stops it"))
        # The banner tells the operator how to point the bot at it.
        assert f"export TELEGRAM_BOT_TOKEN={TOKEN}" in banner
        assert f"export TELEGRAM_API_BASE_URL=http://127.0.0.1:{port}/bot" in banner

        me = await asyncio.to_thread(call, port, "getMe")
        assert me["ok"] and me["result"]["is_bot"]
        assert me["result"]["username"] == "aftercare_local_bot"

        await type_line(server, "user 1001 Dana es")
        await read_until(server, "user 1001 is Dana")
        await type_line(server, "1001 hola")
        updates = await asyncio.to_thread(call, port, "getUpdates", timeout=5)
        [update] = updates["result"]
        assert update["message"]["text"] == "hola"
        assert update["message"]["from"]["first_name"] == "Dana"
        assert update["message"]["from"]["language_code"] == "es"

        # What a bot sends is printed, buttons included; a typed [label] taps one.
        keyboard = {"inline_keyboard": [[{"text": "Yes, I agree", "callback_data": "c:y"},
                                         {"text": "No", "callback_data": "c:n"}]]}  # fmt: skip
        sent = await asyncio.to_thread(call, port, "sendMessage", chat_id=1001,
                                       text="<b>Hi</b> &amp; welcome", parse_mode="HTML",
                                       reply_markup=keyboard)  # fmt: skip
        assert sent["ok"], sent
        shown = await read_until(server, "[Yes, I agree]")
        assert any(line.endswith("│ Hi & welcome") for line in shown), shown
        await type_line(server, "1001 [yes]")
        updates = await asyncio.to_thread(call, port, "getUpdates",
                                          offset=update["update_id"] + 1, timeout=5)  # fmt: skip
        [press] = updates["result"]
        assert press["callback_query"]["data"] == "c:y"

        await type_line(server, "1001 [Maybe]")  # no such button: said so, nothing sent
        assert "no button matching" in (await read_until(server, "Maybe"))[-1]
        await type_line(server, "what is this")
        await read_until(server, "<user id> <text>")
    finally:
        code, rest = await stop(server)
    assert code == 0, rest
    assert "local Bot API server stopped" in rest
    with pytest.raises(OSError):  # the port is free again: nothing keeps running
        await asyncio.to_thread(call, port, "getMe")


async def test_a_taken_port_is_a_short_error(tmp_path):
    port = free_port()
    first = await start_server(tmp_path, port)
    try:
        await read_until(first, "Ctrl-C stops it")
        code, out, err = await aftercare(operator_env(), tmp_path, "fake-telegram",
                                         "--port", str(port))  # fmt: skip
        assert code == 1
        assert f"can't listen on 127.0.0.1:{port}" in err
        assert len(err.strip().splitlines()) == 1, err
    finally:
        await stop(first)


async def test_an_operator_tries_the_bot_offline_as_the_readme_says(tmp_path):
    """The README's steps: the server in one shell, the bot pointed at it in another, and the
    operator typing as the counselor."""
    port = free_port()
    server = await start_server(tmp_path, port)
    bot = None
    try:
        await read_until(server, "Ctrl-C stops it")
        env = operator_env(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'try.db'}",
            STATUS_LISTEN=f"127.0.0.1:{free_port()}",
        )
        code, out, err = await aftercare(env, tmp_path, "invite-counselor", "--name", "Dana")
        assert code == 0, err
        link = out.strip().splitlines()[-1]
        assert link.startswith("https://t.me/aftercare_local_bot?start=")
        bot = await start_bot(env, tmp_path, tmp_path / "bot.log")
        await type_line(server, "user 1001 Dana")
        await type_line(server, f"1001 {link}")  # opening the link sends /start <token>
        shown = "\n".join(await read_until(server, "bot → 1001"))
        assert "Dana" in shown, shown
    finally:
        if bot is not None and bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), WAIT)
        await stop(server)
