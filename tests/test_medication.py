"""Medication over real HTTP: the /medication set-up, reminders at local time (across DST)
through the outbox, one-tap answers, the check-in's adherence question, skipped days and
stopping through the alert path, injections, and a counselor's set-up at enrollment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from db.models import Alert, CheckIn, Medication, MedicationDose, OutboxMessage, Participant
from tests.harness import enroll_participant, invite_link, participant_row, register_counselor

NEW_YORK = ZoneInfo("America/New_York")
REMINDER = "💊"


async def setup(bot, **kwargs):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, **kwargs)
    return dana, sam


async def add_methadone(sam, at: str = "08:00", remind: str = "Yes, remind me") -> None:
    await sam.say("/medication")
    assert "medication for your recovery" in sam.last_text()
    await sam.press("Methadone")
    assert "When do you take your methadone" in sam.last_text()
    await sam.press(at)
    assert f"reminder at {at}" in sam.last_text()
    await sam.press(remind)
    assert "Saved: your methadone every day at" in sam.last_text()


async def medications(bot) -> list[Medication]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(Medication).order_by(Medication.id))).all())


async def doses(bot) -> list[MedicationDose]:
    async with bot.sessionmaker() as session:
        rows = await session.scalars(select(MedicationDose).order_by(MedicationDose.id))
        return list(rows.all())


async def alerts(bot) -> list[Alert]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(Alert).order_by(Alert.id))).all())


async def to_next_reminder(bot, clock) -> None:
    """Move the clock to the medication's next reminder and run the tick."""
    [medication] = [m for m in await medications(bot) if m.status == "active"]
    clock.set(medication.next_due_at)
    await bot.tick()


def reminders(person) -> list[dict]:
    return [m for m in person.messages() if REMINDER in (m.get("text") or "")]


async def test_reminder_at_local_time_across_dst_and_one_tap_taken(bot, clock):
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))  # spring forward is Sunday 8 March
    _, sam = await setup(bot, at="09:00")
    await add_methadone(sam, at="08:00")
    sent_at = []
    for _ in range(4):
        await to_next_reminder(bot, clock)
        sent_at.append(clock().astimezone(NEW_YORK).strftime("%a %H:%M %Z"))
        assert "It's 08:00: time for your methadone" in sam.last_text()
    assert sent_at == ["Fri 08:00 EST", "Sat 08:00 EST", "Sun 08:00 EDT", "Mon 08:00 EDT"]
    assert len(reminders(sam)) == 4
    async with bot.sessionmaker() as session:
        queued = (await session.scalars(select(OutboxMessage.priority))).all()
    assert set(queued) == {3}  # the reminder class

    last = reminders(sam)[-1]
    await sam.press("Taken ✓", last)
    assert "methadone taken" in sam.texts()[-1]  # the reminder, edited in place
    assert sam.messages()[-1]["message_id"] == last["message_id"]
    assert [d.answer for d in await doses(bot)] == [None, None, None, "taken"]


async def test_not_yet_keeps_the_buttons_and_taken_later_counts(bot, clock):
    _, sam = await setup(bot)
    await add_methadone(sam)
    await to_next_reminder(bot, clock)
    reminder = reminders(sam)[-1]
    await sam.press("Not yet", reminder)
    assert sam.last_callback_answer["text"] == "Okay. Tap Taken when you've had it."
    assert (await doses(bot))[0].answer == "not_yet"
    clock.advance(hours=1)
    await sam.press("Taken ✓", reminder)
    assert (await doses(bot))[0].answer == "taken"


async def test_two_skipped_days_in_a_row_is_a_watch_alert(bot, clock):
    dana, sam = await setup(bot)
    await add_methadone(sam)
    await to_next_reminder(bot, clock)
    await sam.press("Skipped today", reminders(sam)[-1])
    assert "Thanks for being honest" in sam.last_text()
    assert await alerts(bot) == []  # one day is not a pattern
    await to_next_reminder(bot, clock)
    await sam.press("Skipped today", reminders(sam)[-1])
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("watch", "medication")
    assert alert.reasons == ["Skipped their medication 2 days in a row"]
    await bot.dispatch()
    assert "Watch alert: Sam" in dana.last_text()
    assert "Skipped their medication 2 days in a row" in dana.last_text()


async def test_skipped_in_the_check_in_counts_too(bot, clock):
    _, sam = await setup(bot)
    await add_methadone(sam, remind="No reminders")
    for _ in range(2):
        clock.advance(days=1)
        await sam.say("/checkin")
        await sam.press("4")
        await sam.press("2")
        await sam.press("No")
        assert "taken your medication as planned" in sam.last_text()
        await sam.press("Skipped a dose")
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("watch", "medication")


