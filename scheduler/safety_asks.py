"""The sweep for unanswered safety questions: no answer to "Are you safe right now?" within
SAFETY_ASK_TIMEOUT_MINUTES raises a watch alert that quotes the message to the counselor."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker

from db import safety_asks
from db.models import Participant
from messages.catalog import Catalog
from scheduler import alerting

EXCERPT = 300
ALERT_CAUSE = "safety_ask"


async def run_unanswered_sweep(
    sessionmaker: async_sessionmaker,
    catalog: Catalog,
    now: datetime,
    wait: timedelta,
    team_chat_id: int | None = None,
) -> int:
    """Alert once for each question left unanswered past `wait`; returns how many."""
    async with sessionmaker.begin() as session:
        rows = await safety_asks.unanswered(session, now, wait)
        for ask, note in rows:
            ask.unanswered_alert_at = now
            participant = await session.get(Participant, ask.participant_id)
            if participant is None or participant.status == "deleted":
                continue
            text = note.text
            excerpt = text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
            minutes = int(wait.total_seconds() // 60)
            reason = catalog.text("reasons", "ask_unanswered").format(
                minutes=minutes, why=ask.why, excerpt=excerpt
            )
            await alerting.raise_alert(session, catalog, participant, "watch", ALERT_CAUSE,
                                       [reason], now, team_chat_id=team_chat_id)  # fmt: skip
        return len(rows)
