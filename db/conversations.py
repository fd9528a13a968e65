"""Guided set-ups in progress (/plan, /medication): which step a participant stands at, kept in
the database so typed answers reach the right step and a restart continues where they were."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import object_session

from db import awaiting
from db.models import Conversation


async def current(session: AsyncSession, participant_id: int) -> Conversation | None:
    return await session.get(Conversation, participant_id)


async def start(
    session: AsyncSession,
    participant_id: int,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
) -> Conversation:
    """Begin (or restart) a set-up; one at a time, so any other one is set aside."""
    conversation = await session.get(Conversation, participant_id)
    if conversation is None:
        conversation = Conversation(participant_id=participant_id)
        session.add(conversation)
    conversation.flow, conversation.step = flow, step
    conversation.data, conversation.updated_at = dict(data), now
    awaiting.asking(session, awaiting.SETUP, now, step=step)
    return conversation


def advance(conversation: Conversation, step: str, now: datetime, **changes: Any) -> Conversation:
    conversation.step = step
    # A new dict, so the JSON column sees the change.
    conversation.data = {**(conversation.data or {}), **changes}
    touch(conversation, now)
    return conversation


def touch(conversation: Conversation, now: datetime) -> None:
    """The set-up's step was asked (again) now: typed text comes here."""
    conversation.updated_at = now
    session = object_session(conversation)
    if session is not None:
        awaiting.asking(session, awaiting.SETUP, now, step=conversation.step)


async def end(session: AsyncSession, participant_id: int) -> None:
    awaiting.answered(session, awaiting.SETUP)
    await session.execute(delete(Conversation).where(Conversation.participant_id == participant_id))
