"""/pause [days] and /resume: a participant's break from scheduled check-ins.

A pause stops scheduled check-ins only. /sos, /coping, /checkin and free text keep working,
because help must never be paused. The counselor is told through the outbox. The check-in tick
ends pauses that are over (scheduler/checkins.end_due_pauses); there is no job per participant.
The functions here work inside the caller's transaction and return the participant's reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from care.links import local_stamp
from care.participant_settings import next_checkin_text, stamp_for
from care.reply import Reply
from care.services import Services
from db import alerts as alert_db
from db import audit, outbox, people
from db.models import Participant
from delivery.priority import Priority
from messages.render import Markup, Rendered, fill
from scheduler.checkins import advance_schedule

_DAYS = re.compile(r"[0-9]{1,4}")
SHOWN = 40  # characters of unreadable input quoted back


def parse_days(args: Sequence[str], default: int, maximum: int) -> int | None:
    """'/pause' -> the default; '/pause 3' -> 3; anything else, or outside 1..maximum -> None."""
    if not args:
        return default
    if len(args) != 1 or not _DAYS.fullmatch(args[0]):
        return None
    days = int(args[0])
    return days if 1 <= days <= maximum else None


async def command(
    services: Services, session: AsyncSession, participant: Participant, args: Sequence[str]
) -> Reply:
    """/pause [days]; a discharged participant is told their check-ins have ended."""
    if participant.status == "discharged":
        return Reply([services.catalog.text("discharge", "ended")])
    return Reply([await pause(session, services, participant, args)])


async def resume_command(
    services: Services, session: AsyncSession, participant: Participant
) -> Reply:
    """/resume; a discharged participant is told their check-ins have ended."""
    if participant.status == "discharged":
        return Reply([services.catalog.text("discharge", "ended")])
    return Reply([await resume(session, services, participant)])


async def pause(
    session: AsyncSession, services: Services, participant: Participant, args: Sequence[str]
) -> Markup:
    settings, texts = services.settings, services.catalog.texts["pause"]
    days = parse_days(args, settings.pause_default_days, settings.pause_max_days)
    if days is None:
        shown = " ".join(args)
        shown = shown if len(shown) <= SHOWN else shown[:SHOWN] + "…"
        return fill(texts["invalid"], text=shown, max=settings.pause_max_days,
                    default=settings.pause_default_days)  # fmt: skip
    now = services.now()
    until = now + timedelta(days=days)
    people.pause(participant, until)
    advance_schedule(participant, now)  # the first check-in after the pause
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "checkins_paused", subject,
                 {"days": days, "until": until.isoformat()})  # fmt: skip
    stamp = local_stamp(until, settings.default_timezone)
    await _tell_counselors(session, services, participant, "counselor_paused", until=stamp)
    return fill(texts["paused"], until=stamp_for(services, participant, until),
                next=next_checkin_text(services, participant))  # fmt: skip


async def resume(session: AsyncSession, services: Services, participant: Participant) -> Markup:
    """Ends a pause early; says so kindly when there is none."""
    texts, now = services.catalog.texts["pause"], services.now()
    if participant.status != "paused":
        return fill(texts["not_paused"], next=next_checkin_text(services, participant))
    people.resume(participant)
    advance_schedule(participant, now)
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "checkins_resumed", subject, {"early": True})
    await _tell_counselors(session, services, participant, "counselor_resumed")
    return fill(texts["resumed"], next=next_checkin_text(services, participant))


async def _tell_counselors(
    session: AsyncSession, services: Services, participant: Participant, key: str, **values: str
) -> None:
    """The participant's counselor (the admins, when they have none) hears in the program's
    language, through the outbox."""
    now = services.now()
    template = services.program_catalog.text("pause", key)
    text = fill(template, name=participant.first_name or "", number=participant.id, **values)
    for counselor in await alert_db.responsible(session, participant):
        await outbox.enqueue(
            session,
            f"{key}:{participant.id}:{now.isoformat()}:counselor:{counselor.id}",
            counselor.telegram_user_id,
            Rendered(text).payload(),
            Priority.REPLY,
            now,
            about_participant_id=participant.id,
        )
