"""A participant's own data: /mydata sends all of it as a JSON file; /deleteme deletes it after
two confirmations. Both work for anyone with a participant row (enrolling, active, paused,
unreachable or discharged): these rights don't end with aftercare.

The export is an interactive reply (a file is never stored in the outbox). Each export and each
deletion is written to the audit log, without anything that identifies the person.
"""

from __future__ import annotations

import json
import secrets

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import incoming, telegram_io
from bot.common import reply_to_non_participant
from bot.services import Services, services_of
from db import alerts as alert_db
from db import audit, erasure, export, outbox, people, records
from db import contacts as contact_db
from db.models import Participant
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


# --- /mydata ----------------------------------------------------------------------------------


async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mydata: everything stored about the sender, as a JSON document."""
    services = services_of(context)
    now = services.now()
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, incoming.sender_id(update))
        if participant is not None:
            catalog = services.speaking(participant.language).catalog
            loaded = await records.load(session, participant)
            texts = catalog.texts["privacy"]
            document = export.document(
                loaded, now, question_texts(catalog), texts["export_explanation"]
            )
            caption = fill(texts["export_caption"], name=participant.first_name or "")
            subject = f"participant:{participant.id}"
            # Recorded with the export it describes: an access log may not miss one.
            audit.record(session, now, subject, "data_exported", subject)
    if participant is None:
        await reply_to_non_participant(update, context)
        return
    data = json.dumps(document, ensure_ascii=False, indent=2).encode()
    await context.bot.send_document(
        incoming.chat_id(update),
        document=data,
        filename=f"aftercare-my-data-{now.date().isoformat()}.json",
        caption=caption,
        parse_mode=ParseMode.HTML,
    )


# --- /deleteme --------------------------------------------------------------------------------


def _question(catalog: Catalog, step: str, nonce: str) -> Rendered:
    texts = catalog.texts["privacy"]
    if step == FIRST:
        text, go = texts["delete_explain"], (texts["delete_button"], ErasureButton("a", nonce))
    else:
        text, go = texts["delete_confirm"], (texts["confirm_button"], ErasureButton("b", nonce))
    keep = (texts["keep_button"], ErasureButton("x", nonce))
    return Rendered(Markup(text), ((go,), (keep,)))


async def on_deleteme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/deleteme: explains what goes and what stays, and asks the first time."""
    services = services_of(context)
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, incoming.sender_id(update))
        if participant is not None:
            nonce = secrets.token_urlsafe(9)
            # A new request: any earlier /deleteme buttons stop working.
            erasure.ask(participant, FIRST, nonce, services.now())
            catalog = services.speaking(participant.language).catalog
            message = _question(catalog, FIRST, nonce)
    if participant is None:
        await reply_to_non_participant(update, context)
        return
    await telegram_io.send(context.bot, incoming.chat_id(update), message)


async def on_erasure_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ErasureButton
) -> None:
    """A /deleteme button, pressed by the participant whose request it answers: the nonce
    must be the one stored with their newest request, at the step it asked, and still fresh.
    Anything else (stale, forged, someone else's, pressed twice) changes nothing."""
    services = services_of(context)
    query = incoming.button(update)
    now = services.now()
    reply: Rendered | str | None = None
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, query.from_user.id)
        catalog = services.speaking(participant.language if participant else None).catalog
        texts = catalog.texts["privacy"]
        if participant is None:
            pass
        elif data.step == "x" and (
            erasure.asked(participant, FIRST, data.nonce, now)
            or erasure.asked(participant, FINAL, data.nonce, now)
        ):
            erasure.forget_request(participant)
            reply = texts["kept"]
        elif data.step == "a" and erasure.asked(participant, FIRST, data.nonce, now):
            nonce = secrets.token_urlsafe(9)
            erasure.ask(participant, FINAL, nonce, now)
            reply = _question(catalog, FINAL, nonce)
        elif data.step == "b" and erasure.asked(participant, FINAL, data.nonce, now):
            await delete_participant(session, services, participant)
            reply = texts["deleted"]
    await query.answer(None if reply is not None else texts["stale"])
    if reply is None:
        return
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await telegram_io.clear_buttons(context.bot, query.message)  # one-shot buttons
    await telegram_io.send(context.bot, incoming.chat_id(update), reply)


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
                Rendered(left).payload(), outbox.PRIORITY_REPLY, now,
            )  # fmt: skip
    erased = await erasure.erase_participant(session, participant, now)
    notice = fill(texts["counselor_left"], number=pid)
    if erased.alerts_closed:
        closed = fill(texts["counselor_left_alerts"], count=erased.alerts_closed)
        notice = Markup(notice + "\n\n" + closed)
    for counselor in counselors:
        await outbox.enqueue(
            session, f"erasure:{pid}:counselor:{counselor.id}", counselor.telegram_user_id,
            Rendered(notice).payload(), outbox.PRIORITY_REPLY, now,
        )  # fmt: skip
    subject = f"participant:{pid}"
    audit.record(session, now, subject, "participant_deleted", subject,
                 {"alerts_closed": erased.alerts_closed, "checkins": erased.checkins,
                  "notes": erased.notes})  # fmt: skip
