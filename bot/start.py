"""/start, with or without a deep-link token: the front door for everyone."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import contacts, telegram_io
from bot.common import help_text
from bot.participant import enrollment_prompt
from bot.services import services_of
from db import enrollment, people
from messages import render
from messages.render import fill


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    user, chat = update.effective_user, update.effective_chat
    token = context.args[0] if context.args else ""
    # Until we know who this is: the language of their Telegram, when we ship it.
    guessed = services.speaking(services.catalogs.match(user.language_code)).catalog

    async with services.sessionmaker.begin() as session:
        if not token:
            participant = await people.participant_by_telegram(session, user.id)
            if participant is not None and participant.status == "enrolling":
                theirs = services.speaking(participant.language).catalog
                message = enrollment_prompt(theirs, participant)
            else:
                message = None
        else:
            outcome = await enrollment.redeem(
                session, token, user.id, chat.id, (user.first_name or "")[:200], services.now()
            )
            # Counselors read the program's language; a participant their own.
            catalog = services.catalog if "counselor" in outcome.result else guessed
            if outcome.participant is not None and outcome.result != "participant_created":
                catalog = services.speaking(outcome.participant.language).catalog
            texts = catalog.texts["invites"]
            match outcome.result:
                case "participant_created":
                    outcome.participant.language = catalog.locale
                    others = services.catalogs.others(catalog.locale)
                    message = render.consent(catalog, outcome.name, others)
                case "contact_offered":
                    message = await contacts.offer_to_contact(
                        session, services, outcome.consent, user.id, outcome.name
                    )
                case "participant_already" if outcome.participant.status == "enrolling":
                    message = enrollment_prompt(catalog, outcome.participant)
                case "participant_already" | "counselor_created" | "counselor_already":
                    key = "counselor_welcome" if outcome.result == "counselor_created" else None
                    message = fill(texts[key or outcome.result], name=outcome.name)
                case other:
                    message = texts[other]
    if message is None:
        message = await help_text(update, context)
    await telegram_io.send(context.bot, chat.id, message)
