"""/deleteme over real HTTP: two confirmations, pressed by the participant, on their newest
buttons; then one transaction deletes their data, releases their support contact, tells their
counselor by number only, and leaves an anonymous tombstone. Afterwards no column of any table
holds their name or Telegram id."""

from __future__ import annotations

from sqlalchemy import Text, cast, func, select

from db import export, people, records
from db.models import (
    Alert,
    AlertNotification,
    AuditEvent,
    Base,
    CheckIn,
    Consent,
    Disclosure,
    Note,
    OutboxMessage,
    Participant,
)
from tests.full_record import NAME, TELEGRAM_ID, live_a_full_record
from tests.harness import enroll_participant, participant_row, register_counselor

QUENBY = 777000456  # a distinctive id (and name) for the shorter tests


async def rows_holding(bot, *needles: str) -> list[tuple[str, str, str]]:
    """(table, column, value) for every stored value, in every column of every table, whose
    text (as the database casts it) contains one of the needles, case-insensitively."""
    found = []
    async with bot.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            columns = list(table.columns)
            rows = await session.execute(select(*(cast(c, Text) for c in columns)))
            for row in rows:
                for column, value in zip(columns, row, strict=True):
                    text = (value or "").casefold()
                    if any(needle.casefold() in text for needle in needles):
                        found.append((table.name, column.name, value))
    return found


async def document_of(bot, telegram_id: int) -> dict:
    """Everything stored about a participant, as /mydata shows it."""
    async with bot.sessionmaker() as session:
        participant = await people.participant_by_telegram(session, telegram_id)
        return export.document(await records.load(session, participant), bot.clock())


async def count(bot, model, *where) -> int:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def delete_with_two_taps(person) -> None:
    await person.say("/deleteme")
    await person.press("Delete my data…")
    await person.press("Yes, delete everything")


async def test_deleteme_leaves_no_trace_of_their_name_or_telegram_id(bot, clock):
    cast_ = await live_a_full_record(bot, clock)
    zeph, dana, rosa, sam = cast_.participant, cast_.dana, cast_.rosa, cast_.other
    assert await rows_holding(bot, NAME, str(TELEGRAM_ID))  # the scan finds them before
    sam_before = await document_of(bot, sam.user_id)

    await zeph.say("/deleteme")
    explained = zeph.last_text()
    assert "Delete your data?" in explained and "can't be undone" in explained
    assert "/mydata" in explained
    await zeph.press("Delete my data…")
    assert "Are you sure?" in zeph.last_text()
    assert (await participant_row(bot, TELEGRAM_ID)).status == "active"  # not yet
    await zeph.press("Yes, delete everything")
    assert "Your data is deleted" in zeph.last_text() and "988" in zeph.last_text()
    await bot.dispatch()

    # The counselor hears, by number only, that they left and their open alert closed.
    told = dana.last_text()
    assert "Participant #2 has left aftercare and deleted their data" in told
    assert "Open alerts about them, now closed: 2" in told
    # The contact hears, without the name, that it has ended.
    assert "won't get any more messages about them" in rosa.last_text()
    assert NAME not in rosa.last_text()

    assert await rows_holding(bot, NAME, str(TELEGRAM_ID)) == []

    # What stays: an anonymous tombstone, the alerts and their chain, the disclosure log, the
    # revoked consent, and the audit log, which records the deletion.
    async with bot.sessionmaker() as session:
        tombstone = await session.get(Participant, 2)
        alerts = (await session.scalars(select(Alert).where(Alert.participant_id == 2))).all()
        consent = await session.scalar(select(Consent))
        deleted = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "participant_deleted")
        )
    assert (tombstone.status, tombstone.first_name, tombstone.telegram_user_id) == (
        "deleted", None, None,
    )  # fmt: skip
    assert tombstone.chat_id is None and tombstone.deleted_at == clock()
    assert tombstone.counselor_id == 1 and tombstone.timezone is None
    assert sorted(a.status for a in alerts) == ["closed", "closed", "resolved"]
    assert all(a.reasons == [] and a.resolution_note is None for a in alerts)
    assert await count(bot, AlertNotification) >= 3
    chain = await count(bot, OutboxMessage, OutboxMessage.about_participant_id == 2)
    assert chain == await count(bot, AlertNotification)  # kept, their text emptied
    assert await count(bot, Disclosure) == 3
    assert await count(bot, Disclosure, Disclosure.recipient_telegram_id.is_not(None)) == 0
    assert (consent.status, consent.revoked_by, consent.recipient_name) == (
        "revoked", "participant", None,
    )  # fmt: skip
    assert (deleted.actor, deleted.subject) == ("participant:2", "participant:2")
    assert deleted.details["alerts_closed"] == 2
    assert await count(bot, Note, Note.participant_id == 2) == 0
    assert await count(bot, CheckIn, CheckIn.participant_id == 2) == 0

    # Everyone else's data is untouched.
    assert await document_of(bot, sam.user_id) == sam_before
    await sam.say("/checkin")
    assert "Let's check in, Sam" in sam.last_text()

    # They are a stranger now; their old buttons and the counselor's do nothing.
    await zeph.say("/checkin")
    assert "personal link from your counselor" in zeph.last_text()
    await dana.press("Acknowledge")
    gone = "This participant left aftercare and deleted their data."
    assert dana.last_callback_answer["text"] == gone
    clock.advance(hours=2)
    assert await bot.escalate() == 0  # their closed alerts never escalate
    # Those two updates (a stranger's message, a press on a message that quotes the old name)
    # are kept like any other, until the retention sweep removes raw updates.
    assert {table for table, _, _ in await rows_holding(bot, NAME)} == {"inbound_updates"}
    clock.advance(days=bot.settings.message_retention_days)
    await bot.purge()
    assert await rows_holding(bot, NAME, str(TELEGRAM_ID)) == []


