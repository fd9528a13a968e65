"""Several `aftercare run` workers on one PostgreSQL database, as real processes: exactly one
polls Telegram, another takes over within 15 s of a kill -9, and nothing a participant says is
lost while the database is down or handled twice."""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp
from sqlalchemy.engine import make_url

from tests.cli import free_port, metric, operator_env, start_bot, until_started
from tests.fake_telegram import FakeTelegram
from tests.tcp_proxy import TcpProxy

TOKEN = "555000:POLLER-test-token-never-logged"
RUN_SECONDS = 60  # the acceptance: over a minute, at most one 409
TAKEOVER_LIMIT = 15.0


def worker_env(tg: FakeTelegram, database_url: str, status_port: int, **extra: str) -> dict:
    return operator_env(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=tg.base_url,
        DATABASE_URL=database_url,
        STATUS_LISTEN=f"127.0.0.1:{status_port}",
        LOG_LEVEL="INFO",
        STARTUP_RETRY_SECONDS="30",
        **extra,
    )


def conflicts(tg: FakeTelegram) -> int:
    return sum(1 for method, _, status, _ in tg.errors if (method, status) == ("getUpdates", 409))


class Strangers:
    """People who write once each; each must get exactly one answer."""

    def __init__(self, tg: FakeTelegram, first: int) -> None:
        self.tg, self.next, self.asked = tg, first, {}

    def write(self) -> int:
        chat = self.next
        self.next += 1
        self.tg.user(chat, first_name="P")
        self.tg.push_message(chat, "hello")
        self.asked[chat] = time.monotonic()
        return chat

    def answered(self, chat: int) -> bool:
        return bool(self.tg.sent(chat))

    async def wait(self, chat: int, within: float) -> float:
        await self.tg.wait_for(lambda: self.answered(chat), timeout=within,
                               message=f"an answer to {chat}")  # fmt: skip
        return time.monotonic() - self.asked[chat]

    def answers(self) -> dict[int, int]:
        return {chat: len(self.tg.sent(chat)) for chat in self.asked}


async def set_stale_webhook(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{tg.base_url}{TOKEN}/setWebhook",
                         json={"url": "https://old.example.org/hook"}) as response:  # fmt: skip
        assert response.status == 200


