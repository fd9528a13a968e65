"""A participant who has used every feature that stores data, for the /mydata and /deleteme
tests: a check-in with answers (craving 9 and a lapse: alerts, one acknowledged and resolved
with a note that names them), a note, a support contact who was told, a pause, /sos (a crisis
alert left open), a meeting with attendance, a plan, a medication with a dose, and the
counselor's /history and /caseload. Their name and Telegram id are distinctive, so a search of
the database for either means something."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tests.harness import BotHarness, Person, check_in, enroll_participant, register_counselor
from tests.test_contacts import add_contact
from tests.test_medication import add_methadone
from tests.test_meetings import add_hope_group, with_program_list
from tests.test_plan import make_plan

NAME = "Zephyrine"
TELEGRAM_ID = 777000123
NOTE = "Rough day at work today, but I talked to my sponsor after."
RESOLUTION = f"Called {NAME}; she is safe and coming in on Thursday."
NEW_YORK = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK).astimezone(UTC)


@dataclass
class Cast:
    dana: Person  # their counselor
    participant: Person
    rosa: Person  # their support contact
    other: Person  # another participant, whose data must survive a deletion


async def live_a_full_record(bot: BotHarness, clock) -> Cast:
    dana = await register_counselor(bot, 1001, "Dana")
    other = await enroll_participant(bot, dana, 2002, "Sam")
    zeph = await enroll_participant(bot, dana, TELEGRAM_ID, NAME)
    rosa = await add_contact(bot, zeph)
    await rosa.press("Yes, I'll be there")

    await check_in(zeph, mood="3", craving="9", use="Yes")  # high alerts; Rosa is told
    await check_in(other, mood="4", craving="2")
    await zeph.say(NOTE)
    await bot.dispatch()
    # The lapse alert's message, by its reason: the two alerts may arrive in either order.
    lapse = next(m for m in dana.messages() if "Used since last check-in" in (m.get("text") or ""))
    await dana.press("Acknowledge", lapse)
    await dana.press("Resolve", lapse)
    await dana.say(RESOLUTION)
    assert "Resolved" in dana.last_text()

    await make_plan(zeph)
    await add_methadone(zeph, at="08:00")
    await zeph.say("/pause 2")
    await zeph.say("/resume")
    await dana.say(f"/history {NAME}")
    await dana.say("/caseload")
    await zeph.say("/sos")  # a crisis alert nobody has acknowledged yet
    await bot.dispatch()

    await with_program_list(bot)
    await add_hope_group(zeph)
    clock.set(ny(2026, 1, 6, 8, 0))  # Tuesday: the methadone reminder
    await bot.tick()
    await zeph.press("Taken ✓")
    clock.set(ny(2026, 1, 6, 18, 0))  # the meeting's reminder, then "did you make it?"
    await bot.meeting_tick()
    clock.set(ny(2026, 1, 6, 20, 0))
    await bot.meeting_tick()
    await zeph.press("Yes, I went")
    await bot.dispatch()
    return Cast(dana, zeph, rosa, other)
