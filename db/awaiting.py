"""What each person's next typed message answers: one row per person, the question asked last.

Writes are upserts, never read-modify-write: a handler and the dispatcher (sending a scheduled
question) may both write for one person at the same moment, and the later one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeGuard

from sqlalchemy import delete, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.models import Awaiting
from db.sql import dialect

# The kinds of question, each answered by one flow.
ENROLLMENT = "enrollment"
CHECKIN = "checkin"
SETTINGS = "settings"
SETUP = "setup"  # /plan and /medication guided set-ups (the conversations row)
MEETING = "meeting"  # a meeting being typed in (the draft)
ATTENDANCE = "attendance"  # "did you make it?"
DOSE = "dose"  # "taken?"
CONTACT_OFFER = "contact_offer"  # /contact: when a support contact hears from us
CONTACT_ANSWER = "contact_answer"  # the support contact's accept / decline
RESOLUTION = "resolution"  # a counselor's note after pressing Resolve
DISCHARGE = "discharge"  # a counselor's /discharge confirmation
ERASURE = "erasure"  # /deleteme's confirmation
SAFETY = "safety"  # "are you safe right now?"
PLAN = "plan"  # the /plan message: its invitation or the plan, with their buttons
MEDICATIONS = "medications"  # the /medication list and its buttons
MEETINGS = "meetings"  # the /meetings list, the program list's choices, or one meeting's


@dataclass(frozen=True)
class Asked:
    kind: str
    ref_id: int | None
    step: str | None
    asked_at: datetime


def _values(user_id: int, kind: str, now: datetime, ref_id: int | None, step: str | None):
    return dict(telegram_user_id=user_id, kind=kind, ref_id=ref_id, step=step, asked_at=now)


async def ask(
    session: AsyncSession,
    user_id: int,
    kind: str,
    now: datetime,
    ref_id: int | None = None,
    step: str | None = None,
) -> None:
    """`user_id` was just asked this question: their next typed message answers it."""
    await ask_many(session, [_values(user_id, kind, now, ref_id, step)])


async def ask_many(session: AsyncSession, rows: list[dict]) -> None:
    """Several people asked at once (the dispatcher's batch): one cached statement, executed
    for all of them (a multi-row VALUES compiled per batch cost more than it ran)."""
    if not rows:
        return
    insert = postgresql.insert if dialect(session) == "postgresql" else sqlite.insert
    statement = insert(Awaiting)
    statement = statement.on_conflict_do_update(
        index_elements=["telegram_user_id"],
        set_={c: statement.excluded[c] for c in ("kind", "ref_id", "step", "asked_at")},
    )
    connection = await session.connection()
    await connection.execute(statement, rows)


async def of(session: AsyncSession, user_id: int) -> Asked | None:
    row = (
        await session.execute(
            select(Awaiting.kind, Awaiting.ref_id, Awaiting.step, Awaiting.asked_at).where(
                Awaiting.telegram_user_id == user_id
            )
        )
    ).first()
    return Asked(*row) if row is not None else None


async def clear(
    session: AsyncSession, user_id: int, kind: str | None = None, ref_id: int | None = None
) -> None:
    """Answered (or set aside). With `kind` (and `ref_id`), only if that is still what was
    asked last: answering an older question leaves a newer one open."""
    await session.execute(_clearing(user_id, kind, ref_id))


def _clearing(user_id: int, kind: str | None, ref_id: int | None):
    statement = delete(Awaiting).where(Awaiting.telegram_user_id == user_id)
    if kind is not None:
        statement = statement.where(Awaiting.kind == kind)
    if ref_id is not None:
        statement = statement.where(Awaiting.ref_id == ref_id)
    return statement


def is_(asked: Asked | None, kind: str, ref_id: int | None = None) -> TypeGuard[Asked]:
    if asked is None or asked.kind != kind:
        return False
    return ref_id is None or asked.ref_id == ref_id


# --- asked or answered within a unit of work ---------------------------------------------------
# Flows say what they ask and what was answered as they go (`asking`, `answered`); the row is
# written when their transaction commits, for the person the handler serves (`serving`). So a
# flow needs no Telegram id, and a rolled-back unit of work asks nothing.

_PENDING = "awaiting_pending"
_SERVING = "awaiting_serving"


def serving(session: AsyncSession | Session, user_id: int | None) -> None:
    """The person this unit of work answers (the first one named wins: the sender)."""
    if user_id is not None:
        session.info.setdefault(_SERVING, user_id)


def asking(
    session: AsyncSession | Session,
    kind: str,
    now: datetime,
    ref_id: int | None = None,
    step: str | None = None,
) -> None:
    session.info.setdefault(_PENDING, []).append((kind, ref_id, step, now))


def answered(session: AsyncSession | Session, kind: str, ref_id: int | None = None) -> None:
    session.info.setdefault(_PENDING, []).append((kind, ref_id, None, None))


def _upsert(dialect: str, rows: list[dict]):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Awaiting).values(rows)
    return statement.on_conflict_do_update(
        index_elements=["telegram_user_id"],
        set_={c: statement.excluded[c] for c in ("kind", "ref_id", "step", "asked_at")},
    )


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    user_id = session.info.pop(_SERVING, None)
    if not pending or user_id is None:
        return
    # The last word of a unit of work stands: a question asked after an answer, or the answer.
    kind, ref_id, step, now = pending[-1]
    if now is not None:
        session.execute(_upsert(session.get_bind().dialect.name,
                                [_values(user_id, kind, now, ref_id, step)]))  # fmt: skip
        return
    session.execute(_clearing(user_id, kind, ref_id))


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_SERVING, None)
