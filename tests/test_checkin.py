"""The daily loop over real HTTP: tick -> check-in -> tapped and typed answers -> summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.models import Answer, CheckIn, OutboxMessage
from tests.harness import enroll_participant, participant_row, raw_message, register_counselor

NEW_YORK = ZoneInfo("America/New_York")


async def enrolled(bot, **kwargs):
    dana = await register_counselor(bot)
    return dana, await enroll_participant(bot, dana, **kwargs)


async def checkins(bot) -> list[CheckIn]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(CheckIn).order_by(CheckIn.id))).all())


async def answers(bot) -> list[tuple[str, str, str]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(Answer.question_key, Answer.value, Answer.source).order_by(Answer.id)
        )
        return [tuple(r) for r in rows]


async def move_to_next_checkin(bot, clock, user_id=2001):
    clock.set((await participant_row(bot, user_id)).next_checkin_at)
    return await bot.tick()


async def test_daily_checkin_tapped_and_typed(bot, clock):
    _, sam = await enrolled(bot, at="10:00")
    result = await move_to_next_checkin(bot, clock)
    assert result.created == 1
    question = sam.last()
    assert "time for your daily check-in" in sam.last_text()
    assert "Question 1 of 4" in sam.last_text() and "mood" in sam.last_text()
    assert clock().astimezone(NEW_YORK).strftime("%H:%M") == "10:00"

    clock.advance(minutes=3)
    await sam.press("4")
    assert "✓ How is your mood today? 4/5 (good)" in sam.texts()[-2]  # the question, edited
    assert sam.bot.tg.sent(sam.chat_id)[-2]["message_id"] == question["message_id"]
    assert "cravings" in sam.last_text()
    await sam.say("3")
    assert "used alcohol or drugs" in sam.last_text()
    await sam.say("no")
    assert "Question 4 of 4" in sam.last_text()
    options = [b["text"] for row in sam.last()["reply_markup"]["inline_keyboard"] for b in row]
    await sam.press(options[0])
    summary = sam.last_text()
    assert "Thank you for checking in, Sam" in summary
    assert "Mood: 4/5 (good)" in summary and "Cravings: 3/10" in summary
    assert sam.last().get("reply_markup") is None

    stored = await answers(bot)
    assert [(k, v, s) for k, v, s in stored[:3]] == [
        ("mood", "4", "button"), ("craving", "3", "typed"), ("use", "no", "typed"),
    ]  # fmt: skip
    assert len(stored) == 4
    [checkin] = await checkins(bot)
    assert checkin.status == "completed" and checkin.kind == "daily"
    assert (await participant_row(bot)).next_checkin_at == checkin.slot_at + timedelta(days=1)


async def test_checkin_on_demand_and_resume(bot, clock):
    _, sam = await enrolled(bot)
    await sam.say("/checkin")
    assert "Let's check in, Sam" in sam.last_text()
    await sam.press("3")
    await sam.say("/checkin")
    assert "pick up where we left off" in sam.last_text()
    assert "cravings" in sam.last_text()
    assert len(await checkins(bot)) == 1


async def test_restart_mid_checkin_loses_nothing(bot, clock):
    _, sam = await enrolled(bot)
    await move_to_next_checkin(bot, clock)
    await sam.press("3")
    await bot.restart()
    await sam.say("8")  # typed after the restart: goes to the craving question
    assert "used alcohol or drugs" in sam.last_text()
    await sam.press("Rather not say")
    options = [b["text"] for row in sam.last()["reply_markup"]["inline_keyboard"] for b in row]
    await sam.press(options[-1])
    assert "Thank you for checking in" in sam.last_text()
    stored = [a[:2] for a in await answers(bot)][:3]
    assert stored == [("mood", "3"), ("craving", "8"), ("use", "skip")]
    # A craving of 8 brings a line of support with the summary.
    assert "988" in sam.last_text()


async def test_unanswered_checkin_is_marked_missed(bot, clock):
    _, sam = await enrolled(bot)
    await move_to_next_checkin(bot, clock)
    question = sam.last()
    clock.advance(hours=5, minutes=59)
    assert await bot.sweep() == 0
    clock.advance(minutes=1)
    assert await bot.sweep() == 1
    [checkin] = await checkins(bot)
    assert checkin.status == "missed"
    await sam.press("5", question)
    assert sam.last_callback_answer["text"].startswith("That check-in has closed")
    assert await answers(bot) == []


async def test_tick_is_idempotent_and_sends_once(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, 2001, "Sam", at="09:00")
    lee = await enroll_participant(bot, dana, 2002, "Lee", at="09:00")
    await move_to_next_checkin(bot, clock)
    again = await bot.tick()
    assert again.created == 0
    for person in (sam, lee):
        assert sum("daily check-in" in t for t in person.texts()) == 1
    assert len(await checkins(bot)) == 2
    async with bot.sessionmaker() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert statuses == ["sent", "sent"]


async def test_stale_slot_after_outage_is_skipped_not_sent_late(bot, clock):
    _, sam = await enrolled(bot)
    slot = (await participant_row(bot)).next_checkin_at
    clock.set(slot + timedelta(hours=7))  # the bot was down past the response window
    result = await bot.tick()
    assert (result.created, result.skipped) == (0, 1)
    assert not any("daily check-in" in t for t in sam.texts())
    [checkin] = await checkins(bot)
    assert checkin.status == "skipped"
    assert (await participant_row(bot)).next_checkin_at == slot + timedelta(days=1)


async def test_on_demand_checkin_just_before_the_slot_stands_in_for_it(bot, clock):
    _, sam = await enrolled(bot)
    slot = (await participant_row(bot)).next_checkin_at
    clock.set(slot - timedelta(minutes=20))
    await sam.say("/checkin")
    clock.set(slot)
    result = await bot.tick()
    assert (result.created, result.skipped) == (0, 1)
    assert not any("daily check-in" in t for t in sam.texts())


async def test_checkins_stay_at_local_time_across_dst(bot, clock):
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))  # spring forward is Sunday 8 March
    _, sam = await enrolled(bot, at="09:00")
    local_times = []
    for _ in range(5):
        await move_to_next_checkin(bot, clock)
        local_times.append(clock().astimezone(NEW_YORK).strftime("%a %H:%M %Z"))
    assert local_times == [
        "Fri 09:00 EST", "Sat 09:00 EST", "Sun 09:00 EDT", "Mon 09:00 EDT", "Tue 09:00 EDT",
    ]  # fmt: skip
    assert sum("daily check-in" in t for t in sam.texts()) == 5


async def test_blocked_participant_becomes_unreachable(bot, clock):
    _, sam = await enrolled(bot)
    bot.tg.block(sam.chat_id)
    await move_to_next_checkin(bot, clock)
    assert (await participant_row(bot)).status == "unreachable"
    async with bot.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.status == "failed" and "403" in row.last_error


async def test_a_brief_server_error_is_retried_in_flight(bot, clock):
    _, sam = await enrolled(bot)
    bot.tg.fail_next("sendMessage", status=500, count=1)
    await move_to_next_checkin(bot, clock)
    assert "daily check-in" in sam.last_text()  # the rate limiter retried it with backoff
    async with bot.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.status == "sent" and row.attempts == 1


async def test_a_long_outage_is_retried_from_the_outbox(bot, clock):
    _, sam = await enrolled(bot)
    bot.tg.fail_next("sendMessage", status=500, count=100)  # more than the in-flight retries
    await move_to_next_checkin(bot, clock)
    async with bot.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.status == "pending" and row.attempts == 1 and "Server Error" in row.last_error
    bot.tg.clear_faults()
    clock.advance(minutes=10)
    await bot.dispatch()
    assert "daily check-in" in sam.last_text()
    async with bot.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.status == "sent" and row.attempts == 2


async def test_unreachable_participant_who_writes_again_is_active_again(bot, clock):
    _, sam = await enrolled(bot)
    bot.tg.block(sam.chat_id)
    await move_to_next_checkin(bot, clock)
    assert (await participant_row(bot)).status == "unreachable"
    bot.tg.unblock(sam.chat_id)
    await sam.say("sorry, I was away")
    assert (await participant_row(bot)).status == "active"
    result = await move_to_next_checkin(bot, clock)
    assert result.created == 1


async def test_stored_but_unhandled_update_is_handled_after_a_restart(bot, clock):
    from db.models import InboundUpdate

    _, sam = await enrolled(bot)
    await bot.stop()
    # The bot stored this update, then died before handling it.
    message = raw_message(sam, "/checkin", clock(), message_id=4242)
    message["entities"] = [{"type": "bot_command", "offset": 0, "length": 8}]
    update = {"update_id": 5_000_000, "message": message}
    async with bot.sessionmaker.begin() as session:
        session.add(InboundUpdate(update_id=5_000_000, payload=update, received_at=clock()))
    before = len(sam.messages())
    await bot.start()
    assert "Let's check in, Sam" in sam.texts()[before]
    async with bot.sessionmaker() as session:
        stored = await session.get(InboundUpdate, 5_000_000)
    assert stored.processed_at is not None


async def test_command_without_an_entity_still_works(bot, clock):
    _, sam = await enrolled(bot)
    update = bot.tg.push_update({"message": raw_message(sam, "/checkin", clock())})
    await bot.settle(update["update_id"])
    assert "Let's check in, Sam" in sam.last_text()
