"""Participants' own words that were not answers: always kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Note


def save_note(
    session: AsyncSession,
    participant_id: int,
    text: str,
    now: datetime,
    checkin_id: int | None = None,
) -> Note:
    note = Note(participant_id=participant_id, text=text, created_at=now, checkin_id=checkin_id)
    session.add(note)
    return note
