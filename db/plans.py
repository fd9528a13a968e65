"""Relapse-prevention plans: one per participant, changed part by part during /plan."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RecoveryPlan
from db.sql import insert_ignore


async def of(session: AsyncSession, participant_id: int) -> RecoveryPlan | None:
    return await session.scalar(
        select(RecoveryPlan).where(RecoveryPlan.participant_id == participant_id)
    )


async def get_or_create(session: AsyncSession, participant_id: int, now: datetime) -> RecoveryPlan:
    plan = await of(session, participant_id)
    if plan is not None:
        return plan
    await insert_ignore(
        session,
        RecoveryPlan,
        dict(participant_id=participant_id, people=[], first_steps=[], created_at=now,
             updated_at=now),
        conflict=["participant_id"],
    )  # fmt: skip
    plan = await of(session, participant_id)
    assert plan is not None
    return plan


def has_content(plan: RecoveryPlan | None) -> TypeGuard[RecoveryPlan]:
    return plan is not None and bool(plan.people or plan.first_steps or plan.reasons)


def set_people(plan: RecoveryPlan, people: list[dict[str, str]], now: datetime) -> None:
    plan.people = [dict(p) for p in people]  # a new list, so the JSON column sees the change
    plan.updated_at = now


def set_first_steps(plan: RecoveryPlan, steps: list[str], now: datetime) -> None:
    plan.first_steps = list(steps)
    plan.updated_at = now


def set_reasons(plan: RecoveryPlan, reasons: str | None, now: datetime) -> None:
    plan.reasons = reasons
    plan.updated_at = now


def set_sharing(plan: RecoveryPlan, share: bool, now: datetime) -> None:
    plan.share_with_counselor = share
    plan.share_answered_at = now
    plan.updated_at = now


async def claim_offer(
    session: AsyncSession, participant_id: int, now: datetime, every: timedelta
) -> bool:
    """True (and noted) when offering to make a plan is due: never more often than `every`."""
    plan = await get_or_create(session, participant_id, now)
    if plan.offered_at is not None and plan.offered_at > now - every:
        return False
    plan.offered_at = now
    return True
