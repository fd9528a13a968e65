"""The clinical paths through the real bot: each risk answer gets its response at once, before
anything else, and the counselor gets an alert."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Alert, AlertNotification, CheckIn
from tests.harness import enroll_participant, participant_row, register_counselor

RESOURCES = "Suicide &amp; Crisis Lifeline"  # as sent, in HTML
NEVER_USE_ALONE = "1-800-484-3731"


async def setup(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    return dana, sam


async def alerts(bot) -> list[Alert]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(Alert).order_by(Alert.id))).all())


async def notification_reasons(bot) -> list[str]:
    async with bot.sessionmaker() as session:
        rows = await session.scalars(
            select(AlertNotification.reason).order_by(AlertNotification.id)
        )
        return list(rows.all())


async def counselor_alerts(bot, dana) -> list[str]:
    await bot.dispatch()
    return [t for t in dana.texts() if "alert:" in t]


async def test_high_craving_gets_a_coping_prompt_at_once(bot):
    dana, sam = await setup(bot)
    await sam.say("/checkin")
    await sam.press("4")
    replies = await sam.press("9")
    texts = [r["text"] for r in replies]
    coping = next(i for i, t in enumerate(texts) if "strong craving" in t)
    question = next(i for i, t in enumerate(texts) if "used alcohol or drugs" in t)
    assert coping < question  # the response comes before the next question
    labels = [b["text"] for row in replies[coping]["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Another idea", "I need help now"]
    before = replies[coping]["text"]
    await sam.press("Another idea", replies[coping])
    assert sam.last()["text"] != before  # never the same idea twice in a row
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("high", "craving")
    [message] = await counselor_alerts(bot, dana)
    assert "High alert: Sam" in message and "Cravings: 9/10" in message


async def test_lapse_gets_two_kind_messages_then_overdose_safety(bot, clock):
    dana, sam = await setup(bot)
    clock.advance(days=9)  # day 10 of recovery
    await sam.say("/checkin")
    await sam.press("3")
    await sam.say("2")
    replies = await sam.press("Yes")
    texts = [r["text"] for r in replies]
    assert "A lapse is not a failure" in texts[0] and "10 days in recovery still count" in texts[0]
    assert "tolerance is lower" in texts[1] and NEVER_USE_ALONE in texts[1]
    assert "naloxone" in texts[1] and "benzodiazepines" in texts[1]
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("high", "lapse")
    # The count of days is never reset by a lapse.
    options = [b["text"] for row in sam.last()["reply_markup"]["inline_keyboard"] for b in row]
    await sam.press(options[0])
    assert "Day 10 of your recovery" in sam.last_text()


async def test_low_mood_leads_to_the_safety_screen_and_crisis_resources(bot):
    dana, sam = await setup(bot)
    await sam.say("/checkin")
    await sam.press("2")
    assert "better off dead" in sam.last_text()  # the item-9 question, right after mood
    replies = await sam.press("Yes")
    assert RESOURCES in replies[0]["text"] and "988" in replies[0]["text"]
    assert "wished you were dead" in sam.last_text()  # C-SSRS Q1
    await sam.press("Yes")
    assert "thoughts of killing yourself" in sam.last_text()  # Q2
    await sam.press("Yes")
    assert "how you might do this" in sam.last_text()  # Q3, only after a yes to Q2
    await sam.press("No")
    assert "intention of acting" in sam.last_text()  # Q4
    await sam.press("No")
    assert "details of how to kill yourself" in sam.last_text()  # Q5
    await sam.press("No")
    assert "ever done anything" in sam.last_text()  # Q6, always
    await sam.press("No")
    assert "cravings" in sam.last_text()  # back to the daily questions
    # Resources once; a high alert at the first yes, then a crisis alert at the yes to Q2.
    assert sum("face this alone" in m["text"] for m in sam.messages()) == 1
    # One alert, raised at high by the first yes and raised to crisis by the yes to Q2; the
    # counselor is told both times.
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause, alert.signals) == ("crisis", "checkin", 2)
    assert await notification_reasons(bot) == ["new", "crisis"]
    messages = await counselor_alerts(bot, dana)
    # Crisis goes out first: the dispatcher serves the most urgent messages first.
    assert "Crisis alert: Sam" in messages[0] and "High alert: Sam" in messages[1]
    assert "mood 2" in messages[0]  # the 7-day trend includes today's answers


async def test_screen_branches_straight_to_behaviour_after_a_no_to_q2(bot):
    _, sam = await setup(bot)
    await sam.say("/checkin")
    await sam.press("1")
    await sam.press("Yes")
    await sam.press("No")  # Q1
    await sam.press("No")  # Q2: no, so Q3-5 are skipped
    assert "ever done anything" in sam.last_text()
    await sam.press("Yes, in the past 3 months")
    async with bot.sessionmaker() as session:
        checkin = await session.scalar(select(CheckIn))
    assert "cssrs_3" not in checkin.question_keys
    assert [a.level for a in await alerts(bot)] == ["crisis"]


async def test_crisis_words_in_free_text_get_resources_and_an_alert(bot):
    dana, sam = await setup(bot)
    replies = await sam.say("honestly I just want to end it all tonight")
    assert RESOURCES in replies[0]["text"]
    assert "Your counselor has been alerted" in replies[0]["text"]
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("crisis", "screen")
    [message] = await counselor_alerts(bot, dana)
    assert "Crisis alert: Sam" in message
    assert "want to end it all tonight" in message  # the counselor sees what was written


async def test_crisis_words_during_a_checkin_answer_first(bot):
    _, sam = await setup(bot)
    await sam.say("/checkin")
    replies = await sam.say("i dont want to live anymore")
    assert RESOURCES in replies[0]["text"]
    assert "Question 1 of 4" in replies[-1]["text"]  # then the open question, asked again


async def test_a_negated_sentence_gets_no_crisis_response(bot):
    _, sam = await setup(bot)
    replies = await sam.say("I don't want to die, I'm just tired today")
    assert len(replies) == 1 and RESOURCES not in replies[0]["text"]
    replies = await sam.say("I'm not going to use tonight")
    assert len(replies) == 1 and "tolerance" not in replies[0]["text"]
    assert await alerts(bot) == []


async def test_sos_and_the_help_button(bot):
    dana, sam = await setup(bot)
    replies = await sam.say("/sos")
    assert RESOURCES in replies[0]["text"] and "alerted" in replies[0]["text"]
    replies = await sam.say("🆘 I need help now")
    assert RESOURCES in replies[0]["text"]
    # One open alert per cause; a crisis always tells the counselor again.
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause, alert.signals) == ("crisis", "sos", 2)
    assert len(await counselor_alerts(bot, dana)) == 2


async def test_coping_never_repeats_back_to_back(bot):
    _, sam = await setup(bot)
    seen = []
    for _ in range(4):
        await sam.say("/coping")
        seen.append(sam.last_text().split("\n\n")[1])
    assert all(a != b for a, b in zip(seen, seen[1:], strict=False))
    assert (await participant_row(bot)).last_coping_key is not None


async def test_weekly_checkin_on_the_chosen_day_has_the_fuller_questions(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, weekly="Wed")  # enrolled Monday 5 January, 09:00
    participant = await participant_row(bot)
    clock.set(participant.next_checkin_at)  # Tuesday 09:00: daily
    await bot.tick()
    assert "daily check-in" in sam.last_text() and "of 4" in sam.last_text()
    clock.set((await participant_row(bot)).next_checkin_at)  # Wednesday 09:00: weekly
    await bot.tick()
    assert "weekly check-in" in sam.last_text() and "of 11" in sam.last_text()


async def test_a_week_in_recovery_is_celebrated_once(bot, clock):
    _, sam = await setup(bot)
    clock.advance(days=6)  # day 7

    async def check_in():
        await sam.say("/checkin")
        await sam.press("4")
        await sam.press("1")
        await sam.press("No")
        options = [b["text"] for row in sam.last()["reply_markup"]["inline_keyboard"] for b in row]
        await sam.press(options[0])
        return sam.last_text()

    assert "One week in recovery" in await check_in()
    clock.advance(days=1)
    assert "One week in recovery" not in await check_in()
    assert "2 days checked in" in sam.last_text()


async def test_missed_check_ins_in_a_row_raise_watch_then_high(bot, clock):
    dana, sam = await setup(bot)
    for _ in range(3):
        clock.set((await participant_row(bot)).next_checkin_at)
        await bot.tick()
        clock.advance(hours=7)
        await bot.sweep()
    [alert] = await alerts(bot)  # raised at watch after 2, to high after 3
    assert (alert.level, alert.cause, alert.signals) == ("high", "missed", 2)
    assert await notification_reasons(bot) == ["new", "update"]
    messages = await counselor_alerts(bot, dana)
    assert any("3 check-ins missed in a row" in m for m in messages)
