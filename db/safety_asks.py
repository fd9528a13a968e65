"""The direct safety question's records: asked, answered, or unanswered past its time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Note, SafetyAsk

# An answer typed this long after the question still answers it; later text is just text.
ANSWERABLE = timedelta(hours=24)


async def ask(
    session: AsyncSession, participant_id: int, note: Note, why: str, now: datetime
) -> SafetyAsk:
    if note.id is None:
        await session.flush()  # the note's id, for the question's row
    row = SafetyAsk(participant_id=participant_id, note_id=note.id, why=why[:300], created_at=now)
    session.add(row)
    await session.flush()
    return row


async def pending(session: AsyncSession, participant_id: int, now: datetime) -> SafetyAsk | None:
    """Their newest unanswered question, if it is recent enough to answer."""
    return await session.scalar(
        select(SafetyAsk)
        .where(
            SafetyAsk.participant_id == participant_id,
            SafetyAsk.answered_at.is_(None),
            SafetyAsk.created_at > now - ANSWERABLE,
        )
        .order_by(SafetyAsk.id.desc())
        .limit(1)
    )


async def of_participant(
    session: AsyncSession, ask_id: int, participant_id: int
) -> SafetyAsk | None:
    """The question behind a button, only if it was asked of the one pressing it."""
    row = await session.get(SafetyAsk, ask_id)
    return row if row is not None and row.participant_id == participant_id else None


def answer(row: SafetyAsk, answer: str, now: datetime) -> None:
    row.answer, row.answered_at = answer, now


async def close_all(session: AsyncSession, participant_id: int, answer: str, now: datetime) -> None:
    """/sos and the help button answer every open question: help is on its way."""
    rows = await session.scalars(
        select(SafetyAsk).where(
            SafetyAsk.participant_id == participant_id, SafetyAsk.answered_at.is_(None)
        )
    )
    for row in rows:
        row.answer, row.answered_at = answer, now


async def unanswered(
    session: AsyncSession, now: datetime, wait: timedelta
) -> list[tuple[SafetyAsk, Note]]:
    """Questions past `wait` with no answer and no alert yet, with the note they ask about."""
    rows = await session.execute(
        select(SafetyAsk, Note)
        .join(Note, Note.id == SafetyAsk.note_id)
        .where(
            SafetyAsk.answered_at.is_(None),
            SafetyAsk.unanswered_alert_at.is_(None),
            SafetyAsk.created_at <= now - wait,
        )
        .order_by(SafetyAsk.id)
        .with_for_update(skip_locked=True, of=SafetyAsk)
    )
    return [(a, n) for a, n in rows.all()]
