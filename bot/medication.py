"""A counselor's /medication <participant> ...: the participant found in their caseload, then
care/medication.py sets it up (a participant's own /medication is bot/participant.py's)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import incoming, resolved, telegram_io
from bot.services import services_of
from care import medication
from care.caseload import choose, look_up
from messages.render import Markup, fill


async def counselor_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """/medication <participant> <medication> <times or date> [no-reminder] from a counselor;
    False when the sender is not a counselor."""
    return await counselor_set(update, context, list(context.args or []))


async def counselor_set(
    update: Update, context: ContextTypes.DEFAULT_TYPE, words: list[str]
) -> bool:
    """The counselor's set-up, from the command's words or a participant picked from the list
    it offered (as if their number had been typed): with no participant, or words that fit
    several, a button for each, found through the same caseload rule as /history."""
    services = services_of(context)
    catalog = services.catalog
    texts = catalog.texts["medication"]
    keys = ", ".join(o.key for o in catalog.medications)
    usage = fill(texts["counselor_usage"], keys=keys)
    wanted, entry = medication.split_entry(catalog, words)
    async with services.sessionmaker.begin() as session:
        counselor = await resolved.counselor(session, update, context)
        if counselor is None:
            return False
        found = await look_up(session, counselor, wanted)
        participant = found.participant
        if participant is None:
            message = choose(catalog, "m", found, wanted, usage=usage)
        elif not entry:
            message = fill(texts["counselor_pick"], name=participant.first_name or "",
                           number=participant.id, keys=keys)  # fmt: skip
        else:
            message = await medication.set_by_counselor(services, session, counselor.id,
                                                        participant, entry)  # fmt: skip
            if message is None:
                problem = medication.counselor_problem(services, participant, entry)
                invalid = fill(texts["counselor_invalid"], problem=Markup(texts[problem]))
                message = Markup(invalid + "\n\n" + usage)
    await telegram_io.send(context.bot, incoming.chat_id(update), message)
    return True
