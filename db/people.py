"""Counselors and participants: lookups and enrollment steps."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import awaiting
from db.models import Counselor, Participant
from db.sql import lock_skip_locked


async def counselor_by_telegram(session: AsyncSession, telegram_id: int) -> Counselor | None:
    awaiting.serving(session, telegram_id)  # looked up by Telegram id: the person writing
    return await session.scalar(
        select(Counselor).where(Counselor.telegram_user_id == telegram_id, Counselor.active)
    )


async def participant_by_telegram(session: AsyncSession, telegram_id: int) -> Participant | None:
    awaiting.serving(session, telegram_id)
    return await session.scalar(
        select(Participant).where(Participant.telegram_user_id == telegram_id)
    )


async def add_counselor(
    session: AsyncSession, telegram_id: int, name: str, now: datetime, is_admin: bool = False
) -> Counselor:
    counselor = Counselor(
        telegram_user_id=telegram_id, name=name, is_admin=is_admin, created_at=now
    )
    session.add(counselor)
    await session.flush()
    return counselor


async def add_participant(
    session: AsyncSession,
    telegram_id: int,
    chat_id: int,
    first_name: str,
    counselor_id: int | None,
    now: datetime,
) -> Participant:
    participant = Participant(
        telegram_user_id=telegram_id,
        chat_id=chat_id,
        first_name=first_name,
        counselor_id=counselor_id,
        status="enrolling",
        enroll_step="consent",
        checkins_started=0,
        created_at=now,
    )
    session.add(participant)
    await session.flush()
    return participant


def give_consent(participant: Participant, version: str, now: datetime) -> None:
    participant.consent_version = version
    participant.consented_at = now
    participant.enroll_step = "timezone"


def set_timezone(participant: Participant, zone: str) -> None:
    participant.timezone = zone
    if participant.status == "enrolling":
        participant.enroll_step = "time"


def activate(
    participant: Participant, hhmm: str, next_checkin_at: datetime, today: date, now: datetime
) -> None:
    participant.checkin_time = hhmm
    participant.next_checkin_at = next_checkin_at
    participant.status = "active"
    participant.enroll_step = None
    participant.activated_at = now
    # Days in recovery count from enrollment; a lapse never resets this.
    participant.recovery_start = participant.recovery_start or today


async def caseload(session: AsyncSession, counselor: Counselor) -> list[Participant]:
    """The participants a counselor may see: their own, or everyone for an admin."""
    statement = select(Participant).where(Participant.telegram_user_id.is_not(None))
    if not counselor.is_admin:
        statement = statement.where(Participant.counselor_id == counselor.id)
    return list((await session.scalars(statement.order_by(Participant.id))).all())


def pause(participant: Participant, until: datetime) -> None:
    participant.status = "paused"
    participant.paused_until = until


def resume(participant: Participant) -> None:
    participant.status = "active"
    participant.paused_until = None


def discharge(participant: Participant, now: datetime) -> None:
    """No more check-ins, ever (the row and its history stay for the record)."""
    participant.status = "discharged"
    participant.discharged_at = now
    participant.next_checkin_at = None
    participant.paused_until = None


async def pauses_ended(session: AsyncSession, now: datetime, limit: int) -> list[Participant]:
    statement = (
        select(Participant)
        .where(Participant.status == "paused", Participant.paused_until <= now)
        .order_by(Participant.paused_until)
        .limit(limit)
    )
    return list((await session.scalars(lock_skip_locked(session, statement))).all())
