"""Alerts that reach a human: delivered, acknowledged, escalated when nobody acknowledges,
resolved with a note, and only ever seen by the participant's own counselor or an admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from db.models import Alert, AlertNotification, AuditEvent, OutboxMessage
from tests.harness import enroll_participant, participant_row, register_counselor


async def one_alert(bot) -> Alert:
    async with bot.sessionmaker() as session:
        [alert] = (await session.scalars(select(Alert))).all()
        return alert


async def chain(bot) -> list[tuple[str, str]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(AlertNotification.recipient, AlertNotification.reason).order_by(
                AlertNotification.id
            )
        )
        return [tuple(r) for r in rows]


def alert_messages(person) -> list[dict]:
    return [m for m in person.messages() if "alert:" in (m.get("text") or "")]


def buttons(message) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def craving_nine(sam):
    await sam.say("/checkin")
    await sam.press("4")
    await sam.press("9")


async def test_craving_nine_alerts_the_counselor_who_acknowledges(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await craving_nine(sam)
    await bot.dispatch()
    [message] = alert_messages(dana)
    assert "High alert: Sam" in dana.last_text() and "Cravings: 9/10" in dana.last_text()
    assert buttons(message) == ["Acknowledge", "Resolve", "History"]

    await dana.press("Acknowledge", message)
    assert dana.last_callback_answer["text"] == "✓ Acknowledged by Dana."
    edited = alert_messages(dana)[0]
    assert buttons(edited) == ["Resolve", "History"]
    assert "Acknowledged by Dana" in edited["text"]
    alert = await one_alert(bot)
    assert alert.status == "acknowledged" and alert.acknowledged_at == bot.clock()
    await dana.press_data(message["message_id"], f"al:a:{alert.id}")
    assert dana.last_callback_answer["text"] == "Already acknowledged."


async def test_unacknowledged_alert_escalates_until_acknowledged(bot, clock):
    ada = await register_counselor(bot, 1000, "Ada", admin=True)
    dana = await register_counselor(bot, 1001, "Dana")
    sam = await enroll_participant(bot, dana)
    await sam.say("/sos")
    await bot.dispatch()
    assert [r for r in await chain(bot)] == [("counselor:2", "new")]
    clock.advance(minutes=14)
    assert await bot.escalate() == 0  # crisis waits 15 minutes
    clock.advance(minutes=1)
    assert await bot.escalate() == 1
    assert await chain(bot) == [
        ("counselor:2", "new"),
        ("counselor:2", "escalation"),
        ("counselor:1", "escalation"),
    ]
    assert "Escalated: not acknowledged after 15 minutes" in ada.last_text()
    assert "Crisis alert: Sam" in ada.last_text()
    assert "Escalated" in dana.last_text()
    clock.advance(minutes=15)
    assert await bot.escalate() == 1  # and again, every timeout, until someone acknowledges

    await ada.press("Acknowledge")  # an admin may acknowledge any alert
    clock.advance(hours=2)
    assert await bot.escalate() == 0
    assert (await one_alert(bot)).acknowledged_by == 1


async def test_acknowledging_stops_escalation(bot, clock):
    await register_counselor(bot, 1000, "Ada", admin=True)
    dana = await register_counselor(bot, 1001, "Dana")
    sam = await enroll_participant(bot, dana)
    await craving_nine(sam)
    await bot.dispatch()
    await dana.press("Acknowledge")
    clock.advance(hours=5)  # past the 4 hours a high alert waits
    assert await bot.escalate() == 0
    assert await chain(bot) == [("counselor:2", "new")]


async def test_resolving_asks_for_a_note(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await craving_nine(sam)
    await bot.dispatch()
    await dana.press("Resolve")
    assert "reply with a short note" in dana.last_text()
    await dana.say("Called Sam, went to a meeting together.")
    assert "Resolved" in dana.last_text()
    alert = await one_alert(bot)
    assert alert.status == "resolved"
    assert alert.resolution_note == "Called Sam, went to a meeting together."
    await dana.say("/flags")
    assert "No open alerts" in dana.last_text()


async def test_another_counselor_cannot_see_or_act(bot):
    dana = await register_counselor(bot, 1001, "Dana")
    lee = await register_counselor(bot, 1002, "Lee")
    sam = await enroll_participant(bot, dana)
    await craving_nine(sam)
    await bot.dispatch()
    alert = await one_alert(bot)
    await lee.say("/flags")
    assert "No open alerts" in lee.last_text()
    for action in "arh":  # forged presses of Dana's alert's buttons, from Lee's chat
        await lee.press_data(lee.last()["message_id"], f"al:{action}:{alert.id}")
        assert lee.last_callback_answer["text"] == "This alert isn't in your caseload."
    assert (await one_alert(bot)).status == "open"
    await sam.press_data(sam.last()["message_id"], f"al:a:{alert.id}")  # nor the participant
    assert (await one_alert(bot)).status == "open"
    await dana.say("/flags")
    assert "Open alerts" in dana.texts()[-2] and "High alert: Sam" in dana.last_text()


async def test_history_button_shows_the_trend_and_is_audited(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await craving_nine(sam)
    await bot.dispatch()
    await dana.press("History")
    assert "Sam: last 7 days" in dana.last_text() and "Cravings: 9/10" in dana.last_text()
    async with bot.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert "history_viewed" in actions


async def test_names_with_html_characters_make_valid_alerts(bot):
    dana = await register_counselor(bot)
    ann = await enroll_participant(bot, dana, 2005, "Ann <3 & co")
    await ann.say("/sos")
    await bot.dispatch()
    assert "Crisis alert: Ann <3 & co" in dana.last_text()
    async with bot.sessionmaker() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert set(statuses) == {"sent"}


async def test_alert_written_before_a_crash_is_delivered_after_restart(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await sam.say("/sos")  # the alert and its message are committed ...
    await bot.stop()  # ... and the bot dies before the dispatcher sends it
    await bot.start()
    await bot.dispatch()
    assert "Crisis alert: Sam" in dana.last_text()


async def test_a_send_interrupted_mid_flight_is_retried_after_its_lease(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await sam.say("/sos")
    async with bot.sessionmaker.begin() as session:  # a worker claimed it, then died
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .values(status="sending", lease_until=clock() + timedelta(seconds=60))
        )
    await bot.dispatch()
    assert not any("Crisis alert" in t for t in dana.texts())
    clock.advance(seconds=61)
    await bot.dispatch()
    assert "Crisis alert: Sam" in dana.last_text()


def membership(person, old: str, new: str, when: datetime) -> dict:
    """A my_chat_member update: the person blocked ("kicked") or unblocked the bot."""
    chat = {"id": person.chat_id, "type": "private", "first_name": person.first_name}
    user = {"id": person.user_id, "is_bot": False, "first_name": person.first_name}
    bot_user = {"id": 123456, "is_bot": True, "first_name": "Aftercare Test Bot"}

    def member(status: str) -> dict:
        extra = {"until_date": 0} if status == "kicked" else {}
        return {"status": status, "user": bot_user, **extra}

    return {
        "my_chat_member": {
            "chat": chat,
            "from": user,
            "date": int(when.timestamp()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
    }


async def test_blocking_alerts_the_counselor_and_unblocking_tells_them(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    pushed = bot.tg.push_update(membership(sam, "member", "kicked", clock()))
    await bot.settle(pushed["update_id"])
    assert (await participant_row(bot)).status == "unreachable"
    await bot.dispatch()
    assert "High alert: Sam" in dana.last_text() and "blocked the bot" in dana.last_text()
    pushed = bot.tg.push_update(membership(sam, "kicked", "member", clock()))
    await bot.settle(pushed["update_id"])
    assert (await participant_row(bot)).status == "active"
    await bot.dispatch()
    assert "Sam has unblocked the bot" in dana.last_text()


async def test_outside_monitored_hours_the_participant_is_told_when(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    clock.set(datetime(2026, 1, 10, 3, 0, tzinfo=UTC))  # Friday 22:00 in New York
    replies = await sam.say("/sos")
    assert "Suicide &amp; Crisis Lifeline" in replies[0]["text"]
    assert "outside your program's working hours" in replies[1]["text"]
    assert "Mon" in replies[1]["text"] and "08:00" in replies[1]["text"]
    assert "988" in replies[1]["text"]
    replies = await sam.say("I relapsed last night")  # every alert, not only a crisis
    assert any("outside your program's working hours" in r["text"] for r in replies)


async def test_a_stranger_in_crisis_gets_the_numbers_but_raises_no_alert(bot):
    stranger = bot.person(3001, "Robin")
    await stranger.say("i want to die")
    assert "988" in stranger.last_text() and "1-800-662-4357" in stranger.last_text()
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Alert))).all() == []


async def test_a_button_press_is_never_taken_as_a_resolution_note(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await craving_nine(sam)
    await bot.dispatch()
    await dana.press("Resolve")
    await dana.press_data(dana.last()["message_id"], "sos")  # not a participant's button
    assert dana.last_callback_answer["text"] == "This button is no longer active."
    assert (await one_alert(bot)).status == "open"
    await dana.say("Spoke with Sam.")
    assert (await one_alert(bot)).resolution_note == "Spoke with Sam."
