"""Medications, the reminders they are due, and the doses participants answer."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import bulk
from db.models import Answer, CheckIn, Medication, MedicationDose, Participant
from db.sql import dialect, insert_ignore

ACTIVE = "active"


async def active(session: AsyncSession, participant_id: int) -> list[Medication]:
    rows = await session.scalars(
        select(Medication)
        .where(Medication.participant_id == participant_id, Medication.status == ACTIVE)
        .order_by(Medication.id)
    )
    return list(rows.all())


async def on_daily_medication(session: AsyncSession, participant_ids: list[int]) -> set[int]:
    """Which of these participants take a daily medication (their check-in asks about it)."""
    if not participant_ids:
        return set()
    rows = await session.scalars(
        select(Medication.participant_id).where(
            Medication.participant_id.in_(bulk.ids_in(bulk.dialect_of(session), participant_ids)),
            Medication.status == ACTIVE,
            Medication.kind == "daily",
        )
    )
    return set(rows.all())


def add(
    session: AsyncSession,
    participant_id: int,
    key: str,
    name: str,
    kind: str,
    now: datetime,
    added_by: str,
    dose_times: list[str] | None = None,
    injection_on: date | None = None,
    reminders: bool = True,
) -> Medication:
    medication = Medication(
        participant_id=participant_id,
        key=key,
        name=name,
        kind=kind,
        dose_times=list(dose_times or []),
        next_injection_on=injection_on,
        reminders=reminders,
        status=ACTIVE,
        added_by=added_by,
        created_at=now,
        updated_at=now,
    )
    session.add(medication)
    return medication


def stop(medication: Medication, now: datetime) -> None:
    medication.status = "stopped"
    medication.stopped_at = medication.updated_at = now
    medication.next_due_at = None


async def due(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[Medication, Participant]]:
    """Reminders due now, for active participants only. On PostgreSQL the medication rows are
    locked (skipping those another worker holds), so each reminder is made once."""
    statement = (
        select(Medication, Participant)
        .join(Participant, Participant.id == Medication.participant_id)
        .where(
            Medication.status == ACTIVE,
            Medication.reminders,
            Medication.next_due_at <= now,
            Participant.status == "active",
        )
        .order_by(Medication.next_due_at)
        .limit(limit)
    )
    if dialect(session) == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=Medication)
    return [(m, p) for m, p in (await session.execute(statement)).all()]


async def create_dose(
    session: AsyncSession, medication: Medication, due_at: datetime, now: datetime
) -> int | None:
    """A dose for this medication and time, or None if one exists (another tick made it)."""
    return await insert_ignore(
        session,
        MedicationDose,
        dict(participant_id=medication.participant_id, medication_id=medication.id,
             due_at=due_at, created_at=now),
        conflict=["medication_id", "due_at"],
    )  # fmt: skip


def answer_dose(dose: MedicationDose, answer: str, now: datetime) -> None:
    dose.answer, dose.answered_at = answer, now


async def skipped_since(
    session: AsyncSession,
    participant_id: int,
    since: datetime,
    question_key: str,
    skipped_value: str,
) -> list[datetime]:
    """When doses were skipped: a reminder's "skipped today" (its due time) or the check-in's
    skipped answer (its slot)."""
    doses = await session.scalars(
        select(MedicationDose.due_at).where(
            MedicationDose.participant_id == participant_id,
            MedicationDose.answer == "skipped",
            MedicationDose.due_at >= since,
        )
    )
    answers = await session.scalars(
        select(CheckIn.slot_at)
        .join(Answer, Answer.checkin_id == CheckIn.id)
        .where(
            CheckIn.participant_id == participant_id,
            CheckIn.slot_at >= since,
            Answer.question_key == question_key,
            Answer.value == skipped_value,
        )
    )
    return [*doses.all(), *answers.all()]
