"""Support contacts, both sides: the participant's /contact (consent, link, removal) and the
contact's answer and /stop. A contact only ever gets the minimal message (scheduler/alerting)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot import telegram_io
from bot.common import help_text
from bot.links import deep_link
from bot.services import Services, services_of
from db import audit, contacts, invites, outbox, people
from db.models import Consent, Participant
from messages import render
from messages.callback_data import ContactAnswerButton, ContactOfferButton
from messages.render import Rendered, fill

LEVELS = {"h": ["high", "crisis"], "c": ["crisis"]}


def _levels_text(services: Services, levels: list[str]) -> str:
    key = "levels_high" if "high" in levels else "levels_crisis"
    return services.catalog.text("contact", key)


async def _tell(session: AsyncSession, chat_id: int, text: str, key: str, now, about: int) -> None:
    """A message for someone other than the sender goes through the outbox; `about` is the
    participant whose consent it concerns."""
    await outbox.enqueue(
        session, key, chat_id, Rendered(text).payload(), outbox.PRIORITY_REPLY, now,
        about_participant_id=about,
    )  # fmt: skip


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/contact: explain and ask; /contact remove: revoke."""
    services = services_of(context)
    texts, now = services.catalog.texts["contact"], services.now()
    remove = bool(context.args) and context.args[0].lower() in ("remove", "stop", "delete")
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, update.effective_user.id)
        if participant is None or participant.status == "enrolling":
            message = None
        else:
            consent = await contacts.current(session, participant.id, now)
            if remove:
                message = await _remove(session, services, participant, consent)
            elif consent is None:
                buttons = (
                    (texts["button_high"], ContactOfferButton("h")),
                    (texts["button_crisis"], ContactOfferButton("c")),
                    (texts["button_no"], ContactOfferButton("n")),
                )
                explain = fill(texts["explain"], name=participant.first_name or "")
                message = Rendered(explain, tuple((b,) for b in buttons))
            elif consent.status == "offered":
                message = texts["pending"]
            else:
                levels = _levels_text(services, consent.levels)
                message = fill(texts["status"], contact=consent.recipient_name, levels=levels)
    if message is None:
        message = await help_text(update, context)
    await telegram_io.send(context.bot, update.effective_chat.id, message)


async def _remove(session, services: Services, participant: Participant, consent: Consent | None):
    texts, now = services.catalog.texts["contact"], services.now()
    if consent is None:
        return texts["removed_none"]
    was_accepted = consent.status == "accepted"
    contacts.revoke(session, consent, "participant", now)
    if was_accepted and consent.recipient_telegram_id:
        stopped = fill(texts["stopped_contact"], name=participant.first_name or "")
        await _tell(session, consent.recipient_telegram_id, stopped,
                    f"consent:{consent.id}:revoked:contact", now, participant.id)  # fmt: skip
        contacts.log_message(session, consent, "stopped", now)
    return texts["removed"]


async def on_offer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ContactOfferButton
) -> None:
    """The participant chose when a contact hears from us: make the consent and the link."""
    services = services_of(context)
    texts, now = services.catalog.texts["contact"], services.now()
    query = update.callback_query
    async with services.sessionmaker.begin() as session:
        participant = await people.participant_by_telegram(session, query.from_user.id)
        usable = participant is not None and participant.status != "enrolling"
        existing = await contacts.current(session, participant.id, now) if usable else None
        if not usable or existing is not None:
            message = None
        elif data.levels == "n":
            message = texts["not_now"]
        else:
            ttl = timedelta(days=services.settings.participant_invite_ttl_days)
            token, invite = await invites.create_invite(
                session, "contact", now, ttl, label=participant.first_name
            )
            consent = Consent(
                participant_id=participant.id,
                kind=contacts.KIND,
                status="offered",
                shares=list(contacts.SHARES),
                levels=LEVELS[data.levels],
                purpose=texts["purpose"],
                text_version=texts["version"],
                invite_id=invite.id,
                given_at=now,
                expires_at=now + timedelta(days=int(texts["ttl_days"])),
            )
            session.add(consent)
            await session.flush()
            subject = f"participant:{participant.id}"
            audit.record(session, now, subject, "consent_given", subject,
                         {"consent_id": consent.id, "levels": consent.levels})  # fmt: skip
            zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
            expires = render.stamp(services.catalog, invite.expires_at.astimezone(zone))
            link = deep_link(context.bot.username, token)
            message = fill(texts["link"], expires=expires, link=link)
    await _answer_press(update, context, message)


