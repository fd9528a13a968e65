"""Invite tokens: random, single-use, expiring, and stored only as a hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Invite
from db.sql import changed

TOKEN_BYTES = 24  # 192 bits; url-safe base64 fits Telegram's 64-character start parameter
# "/start <token>", as the command handlers read it (any case, a bot's @name allowed).
_START = re.compile(r"(\s*/start(?:@\w+)?\s+)(\S+)", re.IGNORECASE)
HASHED = "sha256:"


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
    used = await changed(
        session,
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, used_by_telegram_id=telegram_id),
    )
    return used == 1


def without_token(payload: dict[str, Any]) -> dict[str, Any] | None:
    """A stored update whose text carries a deep-link token, with the token replaced by its
    hash (as the invites keep it); None when there is none. Tokens live at rest only hashed,
    the stored copies of the updates that brought them included."""
    for kind in ("message", "edited_message"):
        message = payload.get(kind)
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(message, dict) or not isinstance(text, str):
            continue
        found = _START.match(text)
        if found and not found.group(2).startswith(HASHED):
            hashed = found.group(1) + HASHED + hash_token(found.group(2)) + text[found.end() :]
            return {**payload, kind: {**message, "text": hashed}}
    return None
