"""Dashboard sign-in: one-time login links and server-side sessions. The raw token and session
id exist only in the link and the cookie; the tables keep their SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.invites import hash_token
from db.models import Counselor, DashboardLoginToken, DashboardSession
from db.sql import changed

TOKEN_BYTES = 24  # 192 random bits in a login link
SESSION_BYTES = 32  # 256 in a session cookie
MAX_TOKEN_LENGTH = 64


async def create_login_token(
    session: AsyncSession, counselor: Counselor, now: datetime, ttl: timedelta
) -> str:
    """A new login link's token for this counselor; returned once, stored only hashed."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        DashboardLoginToken(
            token_hash=hash_token(token), counselor_id=counselor.id, created_at=now,
            expires_at=now + ttl,
        )
    )  # fmt: skip
    await session.flush()
    return token


async def login_token_state(session: AsyncSession, token: str, now: datetime) -> str:
    """What opening the link finds: usable | used | expired | unknown. Reads only."""
    row = await _token_row(session, token)
    if row is None:
        return "unknown"
    if row.used_at is not None:
        return "used"
    return "expired" if row.expires_at <= now else "usable"


async def use_login_token(session: AsyncSession, token: str, now: datetime) -> Counselor | None:
    """Spend the token (the UPDATE referees a double submit) and return its active counselor,
    or None when it is unknown, used, expired, or its counselor was removed."""
    row = await _token_row(session, token)
    if row is None:
        return None
    spent = await changed(
        session,
        update(DashboardLoginToken)
        .where(
            DashboardLoginToken.id == row.id,
            DashboardLoginToken.used_at.is_(None),
            DashboardLoginToken.expires_at > now,
        )
        .values(used_at=now),
    )
    if spent != 1:
        return None
    counselor = await session.get(Counselor, row.counselor_id)
    return counselor if counselor is not None and counselor.active else None


async def _token_row(session: AsyncSession, token: str) -> DashboardLoginToken | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return await session.scalar(
        select(DashboardLoginToken).where(DashboardLoginToken.token_hash == hash_token(token))
    )


@dataclass(frozen=True)
class SignedIn:
    session_id: int
    counselor: Counselor
    csrf: str


def csrf_token(raw_session: str) -> str:
    """The session's synchronizer token: derived from the session id, so it is never stored
    and can't be computed without the cookie."""
    return hmac.new(raw_session.encode(), b"aftercare-dashboard-csrf", hashlib.sha256).hexdigest()


async def start_session(
    session: AsyncSession, counselor: Counselor, now: datetime, lifetime: timedelta
) -> str:
    """A fresh session (a new id at every login); returns the raw id for the cookie."""
    raw = secrets.token_urlsafe(SESSION_BYTES)
    session.add(
        DashboardSession(
            session_hash=hash_token(raw), counselor_id=counselor.id, created_at=now,
            last_seen_at=now, expires_at=now + lifetime,
        )
    )  # fmt: skip
    await session.flush()
    return raw


async def signed_in(
    session: AsyncSession, raw: str | None, now: datetime, idle: timedelta
) -> SignedIn | None:
    """The live session behind a cookie, its idle clock restarted; None when there is none,
    it ended, idled out, passed its absolute end, or its counselor was removed."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    row = await session.scalar(
        select(DashboardSession).where(DashboardSession.session_hash == hash_token(raw))
    )
    if row is None or row.ended_at is not None:
        return None
    if row.expires_at <= now or row.last_seen_at + idle <= now:
        row.ended_at = now
        return None
    counselor = await session.get(Counselor, row.counselor_id)
    if counselor is None or not counselor.active:
        row.ended_at = now
        return None
    row.last_seen_at = now
    return SignedIn(row.id, counselor, csrf_token(raw))


async def end_session(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(DashboardSession)
        .where(DashboardSession.id == session_id, DashboardSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def end_all_sessions(session: AsyncSession, counselor_id: int, now: datetime) -> int:
    """Every live session of one counselor (/dashboard logout); how many there were."""
    return await changed(
        session,
        update(DashboardSession)
        .where(DashboardSession.counselor_id == counselor_id, DashboardSession.ended_at.is_(None))
        .values(ended_at=now),
    )