async def all_serving(ports: list[int], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while any([await metric(port, "aftercare_is_poller") is None for port in ports]):
        assert time.monotonic() < deadline, "a worker's status server never answered"
        await asyncio.sleep(0.2)


async def poller_of(ports: list[int]) -> int | None:
    for index, port in enumerate(ports):
        if await metric(port, "aftercare_is_poller") == 1:
            return index
    return None


async def test_two_workers_one_poller_and_a_takeover_within_15_s(pg_url, tmp_path):
    async with FakeTelegram(token=TOKEN, bot_username="aftercare_workers_bot") as tg:
        await set_stale_webhook(tg)  # left by a webhook-mode run: the poller must delete it
        ports = [free_port(), free_port()]
        logs = [tmp_path / "worker0.log", tmp_path / "worker1.log"]
        workers = [await start_bot(worker_env(tg, pg_url, port), tmp_path, log)
                   for port, log in zip(ports, logs, strict=True)]  # fmt: skip
        strangers = Strangers(tg, 70_000)
        try:
            started = time.monotonic()
            for worker, log in zip(workers, logs, strict=True):
                await until_started(worker, log)
            first = strangers.write()
            await strangers.wait(first, within=60)
            await all_serving(ports)
            poller = await poller_of(ports)
            assert poller is not None
            assert await metric(ports[1 - poller], "aftercare_is_poller") == 0
            assert tg.calls("deleteWebhook"), "the stale webhook was left in place"
            deleted = "deleted the webhook left registered at old.example.org"
            assert deleted in logs[poller].read_text()

            while time.monotonic() - started < RUN_SECONDS / 2:
                await strangers.wait(strangers.write(), within=10)
                await asyncio.sleep(0.5)
            assert conflicts(tg) == 0, tg.describe()

            workers[poller].send_signal(signal.SIGKILL)
            await workers[poller].wait()
            took = await strangers.wait(strangers.write(), within=TAKEOVER_LIMIT + 5)
            print(f"\ntakeover: the other worker answered {took:.1f} s after the kill")
            assert took <= TAKEOVER_LIMIT
            survivor = 1 - poller
            assert await metric(ports[survivor], "aftercare_is_poller") == 1

            while time.monotonic() - started < RUN_SECONDS:
                await strangers.wait(strangers.write(), within=10)
                await asyncio.sleep(0.5)
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                await asyncio.wait_for(worker.wait(), 30)
        assert set(strangers.answers().values()) == {1}, strangers.answers()  # each once
        assert conflicts(tg) <= 1, tg.describe()
        assert workers[1 - poller].returncode == 0


async def test_updates_sent_while_the_database_is_down_are_all_handled_once(pg_url, tmp_path):
    url = make_url(pg_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False
    )
    async with FakeTelegram(token=TOKEN, bot_username="aftercare_outage_bot") as tg:
        log = tmp_path / "bot.log"
        bot = await start_bot(worker_env(tg, through_proxy, free_port()), tmp_path, log)
        strangers = Strangers(tg, 80_000)
        try:
            await until_started(bot, log)
            await strangers.wait(strangers.write(), within=60)
            await asyncio.sleep(1)  # its handling finished (marked handled) before the outage
            await proxy.down()  # every connection cut; new ones refused
            during = [strangers.write()]
            await asyncio.sleep(3)
            during += [strangers.write() for _ in range(4)]
            await asyncio.sleep(3)
            assert not any(strangers.answered(chat) for chat in during)
            await proxy.up()
            for chat in during:
                await strangers.wait(chat, within=45)
            after = strangers.write()
            await strangers.wait(after, within=20)
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
            await proxy.down()
        answers = strangers.answers()
        assert set(answers.values()) == {1}, (answers, log.read_text()[-3000:])
        text = log.read_text()
        assert "updates stay unconfirmed at Telegram" in text or "lost the poller lock" in text
        assert "Traceback" not in text.split("this worker is the poller now")[0]  # start-up


async def test_two_webhook_workers_behind_a_proxy_handle_each_update_once(pg_url, tmp_path):
    """The test plays the proxy: updates go to one worker or the other, and a redelivery of
    the same update to the other worker (Telegram retrying) is not handled again."""
    secret = "webhook_secret_for_two_workers"
    async with FakeTelegram(token=TOKEN, bot_username="aftercare_webhook_bot") as tg:
        hooks = [free_port(), free_port()]
        workers = []
        for index, hook in enumerate(hooks):
            env = worker_env(tg, pg_url, free_port(), WEBHOOK_URL="https://bot.example.org/telegram",
                             WEBHOOK_SECRET=secret, WEBHOOK_LISTEN="127.0.0.1",
                             WEBHOOK_PORT=str(hook))  # fmt: skip
            workers.append(await start_bot(env, tmp_path, tmp_path / f"hook{index}.log"))
        try:
            for index, worker in enumerate(workers):
                await until_started(worker, tmp_path / f"hook{index}.log")
            await tg.wait_for(lambda: len(tg.calls("setWebhook")) == 2, timeout=60,
                              message="both workers to register the webhook")  # fmt: skip
            chats = list(range(95_000, 95_010))
            async with aiohttp.ClientSession() as http:
                for n, chat in enumerate(chats):
                    tg.user(chat, first_name="P")
                    update = {"update_id": 700_000 + n, "message": {
                        "message_id": 1, "date": int(time.time()), "text": "hello",
                        "chat": {"id": chat, "type": "private", "first_name": "P"},
                        "from": {"id": chat, "is_bot": False, "first_name": "P"}}}  # fmt: skip
                    for hook in (hooks[n % 2], hooks[(n + 1) % 2]):  # delivered, then again
                        async with http.post(f"http://127.0.0.1:{hook}/telegram", json=update,
                                             headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                                             ) as response:  # fmt: skip
                            assert response.status == 200
            await tg.wait_for(lambda: all(tg.sent(chat) for chat in chats), timeout=30)
            await asyncio.sleep(2)  # time for a second answer, if one were coming
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                await asyncio.wait_for(worker.wait(), 30)
        assert [len(tg.sent(chat)) for chat in chats] == [1] * len(chats)
        assert not tg.calls("getUpdates")  # webhook mode never polls
        assert [worker.returncode for worker in workers] == [0, 0]
