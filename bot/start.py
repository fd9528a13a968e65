"""/start, with or without a deep-link token: the front door for everyone."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.common import help_text
from bot.services import services_of
from care import contacts
from care.enrollment import prompt as enrollment_prompt
from db import enrollment
from messages import render
from messages.render import Rendered, fill


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = services_of(context)
    user, chat_id = incoming.sender(update), incoming.chat_id(update)
    token = context.args[0] if context.args else ""
    # Until we know who this is: the language of their Telegram, when we ship it.
    guessed = services.speaking(services.catalogs.match(user.language_code)).catalog

    message: Rendered | str | None
    async with services.sessionmaker.begin() as session:
        if not token:
            participant = await resolved.participant(session, update, context)
            if participant is not None and participant.status == "enrolling":
                theirs = services.speaking(participant.language).catalog
                message = enrollment_prompt(theirs, participant)
            else:
                message = None
        else:
            outcome = await enrollment.redeem(
                session, token, user.id, chat_id, (user.first_name or "")[:200], services.now()
            )
            # Counselors read the program's language; a participant their own.
            catalog = services.catalog if "counselor" in outcome.result else guessed
            if outcome.participant is not None and outcome.result != "participant_created":
                catalog = services.speaking(outcome.participant.language).catalog
            texts = catalog.texts["invites"]
            # redeem() sets the participant, or the consent, for the results that name them.
            participant, consent = outcome.participant, outcome.consent
            match outcome.result:
                case "participant_created" if participant is not None:
                    participant.language = catalog.locale
                    others = services.catalogs.others(catalog.locale)
                    message = render.consent(catalog, outcome.name, others)
                case "contact_offered" if consent is not None:
                    message = await contacts.offer_to_contact(
                        session, services, consent, user.id, outcome.name
                    )
                case "participant_already" if participant and participant.status == "enrolling":
                    message = enrollment_prompt(catalog, participant)
                case "participant_already" | "counselor_created" | "counselor_already":
                    key = "counselor_welcome" if outcome.result == "counselor_created" else None
                    message = fill(texts[key or outcome.result], name=outcome.name)
                case other:
                    message = texts[other]
    if message is None:  # no token: nothing about who is writing changed
        message = await help_text(update, context)
    await telegram_io.send(context.bot, chat_id, message)
