"""Which participant a counselor means: the pure rule as a table, and /history and /discharge
over real HTTP (a name with symbols, a first name, a prefix, and buttons when it is unclear)."""

from __future__ import annotations

import pytest

from messages.lookup import matching
from tests.harness import enroll_participant, register_counselor

PEOPLE = [(3, "Ann <3 & co"), (4, "Annie"), (5, "Sam"), (6, "samuel"), (7, "José")]


@pytest.mark.parametrize(
    ("typed", "ids"),
    [
        ("3", [3]),
        ("#5", [5]),
        ("99", []),
        ("Ann <3 & co", [3]),  # the whole name, symbols and all
        ("ann", [3]),  # the first name, exactly: before a longer name that starts with it
        ("ANNIE", [4]),
        ("an", [3, 4]),  # the start of two names: ambiguous
        ("sam", [5]),
        ("samu", [6]),
        ("jose", [7]),  # accents set aside
        ("", []),
        ("zed", []),
    ],
)
def test_matching(typed, ids):
    assert matching(typed, PEOPLE) == ids


async def test_history_finds_a_name_with_symbols_and_offers_buttons(bot):
    dana = await register_counselor(bot)
    await enroll_participant(bot, dana, 2001, "Ann <3 & co")
    await enroll_participant(bot, dana, 2002, "Annie")
    await dana.say("/history Ann")
    assert dana.last()["kind"] == "photo" and "Ann &lt;3 &amp; co" in dana.last()["text"]
    await dana.say("/history an")  # fits both: a button for each
    assert "More than one participant" in dana.last_text()
    await dana.press("Annie · #2")
    assert dana.last()["kind"] == "photo" and "Annie" in dana.last()["text"]
    await dana.say("/history")  # nothing typed: the whole caseload as buttons
    labels = [b["text"] for row in dana.last()["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Ann <3 & co · #1", "Annie · #2"]


async def test_another_counselors_list_is_not_yours(bot):
    dana = await register_counselor(bot, 1001, "Dana")
    lee = await register_counselor(bot, 1002, "Lee")
    await enroll_participant(bot, dana, 2001, "Sam")
    await dana.say("/discharge")
    message = dana.last()
    await lee.say("/discharge")
    assert "Sam" not in lee.last_text()
    # Lee presses Dana's button (forged onto Lee's chat): the caseload rule still decides.
    await lee.press_data(lee.last()["message_id"], "pk:d:1")
    assert "couldn't find" in lee.last_text()
    await dana.press("Sam · #1", message)
    assert "Sam" in dana.last_text() and dana.last()["reply_markup"]


async def test_discharge_confirmed_in_words(bot):
    dana = await register_counselor(bot)
    await enroll_participant(bot, dana, 2001, "Sam")
    await dana.say("/discharge Sam")
    await dana.say("maybe")
    assert "type one of them" in dana.last_text() and "Yes, discharge" in dana.last_text()
    await dana.say("yes, discharge")
    assert "Sam" in dana.last_text() and "discharged" in dana.last_text().lower()



async def test_discharge_cancelled_in_words(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    await dana.say("/discharge Sam")
    await dana.say("cancel")
    assert "nothing has changed" in dana.last_text()
    await sam.say("/checkin")
    assert "Question 1" in sam.last_text()  # still enrolled


async def test_medication_finds_the_participant_like_history(bot):
    from sqlalchemy import select

    from db.models import Medication

    dana = await register_counselor(bot, 1001, "Dana")
    lee = await register_counselor(bot, 1002, "Lee")
    await enroll_participant(bot, dana, 2001, "Ann <3 & co")
    await enroll_participant(bot, dana, 2002, "Annie")
    await dana.say("/medication Ann <3 & co methadone 08:00")  # a whole name of several words
    assert "Saved for Ann <3 & co: methadone every day at 08:00" in dana.last_text()
    await dana.say("/medication ANNI clonidine 09:00")  # the start of a name, any case
    assert "Saved for Annie: clonidine" in dana.last_text()
    await dana.say("/medication an methadone 08:00")  # fits both: a button for each
    assert "More than one participant" in dana.last_text()
    await dana.press("Annie · #2")
    assert "/medication 2 methadone 08:00" in dana.last_text()  # how to set hers
    await dana.say("/medication")  # nothing typed: the whole caseload as buttons
    labels = [b["text"] for row in dana.last()["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Ann <3 & co · #1", "Annie · #2"]
    await lee.say("/medication Annie methadone 08:00")  # not Lee's to set
    assert "couldn't find" in lee.last_text()
    await lee.press_data(lee.last()["message_id"], "pk:m:2")  # nor by a forged button
    assert "couldn't find" in lee.last_text() and "Annie" not in lee.last_text()
    async with bot.sessionmaker() as session:
        keys = sorted((await session.scalars(select(Medication.key))).all())
    assert keys == ["clonidine", "methadone"]
