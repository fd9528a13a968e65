"""Who is writing, what they were asked last and whether this update is new: one query.

Every update needs all of it before any handler runs (the gate, bot/gate.py), and a typed
check-in answer needs the open check-in too. Read apart, that was four statements (update,
participant, counselor, awaiting) plus the check-in again in the handler; read together it is
one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, and_, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import awaiting
from db.awaiting import Asked
from db.models import Awaiting, CheckIn, Counselor, InboundUpdate, Participant


@dataclass(frozen=True)
class Sender:
    """What the gate read, detached from its session: a handler that writes merges the
    participant (and check-in) into its own unit of work (`attach`)."""

    user_id: int
    participant: Participant | None
    counselor: Counselor | None
    asked: Asked | None
    # The check-in `asked` refers to, when what was asked is a check-in question.
    checkin: CheckIn | None
    stored: bool  # the update is in inbound_updates (the poller or the webhook put it there)
    processed: bool  # and it was handled already: a duplicate delivery or a finished replay
    # Its effect was committed but it was not marked handled: its replies did not all go (a
    # failed send, a crash), and this is the replay. Default: a Sender not read from a row.
    applied: bool = False


async def resolve(session: AsyncSession, user_id: int, update_id: int) -> Sender:
    me = select(literal(user_id, BigInteger).label("user_id")).subquery()
    update = InboundUpdate.update_id == update_id
    statement = (
        select(
            Participant,
            Counselor,
            CheckIn,
            Awaiting.kind,
            Awaiting.ref_id,
            Awaiting.step,
            Awaiting.asked_at,
            exists().where(update).label("stored"),
            exists().where(update, InboundUpdate.processed_at.is_not(None)).label("processed"),
            exists().where(update, InboundUpdate.applied_at.is_not(None)).label("applied"),
        )
        .select_from(me)
        .outerjoin(Participant, Participant.telegram_user_id == me.c.user_id)
        .outerjoin(Counselor, and_(Counselor.telegram_user_id == me.c.user_id, Counselor.active))
        .outerjoin(Awaiting, Awaiting.telegram_user_id == me.c.user_id)
        .outerjoin(
            CheckIn,
            and_(
                Awaiting.kind == awaiting.CHECKIN,
                CheckIn.id == Awaiting.ref_id,
                CheckIn.participant_id == Participant.id,
            ),
        )
    )
    row = (await session.execute(statement)).one()
    participant, counselor, checkin, kind, ref_id, step, asked_at, stored, processed, applied = row
    asked = Asked(kind, ref_id, step, asked_at) if kind is not None else None
    return Sender(user_id, participant, counselor, asked, checkin, bool(stored), bool(processed),
                  bool(applied))  # fmt: skip


async def attach(session: AsyncSession, sender: Sender) -> Participant | None:
    """The sender's participant as an object of `session`, without reading it again, and
    the check-in asked about in its identity map (session.get finds it there); the session
    serves this sender (db/awaiting.serving)."""
    awaiting.serving(session, sender.user_id)
    if sender.checkin is not None:
        # Held here: the identity map keeps only weak references.
        session.info["attached_checkin"] = await session.merge(sender.checkin, load=False)
    if sender.participant is None:
        return None
    return await session.merge(sender.participant, load=False)


async def attach_counselor(session: AsyncSession, sender: Sender) -> Counselor | None:
    """The sender's counselor (active) as an object of `session`, without reading it again;
    the session serves this sender, as with `attach`."""
    awaiting.serving(session, sender.user_id)
    if sender.counselor is None:
        return None
    return await session.merge(sender.counselor, load=False)
