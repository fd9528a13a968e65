"""Unit tests of the pure parts of data rights: retention month arithmetic, /deleteme's button
data and request checks, and the export document built from plain rows (no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from db import erasure, export
from db.models import Alert, Answer, CheckIn, Counselor, Note, Participant
from db.records import ParticipantRecords, sender_of
from messages.callback_data import ErasureButton, decode, encode
from scheduler.retention import months_before

SCHEMA = json.loads((Path(__file__).parent / "mydata.schema.json").read_text())
NOW = datetime(2026, 3, 31, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 5, 31, 8, tzinfo=UTC), 3, datetime(2026, 2, 28, 8, tzinfo=UTC)),
        (datetime(2028, 5, 31, 8, tzinfo=UTC), 3, datetime(2028, 2, 29, 8, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 24, datetime(2024, 1, 15, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), 2, datetime(2025, 11, 30, tzinfo=UTC)),
        (datetime(2026, 3, 31, 10, 30, tzinfo=UTC), 1, datetime(2026, 2, 28, 10, 30, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), -1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 7, 4, tzinfo=UTC), 0, datetime(2026, 7, 4, tzinfo=UTC)),
    ],
)
def test_months_before(moment, months, expected):
    assert months_before(moment, months) == expected


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=1, max_value=240),
)
def test_months_before_is_earlier_by_about_that_many_months(moment, months):
    moment = moment.replace(tzinfo=UTC)
    earlier = months_before(moment, months)
    assert earlier < moment
    assert timedelta(days=28 * months - 3) <= moment - earlier <= timedelta(days=31 * months)
    assert earlier.time() == moment.time()


@pytest.mark.parametrize("step", ["a", "b", "x"])
def test_erasure_button_round_trip(step):
    data = ErasureButton(step, "Abc_-123xyz9")
    assert decode(encode(data)) == data


@pytest.mark.parametrize(
    "forged", ["dm:c:Abc_-123xyz9", "dm:a:short", "dm:a:has space12", "dm:a:" + "x" * 25, "dm:a"]
)
def test_erasure_button_refuses_what_we_did_not_make(forged):
    assert decode(forged) is None


def test_a_request_answers_only_its_own_step_nonce_and_window():
    participant = Participant()
    erasure.ask(participant, "first", "nonce-one-12", NOW)
    assert erasure.asked(participant, "first", "nonce-one-12", NOW + timedelta(minutes=15))
    assert not erasure.asked(participant, "final", "nonce-one-12", NOW)  # skipping a step
    assert not erasure.asked(participant, "first", "nonce-two-12", NOW)  # another request's
    assert not erasure.asked(participant, "first", "nonce-one-12", NOW + timedelta(minutes=16))
    erasure.forget_request(participant)
    assert not erasure.asked(participant, "first", "nonce-one-12", NOW)


def test_sender_of_updates():
    assert sender_of({"update_id": 1, "message": {"from": {"id": 5}, "text": "hi"}}) == 5
    assert sender_of({"update_id": 1, "callback_query": {"from": {"id": 6}}}) == 6
    assert sender_of({"update_id": 1}) is None
    assert sender_of({"update_id": 1, "message": {"from": {"id": "5"}}}) is None


def _records(**changes) -> ParticipantRecords:
    ana = Participant(
        id=3, telegram_user_id=42, chat_id=42, first_name="Ana", counselor_id=1,
        status="active", language="en", timezone="America/Chicago", checkin_time="09:00",
        weekly_day=2, quiet_start="22:00", quiet_end="07:00", checkins_started=4,
        last_milestone=0, consent_version="1", consented_at=NOW, created_at=NOW,
        recovery_start=date(2026, 3, 1),
    )  # fmt: skip
    checkin = CheckIn(id=9, participant_id=3, kind="daily", slot_at=NOW, status="completed",
                      responses=["coping"], risk_level="high", completed_at=NOW)  # fmt: skip
    fields = dict(
        participant=ana,
        counselors={1: Counselor(id=1, name="Dana")},
        checkins=[checkin],
        answers=[Answer(checkin_id=9, question_key="craving", value="9", source="typed",
                        answered_at=NOW)],  # fmt: skip
        notes=[Note(id=1, participant_id=3, text="a <b>note</b> & more", created_at=NOW)],
        alerts=[Alert(id=2, participant_id=3, level="high", cause="craving", reasons=["9/10"],
                      status="resolved", created_at=NOW, signals=1, escalations=0,
                      resolved_by=1, resolved_at=NOW, resolution_note="Called her.")],  # fmt: skip
        notifications=[], consents=[], disclosures=[], deliveries={}, meetings=[],
        attendance=[], plan=None, medications=[], doses=[], conversation=None, audit=[],
        updates=[],
    )  # fmt: skip
    return ParticipantRecords(**(fields | changes))


def test_the_document_from_plain_rows_fits_the_schema():
    questions = {"craving": export.QuestionText("How strong?", {"9": "9/10"})}
    document = export.document(_records(), NOW, questions, "Everything.")
    jsonschema.validate(document, SCHEMA)
    assert document["profile"]["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert document["profile"]["weekly_checkin_day"] == "Wednesday"
    [answer] = document["checkins"][0]["answers"]
    assert (answer["question_text"], answer["answer_text"]) == ("How strong?", "9/10")
    assert document["alerts"][0]["resolved_by"] == "Dana"
    assert document["alerts"][0]["resolution_note"] == "Called her."
    assert document["notes"][0]["text"] == "a <b>note</b> & more"  # their words, as written


def test_the_schema_refuses_a_field_it_does_not_know():
    document = export.document(_records(), NOW)
    document["profile"]["password"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)
