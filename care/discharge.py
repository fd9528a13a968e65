"""A counselor's discharge of a participant: the confirmation asked (the participant found in
their caseload), answered with a button or in words, and the discharge itself (check-ins end,
a goodbye is queued, the audit log records who did it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices
from care.caseload import choose, look_up
from care.services import Services
from db import audit, awaiting, outbox, people
from db import checkins as checkin_db
from db.models import Counselor, Participant
from delivery.priority import Priority
from messages import render
from messages.callback_data import DischargeButton
from messages.render import Rendered, fill


async def ask(
    session: AsyncSession, services: Services, counselor: Counselor, wanted: str
) -> Rendered | str:
    """/discharge <number or name>: the confirmation with a button (with none, or words that
    fit several, a button for each participant first)."""
    catalog = services.catalog
    texts = catalog.texts["discharge"]
    found = await look_up(session, counselor, wanted)
    participant = found.participant
    if participant is None:
        return choose(catalog, "d", found, wanted, usage=texts["usage"])
    if participant.status == "discharged":
        return fill(texts["already"], name=participant.first_name or "")
    name = participant.first_name or ""
    message = render.discharge_confirm(catalog, participant.id, name)
    awaiting.asking(session, awaiting.DISCHARGE, services.now(), participant.id)
    return message


def _may_discharge(counselor: Counselor, participant: Participant) -> bool:
    return participant.telegram_user_id is not None and (
        counselor.is_admin or participant.counselor_id == counselor.id
    )


async def confirmed(
    session: AsyncSession, services: Services, counselor: Counselor | None, data: DischargeButton
) -> tuple[str | None, str | None]:
    """Yes or Cancel, authorized against whoever pressed it: (a refusal's toast, the reply)."""
    texts = services.catalog.texts["discharge"]
    participant = await session.get(Participant, data.participant_id)
    if counselor is None or participant is None or not _may_discharge(counselor, participant):
        return services.catalog.text("general", "not_for_you"), None
    awaiting.answered(session, awaiting.DISCHARGE)
    if not data.confirm:
        return None, texts["cancelled"]
    if participant.status == "discharged":
        return None, fill(texts["already"], name=participant.first_name or "")
    await discharge(session, services, counselor, participant)
    return None, fill(texts["done"], name=participant.first_name or "")


async def typed(
    session: AsyncSession,
    services: Services,
    counselor: Counselor | None,
    participant_id: int | None,
    text: str,
) -> Rendered | str | None:
    """The confirmation answered in words ("yes, discharge", "yes", "cancel"), or the question
    again with a hint; None when it is not theirs to answer."""
    catalog = services.catalog
    participant = await session.get(Participant, participant_id)
    if counselor is None or participant is None or not _may_discharge(counselor, participant):
        return None
    question = render.discharge_confirm(catalog, participant.id, participant.first_name or "")
    read = choices.read(catalog, text, question, yes=DischargeButton(participant.id, True),
                        no=DischargeButton(participant.id, False))  # fmt: skip
    if read.button is None:
        awaiting.asking(session, awaiting.DISCHARGE, services.now(), participant.id)
        return read.again
    toast, reply = await confirmed(session, services, counselor, read.button)
    return reply or toast or read.again


async def discharge(
    session: AsyncSession, services: Services, counselor: Counselor, participant: Participant
) -> None:
    """One unit of work: check-ins end, the goodbye is queued, the audit log records it."""
    now = services.now()
    people.discharge(participant, now)
    await checkin_db.close_open(session, participant.id)
    audit.record(session, now, f"counselor:{counselor.id}", "participant_discharged",
                 f"participant:{participant.id}")  # fmt: skip
    catalog = services.speaking(participant.language).catalog
    goodbye = fill(catalog.text("discharge", "goodbye"), name=participant.first_name or "")
    if participant.chat_id is None:  # none only once they deleted their data: no one to tell
        return
    await outbox.enqueue(
        session,
        f"discharge:{participant.id}:goodbye",
        participant.chat_id,
        Rendered(goodbye).payload(),
        Priority.REPLY,
        now,
        participant_id=participant.id,
    )
