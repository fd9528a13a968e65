"""The local Bot API server (tests/fake_telegram.py) in a process of its own, for the bench.

In one process the bot, the server and the bench share one event loop and one core, so at a
thousand messages a second the server's own work (validating every request against the Bot
API description, parsing its HTML) is measured as the bot's. Here the server runs in a child
process; the bench drives it through a small control API on a second port:

    async with RemoteTelegram(TOKEN) as tg:
        await tg.users(100_000, 5000)
        ... the bot talks to tg.base_url ...
        reached = await tg.reached(100_000, 5000)

`sent_at` stamps are the server's time.monotonic(), which on Linux is the same clock in every
process, so the bench can compare them with its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from fake_telegram import FakeTelegram, WaitTimeout

Op = Callable[..., Any]


# --- the child: the server and its control API ------------------------------------------------


def _users(tg: FakeTelegram, first: int, count: int, first_name: str = "P") -> None:
    for chat in range(first, first + count):
        tg.user(chat, first_name=first_name)


def _set_rate_limits(tg: FakeTelegram, **limits: Any) -> None:
    tg.set_rate_limits(**limits)


def _clear_rate_limits(tg: FakeTelegram) -> None:
    tg.clear_rate_limits()


def _push(tg: FakeTelegram, chat: int, text: str) -> float:
    """A user writes; returns the moment it was pushed (the server's monotonic clock)."""
    tg.push_message(chat, text)
    return time.monotonic()


def _push_many(tg: FakeTelegram, first: int, count: int, text: str) -> dict[str, list]:
    """One message from each chat at once: each chat's count of messages before it, and when
    it was pushed."""
    before, pushed = [], []
    for chat in range(first, first + count):
        before.append(tg.sent_count(chat))
        tg.push_message(chat, text)
        pushed.append(time.monotonic())
    return {"before": before, "pushed": pushed}


def _counts(tg: FakeTelegram, first: int, count: int) -> list[int]:
    return [tg.sent_count(chat) for chat in range(first, first + count)]


def _reached(tg: FakeTelegram, first: int, count: int) -> int:
    """How many of the chats have at least one message from the bot."""
    return sum(1 for chat in range(first, first + count) if tg.sent_count(chat))


def _delivery(tg: FakeTelegram, first: int, count: int) -> dict[str, int]:
    counts = _counts(tg, first, count)
    return {"lost": sum(1 for n in counts if n == 0),
            "duplicated": sum(1 for n in counts if n > 1)}  # fmt: skip


def _arrivals(tg: FakeTelegram, first: int, count: int, index: list[int]) -> list[float | None]:
    """When the index[i]-th message reached chat first + i (None: not yet)."""
    stamps: list[float | None] = []
    for chat, nth in zip(range(first, first + count), index, strict=True):
        chat_record = tg._chats.get(chat)
        if chat_record is None or len(chat_record.bot_message_ids) <= nth:
            stamps.append(None)
            continue
        stamps.append(chat_record.messages[chat_record.bot_message_ids[nth]]["sent_at"])
    return stamps


def _find_sent(tg: FakeTelegram, chat: int, needle: str) -> float | None:
    """When the first message to `chat` containing `needle` arrived (None: none yet)."""
    chat_record = tg._chats.get(chat)
    if chat_record is None:
        return None
    for message_id in chat_record.bot_message_ids:
        record = chat_record.messages[message_id]
        if needle in (record["text"] or ""):
            return record["sent_at"]
    return None


def _find_many(tg: FakeTelegram, chat: int, needles: list[str]) -> dict[str, float]:
    """For each needle found in a message to `chat`: when the first such message arrived."""
    found = {}
    for needle in needles:
        at = _find_sent(tg, chat, needle)
        if at is not None:
            found[needle] = at
    return found


def _stats(tg: FakeTelegram) -> dict[str, Any]:
    return tg.stats


def _paid_arrivals(tg: FakeTelegram) -> list[float]:
    """When each message sent with allow_paid_broadcast reached the server (its chat's first
    message: check-ins are the first message of every chat in the bench)."""
    chats = {params["chat_id"] for method, params in tg.requests
             if method == "sendMessage" and params.get("allow_paid_broadcast")}  # fmt: skip
    stamps = []
    for chat in chats:
        record = tg._chats.get(chat)
        if record is not None and record.bot_message_ids:
            stamps.append(record.messages[record.bot_message_ids[0]]["sent_at"])
    return stamps


def _forget_requests(tg: FakeTelegram) -> None:
    """Drop the request log (it grows by one entry a request)."""
    tg.requests.clear()


def _cpu(_tg: FakeTelegram) -> float:
    return time.process_time()


OPS: dict[str, Op] = {
    "users": _users, "set_rate_limits": _set_rate_limits,
    "clear_rate_limits": _clear_rate_limits, "push": _push, "push_many": _push_many,
    "counts": _counts, "reached": _reached, "delivery": _delivery, "arrivals": _arrivals,
    "find_sent": _find_sent, "find_many": _find_many, "stats": _stats,
    "paid_arrivals": _paid_arrivals, "forget_requests": _forget_requests, "cpu": _cpu,
}  # fmt: skip


async def _serve(token: str) -> None:
    async with FakeTelegram(token=token) as tg:

        async def handle(request: web.Request) -> web.Response:
            op = OPS.get(request.match_info["name"])
            if op is None:
                return web.json_response({"error": "no such op"}, status=404)
            body = await request.json()
            return web.json_response({"result": op(tg, *body["args"], **body["kwargs"])})

        app = web.Application()
        app.router.add_post("/op/{name}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(json.dumps({"api_port": tg.port, "control_port": runner.addresses[0][1]}),
              flush=True)  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        parent = os.getppid()
        while not stop.is_set() and os.getppid() == parent:  # never outlive the bench
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
        await runner.cleanup()


# --- the bench's side -------------------------------------------------------------------------


class RemoteTelegram:
    """The local Bot API server in a child process; `token`, `base_url` and `base_file_url`
    as FakeTelegram's, and its state read through async calls."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.host = "127.0.0.1"
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._api_port = 0
        self._control = ""

    async def __aenter__(self) -> RemoteTelegram:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.remote", self.token, stdout=asyncio.subprocess.PIPE
        )
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 60)
        ports = json.loads(line)
        self._api_port = ports["api_port"]
        self._control = f"http://{self.host}:{ports['control_port']}/op/"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._api_port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self._api_port}/file/bot"

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        assert self._session is not None, "use `async with RemoteTelegram(...)`"
        body = {"args": args, "kwargs": kwargs}
        async with self._session.post(self._control + name, json=body) as response:
            response.raise_for_status()
            return (await response.json())["result"]

    async def users(self, first: int, count: int, first_name: str = "P") -> None:
        await self.call("users", first, count, first_name)

    async def user(self, chat: int, first_name: str = "P") -> None:
        await self.call("users", chat, 1, first_name)

    async def set_rate_limits(self, **limits: Any) -> None:
        await self.call("set_rate_limits", **limits)

    async def clear_rate_limits(self) -> None:
        await self.call("clear_rate_limits")

    async def push(self, chat: int, text: str) -> float:
        return await self.call("push", chat, text)

    async def push_many(self, first: int, count: int, text: str) -> dict[str, list]:
        return await self.call("push_many", first, count, text)

    async def counts(self, first: int, count: int) -> list[int]:
        return await self.call("counts", first, count)

    async def reached(self, first: int, count: int) -> int:
        return await self.call("reached", first, count)

    async def delivery(self, first: int, count: int) -> dict[str, int]:
        return await self.call("delivery", first, count)

    async def arrivals(self, first: int, count: int, index: list[int]) -> list[float | None]:
        return await self.call("arrivals", first, count, index)

    async def find_sent(self, chat: int, needle: str) -> float | None:
        return await self.call("find_sent", chat, needle)

    async def find_many(self, chat: int, needles: list[str]) -> dict[str, float]:
        return await self.call("find_many", chat, needles)

    async def stats(self) -> dict[str, Any]:
        return await self.call("stats")

    async def paid_arrivals(self) -> list[float]:
        return await self.call("paid_arrivals")

    async def forget_requests(self) -> None:
        await self.call("forget_requests")

    async def cpu(self) -> float:
        """The server process's CPU seconds so far."""
        return await self.call("cpu")

    @staticmethod
    async def wait_for(
        predicate: Callable[[], Awaitable[Any]],
        timeout: float,  # noqa: ASYNC109 - the fake's wait_for signature
        *,
        message: str = "condition",
        interval: float = 0.05,
    ) -> Any:
        """Wait until `await predicate()` is truthy and return it; WaitTimeout otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = await predicate()
            if result:
                return result
            if loop.time() >= deadline:
                raise WaitTimeout(f"timed out after {timeout}s waiting for {message}")
            await asyncio.sleep(interval)


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
