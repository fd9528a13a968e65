"""Answers to the direct safety question ("Are you safe right now?"), tapped or typed.

I'm safe closes it; I need help now is a crisis (resources and an alert); Talk to my counselor
raises a high alert. No answer in time is the sweep's (scheduler/safety_asks.py): a watch alert.
The question's own buttons work only for the person asked.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from care import safety
from care.reply import Reply
from care.services import Services
from db import safety_asks
from db.models import Note, Participant, SafetyAsk
from messages.callback_data import SafetyAskButton
from messages.safety_ask import ANSWERS, typed_answer

ALERT_CAUSE = "safety_ask"


async def typed(
    services: Services, session: AsyncSession, participant: Participant, text: str
) -> Reply | None:
    """A typed answer to their open question, or None when there is none or this is not one
    (then the text goes on to be screened and kept like any other)."""
    answer = typed_answer(services.catalog, text)
    if answer is None:
        return None
    row = await safety_asks.pending(session, participant.id, services.now())
    if row is None:
        return None
    return await _answered(services, session, participant, row, answer)


def button(data: SafetyAskButton):
    async def work(services: Services, session: AsyncSession, participant: Participant):
        row = await safety_asks.of_participant(session, data.ask_id, participant.id)
        if row is None:
            return Reply(toast=services.catalog.text("general", "expired_button"))
        if row.answered_at is not None:
            return Reply(toast=services.catalog.text("screen", "ask_closed"))
        reply = await _answered(services, session, participant, row, ANSWERS[data.answer])
        reply.clear_pressed = True
        return reply

    return work


async def helped(services: Services, session: AsyncSession, participant: Participant) -> None:
    """/sos and the help button answer any open question: help is on its way."""
    await safety_asks.close_all(session, participant.id, "sos", services.now())


async def _answered(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    row: SafetyAsk,
    answer: str,
) -> Reply:
    catalog, now = services.catalog, services.now()
    safety_asks.answer(row, answer, now)
    if answer == "safe":
        return Reply([catalog.text("screen", "safe_reply")])
    note = await session.get(Note, row.note_id)
    text = note.text if note is not None else ""
    excerpt = text if len(text) <= safety.EXCERPT else text[: safety.EXCERPT] + "…"
    if answer == "help":
        reasons = [catalog.text("reasons", "ask_help").format(excerpt=excerpt)]
        urgent = await safety.crisis(session, services, participant, ALERT_CAUSE, reasons)
        urgent += await safety.your_plan(session, services, participant)
        return Reply(urgent=urgent)
    reasons = [catalog.text("reasons", "ask_counselor").format(excerpt=excerpt)]
    await safety.alert(session, services, participant, "high", ALERT_CAUSE, reasons)
    later = safety.outside_hours(services)
    return Reply([catalog.text("screen", "counselor_reply"), *([later] if later else [])])
