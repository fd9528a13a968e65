"""`aftercare demo`: the real bot against the local Bot API server, with a scripted counselor
and participant going through enrollment and one check-in, printed as a transcript."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_application, stop_application
from bot.polling import Intake
from bot.runner import invite_counselor, migrate
from bot.scripted import SettableClock, TrackingApplication
from care.services import Services, utcnow
from config.settings import Settings
from db import people
from db.engine import create_engine, create_sessionmaker
from db.poller_lock import PollerLock
from delivery.dispatcher import Dispatcher
from fake_telegram import FakeTelegram
from messages.catalog import Catalogs, load_catalog
from messages.html import strip_html
from scheduler.checkins import run_tick

DEMO_TOKEN = "123456:DEMO-local-only"  # noqa: S105 - never leaves this machine
COUNSELOR = (1001, "Dana")
PARTICIPANT = (2001, "Sam")


class Transcript:
    def __init__(self, tg, app: TrackingApplication) -> None:
        self.tg = tg
        self.app = app
        self.seen: dict[int, int] = {}
        self.names: dict[int, str] = {}

    def say(self, who: str, text: str) -> None:
        lines = text.splitlines() or [""]
        print(f"{who:>9} │ {lines[0]}")
        for line in lines[1:]:
            print(f"{'':>9} │ {line}")

    def note(self, text: str) -> None:
        print(f"{'':>9} ┆ ({text})")

    def bot_replies(self, chat_id: int) -> list[dict]:
        sent = self.tg.sent(chat_id)
        new = sent[self.seen.get(chat_id, 0) :]
        self.seen[chat_id] = len(sent)
        for message in new:
            self.say(f"bot→{self.names[chat_id]}", strip_html(message.get("text") or ""))
            markup = message.get("reply_markup") or {}
            rows = markup.get("inline_keyboard", [])
            for row in rows:
                self.say("", "  ".join(f"[{b['text']}]" for b in row))
        return new

    async def user_says(self, user_id: int, text: str) -> None:
        self.say(self.names[user_id], text)
        update = self.tg.push_message(user_id, text)
        await self.app.settle(update["update_id"])
        self.bot_replies(user_id)

    async def user_taps(self, user_id: int, label: str) -> None:
        message = next(
            m
            for m in reversed(self.tg.sent(user_id))
            if any(b.get("text") == label for b in self.tg.buttons(m))
        )
        self.say(self.names[user_id], f"taps [{label}]")
        data = self.tg.button_data(message, label)
        self.tg.push_callback(user_id, message["message_id"], data)
        await self.app.settle(self.tg.last_update_id)
        self.bot_replies(user_id)


async def run_demo() -> int:
    with tempfile.TemporaryDirectory(prefix="aftercare-demo-") as folder:
        async with FakeTelegram(token=DEMO_TOKEN, bot_username="aftercare_demo_bot") as tg:
            database_url = f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"
            settings = Settings(
                _env_file=None,
                telegram_bot_token=SecretStr(DEMO_TOKEN),
                telegram_api_base_url=tg.base_url,
                database_url=database_url,
            )
            print("aftercare demo: the real bot, a local Bot API server, a temporary database\n")
            await migrate(database_url)
            return await _script(tg, settings)


async def _script(tg, settings: Settings) -> int:
    clock = SettableClock(utcnow())
    engine = create_engine(settings.database_url)
    catalog = load_catalog()
    services = Services(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        catalog=catalog,
        clock=clock,
        run_jobs=False,
        catalogs=Catalogs({catalog.locale: catalog}, catalog.locale),  # the demo speaks English
    )
    app = build_application(services, application_class=TrackingApplication)
    assert isinstance(app, TrackingApplication)
    assert app.post_init is not None  # build_application sets it
    await app.initialize()
    await app.post_init(app)
    await app.start()
    intake = Intake(app, services, PollerLock(), poll_timeout=1, replay_every=None)
    taking = asyncio.create_task(intake.run())
    script = Transcript(tg, app)
    try:
        for user_id, name in (COUNSELOR, PARTICIPANT):
            tg.user(user_id, first_name=name)
            script.names[user_id] = name
        counselor, participant = COUNSELOR[0], PARTICIPANT[0]

        script.say("operator", '$ aftercare invite-counselor --name "Dana Reyes"')
        link = await invite_counselor(settings, "Dana Reyes", admin=True)
        script.say("", link)
        token = link.rsplit("=", 1)[1]
        await script.user_says(counselor, f"/start {token}")
        await script.user_says(counselor, "/invite Sam")
        invite_text = strip_html(tg.sent(counselor)[-1]["text"])
        participant_token = invite_text.split("?start=")[1].split()[0]

        await script.user_says(participant, f"/start {participant_token}")
        await script.user_taps(participant, "Yes, I agree")
        await script.user_says(participant, "America/Chicago")
        await script.user_taps(participant, "09:00")
        await script.user_taps(participant, "Sun")

        async with services.sessionmaker() as session:
            sam = await people.participant_by_telegram(session, participant)
            due = sam.next_checkin_at if sam is not None else None
        if due is None:
            raise RuntimeError("demo: the participant's enrollment did not schedule a check-in")
        clock.set(due)
        script.note(f"clock moved to the first check-in, {due:%Y-%m-%d %H:%M} UTC; scheduler tick")
        await run_tick(services.sessionmaker, services.catalog, clock(), settings.response_window)
        await Dispatcher(services.sessionmaker, app.bot, clock, services.catalog).drain()
        script.bot_replies(participant)
        clock.advance(minutes=2)
        await script.user_taps(participant, "4")
        await script.user_says(participant, "3")
        await script.user_taps(participant, "No")
        # The rest (one question on a daily check-in, more on the weekly day): a calm answer.
        while "Thank you for checking in" not in (tg.sent(participant)[-1].get("text") or ""):
            await script.user_taps(participant, _calm_answer(services, tg.sent(participant)[-1]))
    finally:
        taking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await taking
        await stop_application(app)
    print("\ndemo finished: counselor registered, participant enrolled, one check-in completed")
    return 0


def _calm_answer(services: Services, message: dict) -> str:
    """The first answer with no risk meaning for the question in this message."""
    text = strip_html(message.get("text") or "")
    question = next(q for q in services.catalog.questions.values() if q.prompt in text)
    return next(o.label for o in question.options if o.risk == "none")
