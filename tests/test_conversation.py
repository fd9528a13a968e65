"""One conversation model, over real HTTP: every typed message is screened first, then answers
the one question asked last (db/awaiting), and typed words work wherever buttons do. Each of
the first tests is a case that once went wrong."""

from __future__ import annotations

from sqlalchemy import select

from db import awaiting
from db.models import Consent, Note, ParticipantMeeting
from tests.harness import invite_link, register_counselor
from tests.test_plan import setup, stored_plan
from tests.test_safety import RESOURCES, alerts, counselor_alerts


async def asked_of(bot, person):
    async with bot.sessionmaker() as session:
        return await awaiting.of(session, person.user_id)


async def notes_of(bot) -> list[str]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(Note.text).order_by(Note.id))).all())


async def test_crisis_words_at_the_time_zone_question_get_help_and_an_alert(bot):
    dana = await register_counselor(bot)
    token = (await invite_link(dana)).rsplit("=", 1)[1]
    sam = bot.person(2001, "Sam")
    await sam.say("/start " + token)
    await sam.press("Yes, I agree")
    replies = await sam.say("I want to kill myself")
    assert RESOURCES in replies[0]["text"]
    assert "time zone" in sam.last_text()  # then the question again
    assert "don't know the time zone" not in " ".join(sam.texts())
    assert [a.level for a in await alerts(bot)] == ["crisis"]
    assert any("Crisis alert: Sam" in t for t in await counselor_alerts(bot, dana))
    assert "I want to kill myself" in await notes_of(bot)
    await sam.say("America/Chicago")  # the question is still open, and still answered by text
    assert "America/Chicago" in sam.last_text()


async def test_the_plan_asked_after_a_setting_gets_the_typed_answer(bot):
    _, sam = await setup(bot)
    await sam.say("/settings")
    await sam.press("Check-in time")
    await sam.say("/plan")
    await sam.press("Let's make it")
    await sam.say("Maria 555-123-4567")
    assert "Added Maria (555-123-4567)" in sam.last_text()
    assert (await stored_plan(bot)).people == [{"name": "Maria", "contact": "555-123-4567"}]


async def test_a_meeting_typed_in_after_the_plan_gets_its_name(bot):
    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.press("Let's make it")
    await sam.say("/meetings")
    await sam.press("✏️ Add my own")
    await sam.say("Sunday Serenity")
    assert "name and a phone number" not in sam.last_text()
    async with bot.sessionmaker() as session:
        draft = await session.scalar(select(ParticipantMeeting))
    assert (draft.name, draft.draft_step) == ("Sunday Serenity", "day")
    assert (await asked_of(bot, sam)).kind == awaiting.MEETING


async def test_the_contact_question_answered_in_words(bot):
    _, sam = await setup(bot)
    await sam.say("/contact")
    await sam.say("when things look hard")
    assert "one-time link for your support contact" in sam.last_text()
    async with bot.sessionmaker() as session:
        consent = await session.scalar(select(Consent))
    assert consent.levels == ["high", "crisis"]
    assert await notes_of(bot) == []  # an answer, not a note


async def test_an_unclear_reply_brings_the_question_back_with_a_hint(bot):
    _, sam = await setup(bot)
    await sam.say("/contact")
    await sam.say("hmm")
    assert "type one of them" in sam.last_text() and "Not now" in sam.last_text()
    await sam.say("not now")
    assert "one-time link" not in sam.last_text()
    assert await notes_of(bot) == [] and await asked_of(bot, sam) is None


async def test_a_command_sets_the_open_question_aside(bot):
    _, sam = await setup(bot)
    await sam.say("/contact")
    assert (await asked_of(bot, sam)).kind == awaiting.CONTACT_OFFER
    await sam.say("/help")
    assert await asked_of(bot, sam) is None
    await sam.say("when things look hard")  # no longer an answer: kept as a note
    assert await notes_of(bot) == ["when things look hard"]


async def test_a_scheduled_question_is_asked_when_it_arrives(bot, clock):
    """The dispatcher writes what it asks once the message is sent: typed text then answers
    the check-in, not the set-up begun before it arrived."""

    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.press("Let's make it")
    clock.advance(days=1)
    await bot.tick()
    await bot.dispatch()
    question = await asked_of(bot, sam)
    assert question.kind == awaiting.CHECKIN
    await sam.say("4")
    assert "Question 2" in sam.last_text()


async def test_what_is_open_carries_over_an_upgrade(bot):
    """Migration 0009 builds "awaiting" from the old fields: down to 0008 (which writes them
    back) and up again, a check-in in progress continues and a counselor's note still lands."""
    from db.engine import create_engine
    from db.migrate import downgrade, upgrade

    dana, sam = await setup(bot)
    await sam.say("/checkin")
    await sam.say("4")
    assert "Question 2" in sam.last_text()
    lee = bot.person(2002, "Lee")
    await lee.say("/settings")  # a stranger: nothing of theirs to carry
    engine = create_engine(bot.db_url)
    try:
        await downgrade(engine, "0008")
        await upgrade(engine)
    finally:
        await engine.dispose()
    question = await asked_of(bot, sam)
    assert question.kind == awaiting.CHECKIN
    await sam.say("3")
    assert "Question 3" in sam.last_text()
