"""Drive the real bot over HTTP against the local Bot API server, in words a reader follows:

ana = bot.person(2001, "Ana")
await ana.say("/start " + token)
await ana.press("Yes, I agree")
assert "time zone" in ana.last_text()
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings
from bot.services import Services
from db.engine import create_engine, create_sessionmaker
from messages.catalog import load_catalog
from messages.html import strip_html
from scheduler.checkins import run_missed_sweep, run_tick
from scheduler.dispatcher import Dispatcher

SETTLE_TIMEOUT = 10.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class TrackingApplication(Application):
    """Notes which updates the bot has finished handling, so a test can wait for exactly that."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handled: set[int] = set()
        self.handled_event = asyncio.Event()

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            update_id = getattr(update, "update_id", None)
            if update_id is not None:
                self.handled.add(update_id)
                self.handled_event.set()


class BotHarness:
    def __init__(self, tg, db_url: str, clock: Clock, **settings: Any) -> None:
        self.tg = tg
        self.db_url = db_url
        self.clock = clock
        self.settings = Settings(
            _env_file=None,
            telegram_bot_token=SecretStr(tg.token),
            telegram_api_base_url=tg.base_url,
            database_url=db_url,
            **settings,
        )
        self.app: TrackingApplication | None = None
        self.services: Services | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        engine = create_engine(self.db_url)
        self.services = Services(
            settings=self.settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            catalog=load_catalog(),
            clock=self.clock,
            run_jobs=False,
        )
        self.app = build_application(self.services, application_class=TrackingApplication)
        await self.app.initialize()
        await self.app.post_init(self.app)
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0, timeout=1)

    async def stop(self) -> None:
        if self.app is None:
            return
        app, self.app = self.app, None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def sessionmaker(self):
        return self.services.sessionmaker

    @property
    def catalog(self):
        return self.services.catalog

    # --- time-driven work, run by hand --------------------------------------------------------

    async def tick(self):
        """The scheduler's check-in tick, then send whatever it queued."""
        result = await run_tick(
            self.sessionmaker, self.catalog, self.clock(), self.settings.response_window
        )
        await self.dispatch()
        return result

    async def dispatch(self) -> int:
        return await Dispatcher(self.sessionmaker, self.app.bot, self.clock).drain()

    async def sweep(self) -> int:
        return await run_missed_sweep(self.sessionmaker, self.clock())

    # --- people -------------------------------------------------------------------------------

    def person(self, user_id: int, first_name: str = "Ana") -> Person:
        self.tg.user(user_id, first_name=first_name)
        return Person(self, user_id, first_name)

    async def settle(self, update_id: int) -> None:
        """Wait until the bot has finished handling this update."""
        app = self.app

        async def handled() -> None:
            while update_id not in app.handled:
                app.handled_event.clear()
                await app.handled_event.wait()

        await asyncio.wait_for(handled(), SETTLE_TIMEOUT)


@dataclass
class Person:
    bot: BotHarness
    user_id: int
    first_name: str

    @property
    def chat_id(self) -> int:
        return self.user_id

    def messages(self) -> list[dict]:
        return self.bot.tg.sent(self.chat_id)

    def last(self) -> dict:
        sent = self.messages()
        assert sent, f"the bot has sent nothing to {self.first_name}"
        return sent[-1]

    def last_text(self) -> str:
        return strip_html(self.last()["text"])

    def texts(self) -> list[str]:
        return [strip_html(m.get("text") or "") for m in self.messages()]

    async def _push(self, update: dict) -> list[dict]:
        before = len(self.messages())
        await self.bot.settle(update["update_id"])
        return self.messages()[before:]

    async def say(self, text: str) -> list[dict]:
        """Send a text message; returns what the bot sent back to this chat."""
        return await self._push(self.bot.tg.push_message(self.user_id, text))

    async def send_sticker(self) -> list[dict]:
        return await self._push(self.bot.tg.push_sticker(self.user_id))

    async def send_photo(self) -> list[dict]:
        return await self._push(self.bot.tg.push_photo(self.user_id))

    async def send_voice(self) -> list[dict]:
        return await self._push(self.bot.tg.push_voice(self.user_id))

    def find_button(self, label: str, message: dict | None = None) -> tuple[dict, str]:
        """The newest message with a button whose label contains `label`, and its data."""
        candidates = [message] if message else list(reversed(self.messages()))
        for candidate in candidates:
            markup = candidate.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if label == button["text"] or (len(label) > 2 and label in button["text"]):
                        return candidate, button["callback_data"]
        raise AssertionError(f"no button {label!r} in the chat with {self.first_name}")

    async def press(self, label: str, message: dict | None = None) -> list[dict]:
        target, data = self.find_button(label, message)
        return await self.press_data(target["message_id"], data)

    async def press_data(self, message_id: int, data: str) -> list[dict]:
        """Press a button by its raw callback data (forged and stale presses use this)."""
        before = len(self.messages())
        cq_id = self.bot.tg.push_callback(self.user_id, message_id, data)
        update_id = self.bot.tg.last_update_id
        await self.bot.settle(update_id)
        self.last_callback_answer = self.bot.tg.callback_answers.get(cq_id)
        return self.messages()[before:]