async def setup(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, QUENBY, "Quenby")
    return dana, sam


async def test_keep_my_data_at_either_step_changes_nothing(bot):
    dana, sam = await setup(bot)
    await sam.say("/deleteme")
    await sam.press("Keep my data")
    assert sam.last_text() == "Okay, nothing has been deleted."
    await sam.say("/deleteme")
    await sam.press("Delete my data…")
    await sam.press("Keep my data")
    assert sam.last_text() == "Okay, nothing has been deleted."
    assert (await participant_row(bot, QUENBY)).status == "active"
    await bot.dispatch()
    assert not any("left aftercare" in t for t in dana.texts())


async def test_stale_forged_and_repeated_presses_do_nothing(bot, clock):
    dana, sam = await setup(bot)
    await sam.say("/deleteme")
    first = sam.last()
    await sam.press("Delete my data…")
    final = sam.last()

    # The first question's button again, after it was answered: stale.
    replies = await sam.press("Delete my data…", first)
    assert replies == [] and "no longer active" in sam.last_callback_answer["text"]
    # A forged final press (a made-up nonce), and the final step skipped with the first nonce.
    _, first_data = sam.find_button("Delete my data…", first)
    nonce = first_data.split(":")[2]
    for forged in ("dm:b:AAAAAAAAAAAA", f"dm:b:{nonce}", "dm:z:AAAAAAAAAAAA", "dm:b:"):
        assert await sam.press_data(final["message_id"], forged) == []
    # Someone else pressing the real final button (forged into their own chat).
    _, final_data = sam.find_button("Yes, delete everything", final)
    dana_chat_message = dana.last()["message_id"]
    assert await dana.press_data(dana_chat_message, final_data) == []
    assert (await participant_row(bot, QUENBY)).status == "active"

    # A new /deleteme makes the earlier buttons stale.
    await sam.say("/deleteme")
    assert await sam.press("Yes, delete everything", final) == []
    assert (await participant_row(bot, QUENBY)).status == "active"

    # And buttons expire after 15 minutes.
    await sam.press("Delete my data…")
    clock.advance(minutes=16)
    assert await sam.press("Yes, delete everything") == []
    assert (await participant_row(bot, QUENBY)).status == "active"

    # The real thing, then the same button again: nothing more happens.
    await sam.say("/deleteme")
    await sam.press("Delete my data…")
    final, data = sam.find_button("Yes, delete everything")
    await sam.press_data(final["message_id"], data)
    assert "Your data is deleted" in sam.last_text()
    assert sam.messages()[-2]["reply_markup"] is None  # the buttons are gone
    assert await sam.press_data(final["message_id"], data) == []
    assert await count(bot, AuditEvent, AuditEvent.action == "participant_deleted") == 1


async def test_an_enrolling_participant_can_delete_and_others_cannot(bot):
    dana = await register_counselor(bot)
    await dana.say("/invite Quenby")
    link = next(w for w in dana.last_text().split() if "?start=" in w)
    ana = bot.person(QUENBY, "Quenby")
    await ana.say("/start " + link.rsplit("=", 1)[1])
    await delete_with_two_taps(ana)
    assert "Your data is deleted" in ana.last_text()
    assert await rows_holding(bot, "Quenby", str(QUENBY)) == []
    # The link worked once and stays used.
    await ana.say("/start " + link.rsplit("=", 1)[1])
    assert "doesn't work any more" in ana.last_text()

    await dana.say("/deleteme")
    assert "Counselor commands" in dana.last_text()
    stranger = bot.person(9999, "Lee")
    await stranger.say("/deleteme")
    assert "personal link" in stranger.last_text()


async def test_a_pending_contact_link_stops_working(bot):
    dana, sam = await setup(bot)
    await sam.say("/contact")
    await sam.press("When things look hard")
    link = next(w for w in sam.last_text().split() if "?start=" in w)
    await delete_with_two_taps(sam)
    rosa = bot.person(4001, "Rosa")
    await rosa.say("/start " + link.rsplit("=", 1)[1])
    assert "doesn't work any more" in rosa.last_text()
    async with bot.sessionmaker() as session:
        consent = await session.scalar(select(Consent))
    assert consent.status == "revoked"


async def test_a_discharged_participant_can_still_delete(bot, clock):
    dana, sam = await setup(bot)
    await dana.say("/discharge Quenby")
    await dana.press("Yes, discharge")
    clock.advance(days=3)
    await delete_with_two_taps(sam)
    assert "Your data is deleted" in sam.last_text()
    await bot.dispatch()
    assert "Participant #1 has left aftercare" in dana.last_text()
    assert await rows_holding(bot, "Quenby", str(QUENBY)) == []
