"""/mydata over real HTTP: the participant gets a JSON file (sendDocument) with everything stored
about them, valid against the hand-written schema in tests/mydata.schema.json, and the export is
audited. Counselors and strangers get no file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from db.models import AuditEvent
from tests.full_record import NAME, NOTE, RESOLUTION, TELEGRAM_ID, live_a_full_record
from tests.harness import enroll_participant, invite_link, register_counselor

SCHEMA = json.loads((Path(__file__).parent / "mydata.schema.json").read_text())


def exported(person) -> dict:
    """The JSON file the bot last sent this person."""
    sent = person.last()
    assert sent["kind"] == "document", sent
    assert sent["document"]["file_name"].endswith(".json")
    return json.loads(sent["document"]["content"].decode())


def test_the_schema_is_itself_valid_and_strict():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["additionalProperties"] is False
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"format": "aftercare-mydata"}, SCHEMA)


async def test_mydata_holds_everything_stored_about_them(bot, clock):
    cast = await live_a_full_record(bot, clock)
    zeph = cast.participant
    await zeph.say("/mydata")
    assert "everything I keep about you, Zephyrine" in zeph.last_text()
    assert "Keep it private" in zeph.last_text()
    document = exported(zeph)
    jsonschema.validate(document, SCHEMA)

    profile = document["profile"]
    assert (profile["first_name"], profile["telegram_user_id"]) == (NAME, TELEGRAM_ID)
    assert profile["counselor"] == {"number": 1, "name": "Dana"}
    assert document["consents"]["enrollment"]["version"] == "1"
    [contact] = document["consents"]["support_contacts"]
    assert (contact["contact_name"], contact["status"]) == ("Rosa", "accepted")

    answers = {a["question"]: a for c in document["checkins"] for a in c["answers"]}
    assert answers["craving"]["answer"] == "9" and answers["craving"]["how"] == "typed"
    assert answers["use"]["answer_text"] == "Yes"
    assert answers["mood"]["question_text"] == "How is your mood today?"
    assert [n["text"] for n in document["notes"]] == [NOTE]

    alerts = {a["cause"]: a for a in document["alerts"]}
    assert set(alerts) == {"craving", "lapse", "sos"}
    # Counselors' resolution notes are part of their record (README: Privacy and data).
    assert alerts["lapse"]["resolution_note"] == RESOLUTION
    assert alerts["lapse"]["acknowledged_by"] == "Dana"
    assert alerts["sos"]["level"] == "crisis" and alerts["sos"]["status"] == "open"
    [told] = alerts["sos"]["notifications"]
    assert (told["to"], told["counselor"], told["delivery"]) == ("counselor", "Dana", "sent")

    [meeting] = document["meetings"]
    assert meeting["name"] == "Tuesday Hope Group" and meeting["from_program_list"]
    assert [a["answer"] for a in meeting["attendance"]] == ["yes"]
    assert document["plan"]["people"] == [{"name": "Maria", "contact": "555-123-4567"}]
    [methadone] = document["medications"]
    assert [d["answer"] for d in methadone["doses"]] == ["taken"]
    assert methadone["added_by"] == {"role": "you", "name": None}

    # The disclosure log: what the contact was told, when, for which alert.
    disclosed = document["disclosures"]
    assert {d["alert_level"] for d in disclosed} == {"high", "crisis"}
    assert all(d["to"] == "Rosa" and d["delivery"] == "sent" for d in disclosed)
    assert "first_name" in disclosed[0]["what"]
    actions = [(e["action"], e["by"]["role"]) for e in document["activity_log"]]
    assert ("history_viewed", "counselor") in actions
    assert ("disclosed_to_contact", "bot") in actions

    # Their raw updates are theirs; nobody else's are in it, nor the contact's Telegram id.
    senders = {u["payload"].get("message", u["payload"].get("callback_query"))["from"]["id"]
               for u in document["telegram_updates"]}  # fmt: skip
    assert senders == {TELEGRAM_ID}
    text = json.dumps(document)
    # As a whole number: update ids start at random and may contain its digits (214001).
    assert not re.search(rf"\b{cast.rosa.user_id}\b", text)
    assert "Sam" not in text  # another participant of the same counselor

    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent.actor, AuditEvent.subject, AuditEvent.details).where(
                AuditEvent.action == "data_exported"
            )
        )
        assert [tuple(r) for r in rows] == [("participant:2", "participant:2", None)]


async def test_mydata_while_enrolling_and_for_others(bot):
    dana = await register_counselor(bot)
    link = await invite_link(dana, "Ana")
    ana = bot.person(2001, "Ana")
    await ana.say("/start " + link.rsplit("=", 1)[1])
    await ana.say("/mydata")  # before consent: what is stored so far
    document = exported(ana)
    jsonschema.validate(document, SCHEMA)
    assert document["profile"]["status"] == "enrolling"
    assert document["consents"]["enrollment"] is None and document["checkins"] == []

    await dana.say("/mydata")
    assert dana.last()["kind"] == "text" and "Counselor commands" in dana.last_text()
    stranger = bot.person(9999, "Lee")
    await stranger.say("/mydata")
    assert stranger.last()["kind"] == "text" and "personal link" in stranger.last_text()


async def test_mydata_is_in_help(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await sam.say("/help")
    assert "/mydata" in sam.last_text() and "/deleteme" in sam.last_text()