async def test_check_in_asks_about_medication_only_when_on_one(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    lee = await enroll_participant(bot, dana, 2002, "Lee")
    await add_methadone(sam)
    for person in (sam, lee):
        await person.say("/checkin")
        await person.press("4")
        await person.press("2")
        await person.press("No")
    assert "taken your medication as planned" in sam.last_text()
    assert "taken your medication" not in lee.last_text()
    # The scheduled check-in too.
    clock.set((await participant_row(bot, 2001)).next_checkin_at)
    await bot.tick()
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(Participant.first_name, CheckIn.kind, CheckIn.question_keys)
            .join(CheckIn, CheckIn.participant_id == Participant.id)
            .order_by(CheckIn.id)
        )
        asked = {(name, kind): "medication" in keys for name, kind, keys in rows}
    assert asked == {
        ("Sam", "on_demand"): True, ("Lee", "on_demand"): False,
        ("Sam", "daily"): True, ("Lee", "daily"): False,
    }  # fmt: skip


async def test_stopping_is_high_with_an_overdose_note_and_reminders_end(bot, clock):
    dana, sam = await setup(bot)
    await add_methadone(sam)
    await sam.say("/checkin")
    await sam.press("4")
    await sam.press("2")
    await sam.press("No")
    replies = await sam.press("I stopped taking it")
    note = next(r["text"] for r in replies if "tolerance drops" in r["text"])
    assert "1-800-484-3731" in note and "naloxone" in note and "counselor has been told" in note
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("high", "medication")
    assert "Said they stopped taking methadone: their overdose risk is higher now" in alert.reasons
    await bot.dispatch()
    assert "High alert: Sam" in dana.last_text() and "stopped taking methadone" in dana.last_text()
    [medication] = await medications(bot)
    assert medication.status == "stopped" and medication.next_due_at is None
    clock.advance(days=2)
    await bot.tick()
    assert reminders(sam) == []
    await sam.say("/medication")  # nothing active: the set-up again
    assert "medication for your recovery" in sam.last_text()


async def test_stopped_from_medication_also_alerts(bot):
    _, sam = await setup(bot)
    await add_methadone(sam)
    await sam.say("/medication")
    assert "methadone: every day at 08:00, with reminders" in sam.last_text()
    replies = await sam.press("methadone: I stopped taking it")
    assert any("tolerance drops" in r["text"] for r in replies)
    [alert] = await alerts(bot)
    assert (alert.level, alert.cause) == ("high", "medication")


async def test_reminders_off_and_a_new_time(bot, clock):
    _, sam = await setup(bot)
    await add_methadone(sam)
    await sam.say("/medication")
    await sam.press("methadone: reminders off")
    assert "Reminders for your methadone are off" in sam.last_text()
    clock.advance(days=1)
    await bot.tick()
    assert reminders(sam) == []
    await sam.say("/medication")
    await sam.press("methadone: reminders on")
    await sam.say("/medication")
    await sam.press("methadone: change time")
    await sam.say("7:30, 19:30")
    assert "every day at 07:30 and 19:30, with reminders" in sam.last_text()
    [medication] = await medications(bot)
    assert medication.dose_times == ["07:30", "19:30"]
    local = medication.next_due_at.astimezone(NEW_YORK)
    assert local.strftime("%H:%M") in ("07:30", "19:30")


async def test_injection_gets_appointment_reminders_with_the_date(bot, clock):
    _, sam = await setup(bot)  # Monday 5 January 2026
    await sam.say("/medication")
    await sam.press("Naltrexone shot (Vivitrol)")
    assert "When is your next naltrexone (Vivitrol) injection" in sam.last_text()
    await sam.say("next tuesday")
    assert "couldn't read" in sam.last_text()
    await sam.say("Jan 20")
    assert "the day before and on the day" in sam.last_text()
    await sam.press("Yes, remind me")
    assert "next naltrexone (Vivitrol) injection is on Tue 20 Jan" in sam.last_text()

    sent = []
    for _ in range(3):
        [medication] = await medications(bot)
        clock.set(medication.next_due_at)
        await bot.tick()
        sent.append((clock().astimezone(NEW_YORK).strftime("%a %d %b %H:%M"), sam.last_text()))
    assert sent[0][0] == "Mon 19 Jan 10:00" and "coming up on Tue 20 Jan" in sent[0][1]
    assert sent[1][0] == "Tue 20 Jan 10:00" and "due today, Tue 20 Jan" in sent[1][1]
    assert "on Tue 17 Feb" in sent[1][1]  # 28 days on
    assert sent[2][0] == "Mon 16 Feb 10:00"
    assert (await medications(bot))[0].next_injection_on.isoformat() == "2026-02-17"


async def test_only_active_participants_get_reminders_and_late_ones_are_skipped(bot, clock):
    _, sam = await setup(bot)
    await add_methadone(sam)
    [medication] = await medications(bot)
    due = medication.next_due_at
    async with bot.sessionmaker.begin() as session:
        await session.execute(update(Participant).values(status="paused"))
    clock.set(due)
    await bot.tick()
    assert reminders(sam) == []
    async with bot.sessionmaker.begin() as session:
        await session.execute(update(Participant).values(status="active"))
    clock.set(due + timedelta(hours=3))  # back after the dose: too late to remind
    await bot.tick()
    assert reminders(sam) == []
    assert (await medications(bot))[0].next_due_at == due + timedelta(days=1)
    await to_next_reminder(bot, clock)
    assert len(reminders(sam)) == 1


