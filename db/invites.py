"""Invite tokens: random, single-use, expiring, and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Invite

TOKEN_BYTES = 24  # 192 bits; url-safe base64 fits Telegram's 64-character start parameter


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invite(
    session: AsyncSession,
    kind: str,
    now: datetime,
    ttl: timedelta,
    label: str | None = None,
    created_by_counselor_id: int | None = None,
) -> tuple[str, Invite]:
    """A new invite; returns the raw token (shown once, never stored) and the row."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite = Invite(
        token_hash=hash_token(token),
        kind=kind,
        label=label,
        created_by_counselor_id=created_by_counselor_id,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    await session.flush()
    return token, invite


async def find_usable(session: AsyncSession, token: str, now: datetime) -> Invite | None:
    """The invite behind `token` if it is unused and unexpired; None for anything else."""
    if not token or len(token) > 64:
        return None
    invite = await session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    return invite


async def consume(session: AsyncSession, invite: Invite, now: datetime, telegram_id: int) -> bool:
    """Mark used; False if someone else used it first (the UPDATE is the race's referee)."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, used_by_telegram_id=telegram_id)
    )
    return result.rowcount == 1