async def _answer_press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: str | None
) -> None:
    """A one-shot button: answer it, remove the buttons, reply; or say it is no longer active."""
    query = update.callback_query
    expired = services_of(context).catalog.text("general", "expired_button")
    await query.answer(None if message else expired)
    if message is not None:
        if query.message is not None:
            await telegram_io.clear_buttons(context.bot, query.message)
        await telegram_io.send(context.bot, update.effective_chat.id, message)


async def offer_to_contact(
    session: AsyncSession, services: Services, consent: Consent, user_id: int, name: str
) -> Rendered:
    """The contact opened the link: note who they are, then ask (nothing is shared yet)."""
    participant = await session.get(Participant, consent.participant_id)
    consent.recipient_telegram_id, consent.recipient_name = user_id, name
    texts = services.catalog.texts["contact"]
    buttons = (
        (texts["accept"], ContactAnswerButton(consent.id, True)),
        (texts["decline"], ContactAnswerButton(consent.id, False)),
    )
    offer = fill(texts["offer"], contact=name, name=participant.first_name or "")
    contacts.log_message(session, consent, "offer", services.now())
    return Rendered(offer, (buttons,))


async def on_answer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, data: ContactAnswerButton
) -> None:
    """Accept or decline, pressed only by the person the link was opened by."""
    services = services_of(context)
    texts, now = services.catalog.texts["contact"], services.now()
    query = update.callback_query
    message = None
    async with services.sessionmaker.begin() as session:
        consent = await session.get(Consent, data.consent_id)
        mine = consent is not None and consent.recipient_telegram_id == query.from_user.id
        if mine and consent.status == "offered" and consent.expires_at > now:
            participant = await session.get(Participant, consent.participant_id)
            name = participant.first_name or ""
            subject = f"participant:{participant.id}"
            if data.accept:
                consent.status, consent.accepted_at = "accepted", now
                message = fill(texts["accepted_contact"], name=name)
                levels = _levels_text(services, consent.levels)
                notice = fill(texts["accepted_participant"], contact=consent.recipient_name,
                              levels=levels)  # fmt: skip
                audit.record(session, now, contacts.contact_ref(consent), "consent_accepted",
                             subject, {"consent_id": consent.id})  # fmt: skip
            else:
                consent.status = "declined"
                message = fill(texts["declined_contact"], name=name)
                notice = fill(texts["declined_participant"], contact=consent.recipient_name)
                audit.record(session, now, contacts.contact_ref(consent), "consent_declined",
                             subject, {"consent_id": consent.id})  # fmt: skip
            await _tell(session, participant.chat_id, notice,
                        f"consent:{consent.id}:{consent.status}", now, participant.id)  # fmt: skip
            contacts.log_message(session, consent, consent.status, now)
    await _answer_press(update, context, message)


async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop from a contact: no more messages about anyone they support."""
    services = services_of(context)
    texts, now = services.catalog.texts["contact"], services.now()
    replies = []
    async with services.sessionmaker.begin() as session:
        for consent in await contacts.as_contact(session, update.effective_user.id, now):
            participant = await session.get(Participant, consent.participant_id)
            contacts.revoke(session, consent, "contact", now)
            replies.append(fill(texts["stopped_contact"], name=participant.first_name or ""))
            contacts.log_message(session, consent, "stopped", now)
            notice = fill(texts["stopped_participant"], contact=consent.recipient_name)
            await _tell(session, participant.chat_id, notice,
                        f"consent:{consent.id}:revoked:participant", now,
                        participant.id)  # fmt: skip
    for reply in replies or [texts["stop_none"]]:
        await telegram_io.send(context.bot, update.effective_chat.id, reply)
