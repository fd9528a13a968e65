"""The screen through the real bot: the direct question when the screen is unsure ("Are you
safe right now?", answered by a tap or in words), no answer → a watch alert that quotes the
message, a Spanish crisis message, and an idiom that stays calm.

The ask tests make the screen unsure of everything the lexicon does not name (thresholds
crisis 0.99, ask 0.0001), so they do not hang on what the model scores a given sentence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Note, SafetyAsk
from messages.catalog import Catalogs, ScreenThresholds, load_catalogs
from scheduler.safety_asks import run_unanswered_sweep
from tests.harness import BotHarness
from tests.test_safety import RESOURCES, alerts, counselor_alerts, setup

UNSURE = "been a strange night, I keep staring at the ceiling"
QUESTION = "Are you safe right now?"


def unsure_catalogs() -> Catalogs:
    catalogs = load_catalogs()
    thresholds = ScreenThresholds(crisis=0.99, ask=0.0001, lapse=0.99, craving=0.99)
    return Catalogs({
        locale: replace(c, screen=replace(c.screen, thresholds=thresholds))
        for locale, c in catalogs.by_locale.items()
    })  # fmt: skip


@pytest.fixture
async def unsure(tg, db_url, clock):
    async with BotHarness(tg, db_url, clock, catalogs=unsure_catalogs()) as harness:
        yield harness


async def asks(bot) -> list[SafetyAsk]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(SafetyAsk).order_by(SafetyAsk.id))).all())


async def sweep(bot, minutes: float = 30) -> int:
    count = await run_unanswered_sweep(bot.sessionmaker, bot.catalog, bot.clock(),
                                       timedelta(minutes=minutes))  # fmt: skip
    await bot.dispatch()
    return count


def buttons(message: dict) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_unsure_gets_the_question_and_im_safe_closes_it(unsure, clock):
    dana, sam = await setup(unsure)
    replies = await sam.say(UNSURE)
    [question] = [r for r in replies if QUESTION in r["text"]]
    assert buttons(question) == ["I'm safe", "I need help now", "Talk to my counselor"]
    assert RESOURCES not in question["text"]
    assert await alerts(unsure) == []  # a question, not yet an alert
    replies = await sam.press("I'm safe")
    assert "glad you're safe" in replies[-1]["text"]
    [ask] = await asks(unsure)
    assert ask.answer == "safe" and ask.answered_at is not None
    clock.advance(minutes=45)
    assert await sweep(unsure) == 0
    assert await alerts(unsure) == [] and await counselor_alerts(unsure, dana) == []
    # The question's buttons answer once.
    await sam.press("I need help now", question)
    assert sam.last_callback_answer["text"] == "Thanks. That question has already been answered."
    async with unsure.sessionmaker() as session:  # the message itself is kept
        assert [n.text for n in await session.scalars(select(Note))] == [UNSURE]


async def test_i_need_help_now_is_a_crisis(unsure):
    dana, sam = await setup(unsure)
    await sam.say(UNSURE)
    replies = await sam.press("I need help now")
    assert RESOURCES in replies[0]["text"] and "alerted" in replies[0]["text"]
    [alert] = await alerts(unsure)
    assert (alert.level, alert.cause) == ("crisis", "safety_ask")
    [message] = await counselor_alerts(unsure, dana)
    assert "Crisis alert: Sam" in message
    assert "said they need help now" in message and "staring at the ceiling" in message


async def test_typed_answers_work(unsure):
    dana, sam = await setup(unsure)
    await sam.say(UNSURE)
    replies = await sam.say("talk to my counselor")
    assert "asked your counselor to reach out" in replies[0]["text"]
    [alert] = await alerts(unsure)
    assert (alert.level, alert.cause) == ("high", "safety_ask")
    [message] = await counselor_alerts(unsure, dana)
    assert "High alert: Sam" in message and "asked to talk to their counselor" in message
    # Asked again, a typed "not safe" is a crisis.
    await sam.say("the night is long and I keep staring at the wall")
    replies = await sam.say("Not safe")
    assert RESOURCES in replies[0]["text"]
    assert [a.answer for a in await asks(unsure)] == ["counselor", "help"]


async def test_no_answer_raises_a_watch_alert_that_quotes_the_message(unsure, clock):
    dana, sam = await setup(unsure)
    await sam.say(UNSURE)
    clock.advance(minutes=29)
    assert await sweep(unsure) == 0
    clock.advance(minutes=2)
    assert await sweep(unsure) == 1
    [alert] = await alerts(unsure)
    assert (alert.level, alert.cause) == ("watch", "safety_ask")
    [message] = await counselor_alerts(unsure, dana)
    assert "Watch alert: Sam" in message and "not answered in 30 minutes" in message
    assert "staring at the ceiling" in message and "model score" in message  # what, and why
    assert await sweep(unsure) == 0  # once
    # /sos later answers any open question too.
    await sam.say(UNSURE + " again")
    await sam.say("/sos")
    assert [a.answer for a in await asks(unsure)] == ["sos", "sos"]  # the alerted one too


async def test_a_lapse_can_be_asked_about_and_still_get_the_lapse_response(unsure):
    _, sam = await setup(unsure)
    replies = await sam.say("relapsed last night and now everything feels strange")
    texts = [r["text"] for r in replies]
    assert any(QUESTION in t for t in texts)
    assert any("A lapse is not a failure" in t for t in texts)
    assert any("tolerance is lower" in t for t in texts)


async def test_a_spanish_crisis_message_gets_the_spanish_ways_in(bot):
    dana, sam = await setup(bot)  # Sam reads English
    replies = await sam.say("ya no quiero vivir, tengo todas las pastillas aquí en la mesa")
    assert RESOURCES in replies[0]["text"]
    spanish = replies[1]["text"]
    assert "AYUDA" in spanish and "988" in spanish and "marca <b>2</b>" in spanish
    assert "1-800-662-4357" in spanish
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("crisis", "screen")
    [message] = await counselor_alerts(bot, dana)
    assert "ya no quiero vivir" in message  # the counselor reads why


async def test_an_english_crisis_message_gets_no_spanish_block(bot):
    _, sam = await setup(bot)
    replies = await sam.say("I want to kill myself tonight")
    assert RESOURCES in replies[0]["text"]
    assert not any("AYUDA" in r["text"] for r in replies)


async def test_an_idiom_stays_calm(bot):
    _, sam = await setup(bot)
    replies = await sam.say("my phone is dead, the suspense is killing me lol")
    assert len(replies) == 1 and RESOURCES not in replies[0]["text"]
    assert QUESTION not in replies[0]["text"]
    assert await alerts(bot) == []
