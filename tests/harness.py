"""Drive the real bot over HTTP against the local Bot API server, in words a reader follows:

ana = bot.person(2001, "Ana")
await ana.say("/start " + token)
await ana.press("Yes, I agree")
assert "time zone" in ana.last_text()
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from bot.app import build_application, stop_application
from bot.polling import Intake
from bot.scripted import SettableClock as Clock  # noqa: F401  (tests import Clock from here)
from bot.scripted import TrackingApplication
from care.services import Services
from config.settings import Settings
from db.engine import create_engine, create_sessionmaker
from db.poller_lock import poller_lock
from delivery.dispatcher import Dispatcher
from messages.catalog import Catalogs, load_catalogs
from messages.html import strip_html
from scheduler.alerting import run_escalation
from scheduler.checkins import run_missed_sweep, run_tick
from scheduler.meetings import run_meeting_tick
from scheduler.reminders import run_reminders
from scheduler.retention import Retention, run_retention

Now = Callable[[], datetime]  # a Clock in tests; the bench runs on real time

# Tests tap and type faster than any person; the spacing is tested on its own.
TEST_SETTINGS = dict(
    rate_chat_interval_seconds=0,
    rate_global_per_second=1000,
    send_max_retries=2,  # keeps retry backoff in tests under two seconds
)


@functools.cache
def shipped_catalogs() -> Catalogs:
    """The shipped content, read and checked once a process (half a second each time), as
    `aftercare run` reads it once. Frozen: no test changes it; one that needs other content
    passes its own `catalogs`."""
    return load_catalogs()


class BotHarness:
    """The real bot on a database and the local server. Time-driven work runs by hand (tick,
    dispatch, sweep) unless run_jobs, which starts the scheduler as `aftercare run` does."""

    def __init__(
        self,
        tg,
        db_url: str,
        clock: Now,
        catalogs: Catalogs | None = None,
        *,
        run_jobs: bool = False,
        **settings: Any,
    ) -> None:
        self.tg = tg
        self.catalogs = catalogs or shipped_catalogs()
        self.db_url = db_url
        self.clock = clock
        self.run_jobs = run_jobs
        self.settings = Settings(
            _env_file=None,
            telegram_bot_token=SecretStr(tg.token),
            telegram_api_base_url=tg.base_url,
            database_url=db_url,
            **(TEST_SETTINGS | settings),
        )
        self.app: TrackingApplication | None = None
        self.services: Services | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def build(self) -> TrackingApplication:
        """The bot's Application, not yet started (the webhook test starts its own way)."""
        engine = create_engine(self.db_url)
        services = self.services = Services(
            settings=self.settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            catalog=self.catalogs.default,
            clock=self.clock,
            run_jobs=self.run_jobs,
            catalogs=self.catalogs,
        )
        app = build_application(services, application_class=TrackingApplication)
        assert isinstance(app, TrackingApplication)
        self.app = app
        return app

    async def start(self) -> None:
        """As `aftercare run` does: our own polling loop, which first replays what was stored
        and not handled (stale-update replays are left to the real-process tests)."""
        # As `aftercare run` does: the screen's model is trained before the first update (once
        # a process), so no handler waits for it under a test's timeout.
        self.catalogs.default.screen.trained_model()
        app = self.build()
        assert app.post_init is not None  # build_application sets it
        await app.initialize()
        await app.post_init(app)
        await app.start()
        self.lock = poller_lock(self.db_url)
        self.intake = Intake(app, self._services(), self.lock, poll_timeout=1,
                             replay_every=None)  # fmt: skip
        self._intake_task = asyncio.create_task(self.intake.run())
        await asyncio.wait_for(self.intake.ready.wait(), 10)

    async def stop(self) -> None:
        if self.app is None:
            return
        app, self.app = self.app, None
        self._intake_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._intake_task
        await self.lock.release()
        await stop_application(app)

    async def __aenter__(self) -> BotHarness:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def _services(self) -> Services:
        if self.services is None:
            raise RuntimeError("the bot is not built yet (BotHarness.start)")
        return self.services

    def _app(self) -> TrackingApplication:
        if self.app is None:
            raise RuntimeError("the bot is not running (BotHarness.start)")
        return self.app

    @property
    def sessionmaker(self):
        return self._services().sessionmaker

    @property
    def catalog(self):
        return self._services().catalog

    # --- time-driven work, run by hand --------------------------------------------------------

    @property
    def team_chat_id(self) -> int | None:
        return self.settings.counselor_team_chat_id

    async def tick(self):
        """The scheduler's tick (check-ins, then medication reminders), then send whatever it
        queued."""
        result = await run_tick(
            self.sessionmaker, self.catalog, self.clock(), self.settings.response_window,
            self.catalogs,
        )  # fmt: skip
        await run_reminders(self.sessionmaker, self.catalog, self.clock(), self.catalogs)
        await self.dispatch()
        return result

    async def meeting_tick(self):
        """The meeting reminder and follow-up tick, then send whatever it queued."""
        result = await run_meeting_tick(
            self.sessionmaker, self.catalog, self.clock(), self.team_chat_id, self.catalogs
        )
        await self.dispatch()
        return result

    async def dispatch(self) -> int:
        return await Dispatcher(
            self.sessionmaker, self._app().bot, self.clock, self.catalog,
            team_chat_id=self.team_chat_id, dashboard_url=self.settings.dashboard_url,
        ).drain()  # fmt: skip

    async def escalate(self) -> int:
        """The escalation sweep, then send what it queued."""
        timeouts = self.settings.escalation_timeouts()
        count = await run_escalation(self.sessionmaker, self.catalog, self.clock(), timeouts,
                                     self.team_chat_id)  # fmt: skip
        await self.dispatch()
        return count

    async def sweep(self) -> int:
        return await run_missed_sweep(self.sessionmaker, self.catalog, self.clock(),
                                      self.team_chat_id)  # fmt: skip

    async def purge(self):
        """The retention purge (the sweep job runs it hourly), with this bot's settings."""
        retention = Retention(self.settings.retention_months, self.settings.message_retention_days)
        return await run_retention(self.sessionmaker, self.clock(), retention)

    # --- people -------------------------------------------------------------------------------

    def person(
        self, user_id: int, first_name: str = "Ana", language_code: str | None = "en"
    ) -> Person:
        """Someone on Telegram; `language_code` is their Telegram's language."""
        self.tg.user(user_id, first_name=first_name, language_code=language_code)
        return Person(self, user_id, first_name)

    async def settle(self, update_id: int) -> None:
        """Wait until the bot has finished handling this update."""
        await self._app().settle(update_id)


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
        sent = self.bot.tg.sent(self.chat_id, -1)
        assert sent, f"the bot has sent nothing to {self.first_name}"
        return sent[-1]

    def last_text(self) -> str:
        return strip_html(self.last()["text"])

    def texts(self) -> list[str]:
        return [strip_html(m.get("text") or "") for m in self.messages()]

    async def _push(self, update: dict) -> list[dict]:
        before = self.bot.tg.sent_count(self.chat_id)
        await self.bot.settle(update["update_id"])
        return self.bot.tg.sent(self.chat_id, before)

    async def say(self, text: str) -> list[dict]:
        """Send a text message; returns what the bot sent back to this chat."""
        return await self._push(self.bot.tg.push_message(self.user_id, text))

    async def send_sticker(self) -> list[dict]:
        return await self._push(self.bot.tg.push_sticker(self.user_id))

    async def send_photo(self) -> list[dict]:
        return await self._push(self.bot.tg.push_photo(self.user_id))

    async def send_voice(self) -> list[dict]:
        return await self._push(self.bot.tg.push_voice(self.user_id))

    def _newest_first(self):
        """The bot's messages to this chat, newest first, each copied only when reached."""
        for index in range(self.bot.tg.sent_count(self.chat_id) - 1, -1, -1):
            yield from self.bot.tg.sent(self.chat_id, index, index + 1)

    def find_button(self, label: str, message: dict | None = None) -> tuple[dict, str]:
        """The newest message with a button whose label contains `label`, and its data."""
        for candidate in [message] if message else self._newest_first():
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
        before = self.bot.tg.sent_count(self.chat_id)
        cq_id = self.bot.tg.push_callback(self.user_id, message_id, data)
        update_id = self.bot.tg.last_update_id
        await self.bot.settle(update_id)
        self.last_callback_answer = self.bot.tg.callback_answers.get(cq_id)
        return self.bot.tg.sent(self.chat_id, before)


