"""A counselor's /discharge over real HTTP: confirmed with a button pressed by someone allowed
to, then check-ins end, the participant gets a goodbye with resources, and it is audited."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import AuditEvent, CheckIn
from tests.harness import enroll_participant, participant_row, register_counselor
from tests.snapshots import describe, errors_logged


async def setup(bot):
    dana = await register_counselor(bot, 1001, "Dana")
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    return dana, sam


async def discharges(bot) -> list[tuple[str, str]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent.actor, AuditEvent.subject).where(
                AuditEvent.action == "participant_discharged"
            )
        )
        return [tuple(r) for r in rows]


async def test_discharge_ends_checkins_with_a_goodbye_and_resources(bot, clock):
    dana, sam = await setup(bot)
    await sam.say("/checkin")  # an open check-in, closed by the discharge
    await dana.say("/discharge Sam")
    assert "Discharge Sam (#1)?" in dana.last_text()
    assert (await participant_row(bot)).status == "active"  # nothing happens before the press

    await dana.press("Yes, discharge")
    assert "Sam is discharged" in dana.last_text()
    assert dana.messages()[-2].get("reply_markup") is None  # the buttons are gone
    row = await participant_row(bot)
    assert (row.status, row.discharged_at, row.next_checkin_at) == ("discharged", clock(), None)
    assert await discharges(bot) == [("counselor:1", "participant:1")]

    await bot.dispatch()
    goodbye = sam.last_text()
    assert goodbye.startswith("Dear Sam, your counselor has closed your aftercare check-ins")
    for resource in ("1-800-662-4357", "1-800-484-3731", "988", "911", "naloxone"):
        assert resource in goodbye

    clock.advance(days=2)
    assert (await bot.tick()).created == 0
    async with bot.sessionmaker() as session:
        statuses = (await session.scalars(select(CheckIn.status))).all()
    assert statuses == ["skipped"]


async def test_after_discharge_help_remains_and_check_ins_do_not(bot):
    dana, sam = await setup(bot)
    await dana.say("/discharge 1")
    await dana.press("Yes, discharge")
    for command in ("/checkin", "/pause", "/resume", "/settings", "/help"):
        await sam.say(command)
        assert "check-ins have ended" in sam.last_text(), command
    replies = await sam.say("/sos")
    assert "988" in replies[0]["text"]
    await sam.say("/coping")
    assert "might help" in sam.last_text()
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(CheckIn)) == 0


async def test_cancel_changes_nothing(bot):
    dana, sam = await setup(bot)
    await dana.say("/discharge Sam")
    await dana.press("Cancel")
    assert "nothing has changed" in dana.last_text()
    assert (await participant_row(bot)).status == "active"
    assert await discharges(bot) == []


async def test_only_the_participants_own_counselor_or_an_admin_may_discharge(bot):
    dana, sam = await setup(bot)
    lee = await register_counselor(bot, 1002, "Lee")
    await lee.say("/discharge Sam")
    assert 'couldn\'t find "Sam" in your caseload' in lee.last_text()
    await lee.say("/discharge 1")
    assert "couldn't find" in lee.last_text()

    await dana.say("/discharge Sam")
    confirm = dana.last()
    # Lee, Sam and a stranger press Dana's button (forged into their own chats).
    robin = bot.person(3001, "Robin")
    await robin.say("hi")
    for person in (lee, sam, robin):
        await person.press_data(person.last()["message_id"], "dc:1:y")
        assert person.last_callback_answer["text"] == "This button isn't for you."
    assert (await participant_row(bot)).status == "active"
    assert await discharges(bot) == []
    assert confirm["reply_markup"]

    ada = await register_counselor(bot, 1000, "Ada", admin=True)
    await ada.say("/discharge Sam")
    await ada.press("Yes, discharge")
    assert (await participant_row(bot)).status == "discharged"
    assert await discharges(bot) == [("counselor:3", "participant:1")]


async def test_discharge_usage_repeats_and_strangers(bot):
    dana, sam = await setup(bot)
    await dana.say("/discharge")
    assert "/discharge 3" in dana.last_text()
    await dana.say("/discharge Sam")
    first = dana.last()
    await dana.press("Yes, discharge", first)
    await dana.press_data(first["message_id"], "dc:1:y")  # pressed twice
    assert "already discharged" in dana.last_text()
    await dana.say("/discharge Sam")
    assert "already discharged" in dana.last_text()
    await bot.dispatch()
    assert sum("Dear Sam" in t for t in sam.texts()) == 1  # one goodbye
    await sam.say("/discharge Sam")
    assert "Dear Sam" not in sam.last_text() and "Discharge" not in sam.last_text()
    assert len(await discharges(bot)) == 1


async def test_a_double_tap_on_yes_discharges_once_and_answers_kindly(bot):
    # Two quick taps make two presses of a message that still showed the buttons; the
    # second finds them gone, which must not become an error for the counselor.
    dana = await register_counselor(bot)
    await enroll_participant(bot, dana)
    await dana.say("/discharge Sam")
    message, data = dana.find_button("Yes, discharge")
    with errors_logged() as errors:
        bot.tg.push_callback(dana.user_id, message["message_id"], data)
        bot.tg.push_callback(dana.user_id, message["message_id"], data)
        await bot.settle(bot.tg.last_update_id)
    assert not errors, describe(errors)
    assert "already" in dana.last_text() and "went wrong" not in " ".join(dana.texts())
    assert (await participant_row(bot)).status == "discharged"