async def test_dose_buttons_are_for_their_owner_and_close_after_a_day(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    lee = await enroll_participant(bot, dana, 2002, "Lee")
    await add_methadone(sam)
    await to_next_reminder(bot, clock)
    [dose] = await doses(bot)
    await lee.press_data(lee.last()["message_id"], f"dz:{dose.id}:s")
    assert lee.last_callback_answer["text"] == "This button isn't for you."
    clock.advance(hours=25)
    await sam.press("Skipped today", reminders(sam)[-1])
    assert sam.last_callback_answer["text"] == "That reminder has closed."
    assert (await doses(bot))[0].answer is None


async def test_typed_name_bad_times_and_a_restart_mid_set_up(bot):
    _, sam = await setup(bot)
    await sam.say("/medication")
    await sam.say("honestly I would rather talk about my week first, it was busy")
    assert "saved what you wrote" in sam.last_text() and "name in a few words" in sam.last_text()
    await sam.say("Lofexidine")
    assert "When do you take your Lofexidine" in sam.last_text()
    await bot.restart()
    await sam.say("/medication")  # asks the step it stands at again
    assert "When do you take your Lofexidine" in sam.last_text()
    await sam.say("after breakfast")
    assert 'couldn\'t read "after breakfast" as times' in sam.last_text()
    await sam.say("8:15")
    await sam.say("yes")
    assert "Saved: your Lofexidine every day at 08:15, with reminders" in sam.last_text()
    [medication] = await medications(bot)
    assert (medication.key, medication.kind, medication.added_by) == ("other", "daily",
                                                                      "participant")  # fmt: skip


async def test_counselor_sets_medication_during_enrollment(bot, clock):
    dana = await register_counselor(bot)
    lee = await register_counselor(bot, 1002, "Lee")
    link = await invite_link(dana, "Sam")
    sam = bot.person(2001, "Sam")
    await sam.say("/start " + link.rsplit("=", 1)[1])  # opened the link: still enrolling

    await dana.say("/medication")
    assert "/medication Sam methadone 08:00" in dana.last_text()
    await dana.say("/medication Sam buprenorphine at eight")
    assert "dose time(s) on a 24-hour clock" in dana.last_text()
    await lee.say("/medication Sam methadone 08:00")
    assert "couldn't find" in lee.last_text()
    await dana.say("/medication Sam buprenorphine 08:00 20:00")
    assert "Saved for Sam: buprenorphine every day at 08:00 and 20:00" in dana.last_text()
    [medication] = await medications(bot)
    assert medication.next_due_at is None  # no time zone yet
    assert not any("counselor added" in t for t in sam.texts())  # not before consent

    await sam.press("Yes, I agree")
    await sam.say("America/Chicago")
    await sam.say("09:00")
    await sam.press("Wed")
    assert "Your counselor added your medication: buprenorphine every day" in sam.last_text()
    [medication] = await medications(bot)
    local = medication.next_due_at.astimezone(ZoneInfo("America/Chicago"))
    assert local.strftime("%H:%M") == "20:00"  # 14:00 UTC is 08:00 in Chicago: 20:00 is next
    assert medication.added_by == "counselor:1"


async def test_setting_up_the_same_medication_again_changes_it(bot):
    _, sam = await setup(bot)
    await add_methadone(sam, at="08:00")
    await sam.say("/medication")
    await sam.press("Add a medication")
    await sam.press("Methadone")
    await sam.press("09:00")
    await sam.press("Yes, remind me")
    [medication] = await medications(bot)
    assert medication.dose_times == ["09:00"]


async def test_no_reminder_during_quiet_hours(bot, clock):
    _, sam = await setup(bot)
    await add_methadone(sam, at="08:00")
    await sam.say("/settings")
    await sam.press("Quiet hours")
    await sam.say("07:30-08:30")
    assert "quiet hours are 07:30–08:30" in sam.last_text()
    await to_next_reminder(bot, clock)
    assert reminders(sam) == []  # they asked for no reminders then
    [dose] = await doses(bot)  # the dose is still there to answer (e.g. in the check-in)
    assert dose.answer is None


async def test_a_new_time_zone_moves_the_dose_reminder(bot, clock):
    _, sam = await setup(bot)
    await add_methadone(sam, at="08:00")
    await sam.say("/settings")
    await sam.press("Time zone")
    await sam.say("America/Los_Angeles")
    await to_next_reminder(bot, clock)
    assert clock().astimezone(ZoneInfo("America/Los_Angeles")).strftime("%H:%M") == "08:00"
    assert len(reminders(sam)) == 1
