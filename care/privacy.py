"""A participant's own data, as services: /mydata's document and /deleteme's two
confirmations, pressed or typed, and the deletion itself (the data goes, contacts and the
counselor are told)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices, safety
from care.reply import Reply
from care.services import Services
from db import alerts as alert_db
from db import audit, awaiting, erasure, export, outbox, records
from db import contacts as contact_db
from db.awaiting import Asked
from db.models import Participant
from delivery.priority import Priority
from messages.answers import match_choice, word_list
from messages.callback_data import ErasureButton
from messages.catalog import Catalog
from messages.html import strip_html
from messages.render import Markup, Rendered, fill

FIRST, FINAL = "first", "final"


def question_texts(catalog: Catalog) -> dict[str, export.QuestionText]:
    """Each question's prompt and how each answer reads, as plain text for the file."""
    return {
        key: export.QuestionText(
            strip_html(q.prompt), {v: strip_html(q.answer_label(v)) for v in q.values()}
        )
        for key, q in catalog.questions.items()
    }


async def export_document(
    session: AsyncSession, services: Services, participant: Participant, now: datetime
) -> tuple[dict[str, Any], Markup]:
    """/mydata: everything stored about them as a JSON-ready document, and its caption; the
    export is written to the audit log with it."""
    catalog = services.speaking(participant.language).catalog
    loaded = await records.load(session, participant)
    texts = catalog.texts["privacy"]
    document = export.document(loaded, now, question_texts(catalog), texts["export_explanation"])
    caption = fill(texts["export_caption"], name=participant.first_name or "")
    subject = f"participant:{participant.id}"
    # Recorded with the export it describes: an access log may not miss one.
    audit.record(session, now, subject, "data_exported", subject)
    return document, caption


def _question(catalog: Catalog, step: str, nonce: str) -> Rendered:
    texts = catalog.texts["privacy"]
    if step == FIRST:
        text, go = texts["delete_explain"], (texts["delete_button"], ErasureButton("a", nonce))
    else:
        text, go = texts["delete_confirm"], (texts["confirm_button"], ErasureButton("b", nonce))
    keep = (texts["keep_button"], ErasureButton("x", nonce))
    return Rendered(Markup(text), ((go,), (keep,)))


def ask_erasure(session: AsyncSession, services: Services, participant: Participant) -> Rendered:
    """/deleteme: what goes and what stays, and the first question."""
    nonce = secrets.token_urlsafe(9)
    # A new request: any earlier /deleteme buttons stop working.
    erasure.ask(participant, FIRST, nonce, services.now())
    awaiting.asking(session, awaiting.ERASURE, services.now(), step=FIRST)
    catalog = services.speaking(participant.language).catalog
    return _question(catalog, FIRST, nonce)


async def erasure_step(
    session: AsyncSession, services: Services, participant: Participant, data: ErasureButton
) -> Rendered | str | None:
    """A /deleteme answer, pressed or typed: the nonce must be the one stored with their
    newest request, at the step it asked, and still fresh. Anything else (stale, forged,
    someone else's, pressed twice) changes nothing and is None."""
    now, catalog = services.now(), services.catalog
    texts = catalog.texts["privacy"]
    if data.step == "x" and (
        erasure.asked(participant, FIRST, data.nonce, now)
        or erasure.asked(participant, FINAL, data.nonce, now)
    ):
        erasure.forget_request(participant)
        awaiting.answered(session, awaiting.ERASURE)
        return texts["kept"]
    if data.step == "a" and erasure.asked(participant, FIRST, data.nonce, now):
        nonce = secrets.token_urlsafe(9)
        erasure.ask(participant, FINAL, nonce, now)
        awaiting.asking(session, awaiting.ERASURE, now, step=FINAL)
        return _question(catalog, FINAL, nonce)
    if data.step == "b" and erasure.asked(participant, FINAL, data.nonce, now):
        await delete_participant(session, services, participant)
        return texts["deleted"]
    return None


def erasure_question(
    services: Services, participant: Participant, asked: Asked
) -> Rendered | None:
    """The /deleteme question asked last, again (its buttons still work); None when their
    request no longer stands at that step (answered, replaced, or too old)."""
    nonce = participant.erasure_nonce or ""
    if not erasure.asked(participant, asked.step or "", nonce, services.now()):
        return None
    return _question(services.catalog, participant.erasure_step or "", nonce)


async def erasure_text(
    session: AsyncSession, services: Services, participant: Participant, asked: Asked, text: str
) -> Reply | None:
    """/deleteme answered in words. At the first question a button's label, a part of it, its
    number or yes / no do what the buttons do (yes asks the final question; nothing is deleted
    yet). At the final question only the confirm button's whole label or the content's
    `privacy.confirm_words` ("yes", "delete everything") delete: never a looser yes, a part of
    the label or a number. Keep, no, or a part of "Keep my data" keeps the data."""
    question = erasure_question(services, participant, asked)
    if question is None:
        awaiting.answered(session, awaiting.ERASURE)
        return None
    catalog, nonce = services.catalog, participant.erasure_nonce or ""
    texts = catalog.texts["privacy"]
    keep = ErasureButton("x", nonce)
    if participant.erasure_step == FIRST:
        read = choices.read(catalog, text, question, yes=ErasureButton("a", nonce), no=keep)
        pressed = read.button
    else:
        confirm = ErasureButton("b", nonce)
        sure = match_choice(text, [(texts["confirm_button"], confirm)], numbers=False,
                            partial=False, words=[(word_list(texts["confirm_words"]), confirm)])
        keeping = choices.read(catalog, text, question, options=[(texts["keep_button"], keep)],
                               no=keep, numbers=False).button  # fmt: skip
        pressed = confirm if sure == confirm else keeping
    if pressed is None:
        return await safety.not_an_answer(session, services, participant, text,
                                          choices.hinted(catalog, question))  # fmt: skip
    reply = await erasure_step(session, services, participant, pressed)
    return Reply([reply or texts["stale"]])


async def delete_participant(
    session: AsyncSession, services: Services, participant: Participant
) -> None:
    """One unit of work: contacts are released and told, the data goes, the counselor hears
    (by number only), and the audit log records it without anything identifying."""
    now = services.now()
    catalog = services.program_catalog
    texts = catalog.texts["privacy"]
    pid = participant.id
    counselors = await alert_db.responsible(session, participant)
    for consent in await contact_db.live(session, pid, now):
        contact = consent.recipient_telegram_id if consent.status == "accepted" else None
        contact_db.revoke(session, consent, "participant", now)
        if contact is not None:  # told they were a contact: told it has ended
            language = await contact_db.language_of(session, contact, participant.language)
            left = services.catalogs.get(language).text("privacy", "contact_left")
            await outbox.enqueue(
                session, f"erasure:{pid}:contact:{consent.id}", contact,
                Rendered(left).payload(), Priority.REPLY, now,
            )  # fmt: skip
    erased = await erasure.erase_participant(session, participant, now)
    notice = fill(texts["counselor_left"], number=pid)
    if erased.alerts_closed:
        closed = fill(texts["counselor_left_alerts"], count=erased.alerts_closed)
        notice = Markup(notice + "\n\n" + closed)
    for counselor in counselors:
        await outbox.enqueue(
            session, f"erasure:{pid}:counselor:{counselor.id}", counselor.telegram_user_id,
            Rendered(notice).payload(), Priority.REPLY, now,
        )  # fmt: skip
    subject = f"participant:{pid}"
    audit.record(session, now, subject, "participant_deleted", subject,
                 {"alerts_closed": erased.alerts_closed, "checkins": erased.checkins,
                  "notes": erased.notes})  # fmt: skip