async def register_counselor(
    bot: BotHarness, user_id: int = 1001, name: str = "Dana", admin: bool = False
) -> Person:
    """A counselor enrolled the way an operator does it: the CLI link, then /start."""
    from bot.runner import invite_counselor

    link = await invite_counselor(bot.settings, name, admin=admin)
    counselor = bot.person(user_id, name)
    await counselor.say("/start " + link.rsplit("=", 1)[1])
    return counselor


async def invite_link(counselor: Person, label: str = "") -> str:
    await counselor.say(f"/invite {label}".strip())
    text = counselor.last_text()
    return next(word for word in text.split() if "?start=" in word)


async def enroll_participant(
    bot: BotHarness,
    counselor: Person,
    user_id: int = 2001,
    name: str = "Sam",
    zone: str = "America/New_York",
    at: str = "09:00",
    weekly: str = "Wed",
) -> Person:
    link = await invite_link(counselor, name)
    participant = bot.person(user_id, name)
    await participant.say("/start " + link.rsplit("=", 1)[1])
    await participant.press("Yes, I agree")
    await participant.say(zone)
    await participant.say(at)
    await participant.press(weekly)
    assert "You're all set" in participant.last_text(), participant.last_text()
    return participant


async def participant_row(bot: BotHarness, user_id: int = 2001):
    from sqlalchemy import select

    from db.models import Participant

    async with bot.sessionmaker() as session:
        statement = select(Participant).where(Participant.telegram_user_id == user_id)
        return await session.scalar(statement)


def raw_message(person: Person, text: str, when: datetime, message_id: int = 777) -> dict:
    """A Bot API Message from `person` in their private chat, as Telegram would send it."""
    return {
        "message_id": message_id,
        "date": int(when.timestamp()),
        "chat": {"id": person.chat_id, "type": "private", "first_name": person.first_name},
        "from": {"id": person.user_id, "is_bot": False, "first_name": person.first_name},
        "text": text,
    }


async def check_in(person: Person, mood: str, craving: str, use: str = "No") -> list[dict]:
    """/checkin, then mood and use tapped and craving typed; returns the bot's last replies."""
    await person.say("/checkin")
    await person.press(mood)
    await person.say(craving)
    return await person.press(use)


async def finish_check_in(person: Person) -> None:
    """Answer whatever is left with each question's first option."""
    while (person.last().get("reply_markup") or {}).get("inline_keyboard"):
        first = person.last()["reply_markup"]["inline_keyboard"][0][0]["text"]
        await person.press(first)
