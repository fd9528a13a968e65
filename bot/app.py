"""The Application factory: every handler, grouped by audience, in one routing table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from types import UnionType

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    PrefixHandler,
    TypeHandler,
    filters,
)

from bot import (
    common,
    contacts,
    conversation,
    counselor,
    discharge,
    gate,
    incoming,
    meetings,
    participant,
    privacy,
    start,
)
from bot.dashboard import command as dashboard_command
from bot.update_order import PerChatUpdateProcessor
from care.services import Services
from db import outbox, state
from delivery.dispatcher import Dispatcher
from delivery.http_request import AiohttpRequest
from delivery.rate_limit import PriorityRateLimiter
from messages import callback_data as cd
from messages.catalog import Catalogs
from scheduler.jobs import Intervals, build_scheduler
from scheduler.retention import Retention

log = logging.getLogger(__name__)

# Handler groups run in order; a gate raising ApplicationHandlerStop ends the update there.
GROUP_GATE = -20
GROUP_STORE = -10
GROUP_ASKED = -5
GROUP_MAIN = 0
GROUP_DONE = 100
SHUTDOWN_GRACE_SECONDS = 10.0  # for running jobs to finish at a stop
MENU = ("checkin", "coping", "sos", "plan", "meetings", "medication", "help")


class TypedCommandHandler(PrefixHandler):
    """A command read from the text alone. PTB's PrefixHandler takes the text's first word
    unguarded, so text with no words at all (spaces Telegram does not trim, such as U+3000)
    raised before any handler ran; such text goes on to the text handlers instead."""

    def check_update(self, update: object):
        message = update.effective_message if isinstance(update, Update) else None
        if message is not None and message.text is not None and not message.text.split():
            return None
        return super().check_update(update)


def _pressed(kinds: type | UnionType | tuple[type, ...], callback) -> CallbackQueryHandler:
    """A handler for one kind of button: PTB calls `pattern` with the callback data, and the
    callback gets the decoded button as its third argument."""

    async def handle(update: Update, context) -> None:
        await callback(update, context, cd.decode(incoming.button(update).data))

    def pattern(data: object) -> bool:  # our buttons' data is always a string
        return isinstance(data, str) and isinstance(cd.decode(data), kinds)

    return CallbackQueryHandler(handle, pattern=pattern)


def button_handlers() -> list[CallbackQueryHandler]:
    """Every kind of button and who handles it; anything else is a stale or forged press."""
    return [
        _pressed(cd.AnswerButton, participant.on_answer_press),
        _pressed(cd.AlertButton, counselor.on_alert_button),
        _pressed(cd.PickButton, counselor.on_pick),
        _pressed(cd.ContactOfferButton, contacts.on_offer_button),
        _pressed(cd.ContactAnswerButton, contacts.on_answer_button),
        _pressed(cd.ContactLanguageButton, contacts.on_language_button),
        _pressed(cd.MeetingButton, meetings.on_button),
        _pressed(cd.DischargeButton, discharge.on_button),
        _pressed(cd.ErasureButton, privacy.on_erasure_button),
        _pressed(cd.SafetyAskButton, participant.on_safety_ask_press),
        _pressed(cd.SosButton, participant.on_sos_press),
        _pressed(cd.CopingButton, participant.on_coping_press),
        _pressed((cd.PlanButton, cd.MedicationSetupButton, cd.MedicationButton, cd.DoseButton),
                 participant.on_setup_press),  # fmt: skip
        _pressed((cd.ConsentButton, cd.TimezoneButton, cd.TimeButton, cd.WeekdayButton,
                  cd.SettingsButton, cd.QuietButton, cd.LanguageButton),
                 participant.on_step_press),  # fmt: skip
        CallbackQueryHandler(participant.on_unknown_press),
    ]


def register_handlers(app: Application, catalogs: Catalogs) -> None:
    new_messages = filters.UpdateType.MESSAGE  # edits are handled on their own, below
    # The "I need help now" button, in every language a participant may have chosen.
    help_button = filters.Text(
        sorted({catalogs.get(code).text("crisis", "help_button") for code in catalogs.locales()})
    )
    commands = [
        # everyone
        ("start", start.on_start),
        ("help", common.on_help),
        # counselors
        ("invite", counselor.on_invite),
        ("flags", counselor.on_flags),
        ("caseload", counselor.on_caseload),
        ("history", counselor.on_history),
        ("discharge", discharge.on_discharge),
        ("dashboard", dashboard_command.on_dashboard),
        # participants
        ("checkin", participant.on_checkin_command),
        ("sos", participant.on_sos),
        ("coping", participant.on_coping),
        ("meetings", meetings.on_meetings),
        ("plan", participant.on_plan),
        # a participant's own; a counselor's for someone in their caseload
        ("medication", participant.on_medication),
        ("contact", contacts.on_contact),
        ("settings", participant.on_settings),
        ("pause", participant.on_pause),
        ("resume", participant.on_resume),
        ("mydata", privacy.on_mydata),
        ("deleteme", privacy.on_deleteme),
        # support contacts
        ("stop", contacts.on_stop),
    ]

    app.add_handler(TypeHandler(Update, gate.private_chats_only), group=GROUP_GATE)
    app.add_handler(TypeHandler(Update, gate.store_update), group=GROUP_STORE)
    # Any command sets aside what was asked before it; a command that asks writes anew.
    commands_sent = new_messages & (filters.COMMAND | filters.Regex(r"^/"))
    app.add_handler(MessageHandler(commands_sent, gate.set_aside_question), group=GROUP_ASKED)

    app.add_handlers(
        [
            *(CommandHandler(name, callback, filters=new_messages) for name, callback in commands),
            # Some Bot API servers omit the bot_command entity; read the text as a command too.
            *(
                TypedCommandHandler("/", name, callback, filters=new_messages)
                for name, callback in commands
            ),
            *button_handlers(),
            MessageHandler(new_messages & help_button, participant.on_sos),
            MessageHandler(
                new_messages & (filters.COMMAND | filters.Regex(r"^/")), common.on_unknown_command
            ),
            MessageHandler(new_messages & filters.TEXT, conversation.on_text),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, common.on_edited_message),
            MessageHandler(new_messages, participant.on_media),
            ChatMemberHandler(gate.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        ],
        group=GROUP_MAIN,
    )

    app.add_handler(TypeHandler(Update, gate.mark_processed), group=GROUP_DONE)
    app.add_error_handler(common.on_error)


async def _post_init(app: Application) -> None:
    services: Services = app.bot_data["services"]
    catalog = services.catalog
    async with services.sessionmaker.begin() as session:
        await state.put(session, "bot_username", app.bot.username)
    try:
        await app.bot.set_my_commands(
            [BotCommand(name, catalog.text("commands", name)) for name in MENU]
        )
        # People whose Telegram is in another language we ship see the menu in it.
        for code in services.catalogs.locales():
            if code != catalog.locale:
                words = services.catalogs.get(code)
                await app.bot.set_my_commands(
                    [BotCommand(name, words.text("commands", name)) for name in MENU],
                    language_code=code,
                )
    except TelegramError as exc:  # a menu is a convenience; never a reason not to start
        log.warning("could not set the command menu: %s", exc)
    if services.run_jobs:
        settings = services.settings
        lease = timedelta(seconds=settings.outbox_lease_seconds)
        dispatcher = Dispatcher(services.sessionmaker, app.bot, services.now, catalog, lease=lease,
                                team_chat_id=settings.counselor_team_chat_id,
                                dashboard_url=settings.dashboard_url,
                                paid=settings.paid_policy(),
                                free_per_second=settings.rate_global_per_second)  # fmt: skip
        outbox.on_urgent_commit(services.sessionmaker, dispatcher.wake)
        app.bot_data["dispatcher"] = dispatcher
        lanes = [asyncio.create_task(dispatcher.serve_urgent(), name="urgent-dispatch")]
        if dispatcher.paid_policy.enabled:  # two, so one's database work overlaps the other's sends
            lanes += [asyncio.create_task(dispatcher.serve_paid(), name=f"paid-dispatch-{n}")
                      for n in range(2)]  # fmt: skip
        app.bot_data["dispatch_lanes"] = lanes
        scheduler = build_scheduler(
            services.sessionmaker,
            catalog,
            dispatcher,
            services.now,
            settings.response_window,
            Intervals(
                settings.tick_interval_seconds,
                settings.dispatch_interval_seconds,
                settings.sweep_interval_seconds,
            ),
            settings.escalation_timeouts(),
            catalogs=services.catalogs,
            team_chat_id=settings.counselor_team_chat_id,
            retention=Retention(settings.retention_months, settings.message_retention_days),
            safety_ask_wait=timedelta(minutes=settings.safety_ask_timeout_minutes),
        )
        scheduler.start()
        app.bot_data["scheduler"] = scheduler


async def _stop_sending(app: Application) -> None:
    # In order, while the bot's HTTP client is still open: nothing new is claimed, sends still
    # waiting in the rate limiter fail (they go after a restart), the running jobs and the
    # urgent lane record the outcomes of the sends already in flight, and only then does the
    # client close. Closing it first cut those sends off after Telegram had them: sent, but
    # still queued, so sent twice after the restart. Cancelling the jobs mid-query, as before
    # that, left a traceback at every stop on PostgreSQL.
    dispatcher = app.bot_data.pop("dispatcher", None)
    if dispatcher is not None:
        dispatcher.close()
    limiter = app.bot.rate_limiter
    if limiter is not None:
        await limiter.shutdown()
    scheduler = app.bot_data.pop("scheduler", None)
    if scheduler is not None:
        await scheduler.stop(SHUTDOWN_GRACE_SECONDS)
    lanes = app.bot_data.pop("dispatch_lanes", [])
    if lanes:
        _, late = await asyncio.wait(lanes, timeout=SHUTDOWN_GRACE_SECONDS)
        for lane in late:
            lane.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lane


async def stop_application(app: Application) -> None:
    """Stop what start began, in order: updates, then our jobs and sends, then PTB's bot
    and its HTTP client, then the database (every way of running calls this)."""
    if app.running:
        await app.stop()
    await _stop_sending(app)
    await app.shutdown()
    services: Services = app.bot_data["services"]
    await services.engine.dispose()


def build_application(
    services: Services, application_class: type[Application] = Application
) -> Application:
    settings = services.settings
    token = settings.token()
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    app = (
        ApplicationBuilder()
        .application_class(application_class)
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.base_file_url)
        # Every send on aiohttp's client (delivery/http_request.py); getUpdates keeps PTB's own.
        .request(AiohttpRequest())
        .rate_limiter(
            PriorityRateLimiter(
                per_second=settings.rate_global_per_second,
                chat_interval=settings.rate_chat_interval_seconds,
                group_interval=60.0 / settings.rate_group_per_minute,
                max_retries=settings.send_max_retries,
                paid_per_second=settings.paid_broadcast_per_second,
            )
        )
        .concurrent_updates(PerChatUpdateProcessor(settings.max_concurrent_updates))
        # Our own polling loop takes updates in (bot/polling.py): PTB's Updater confirms them
        # to Telegram before they are stored.
        .updater(None)
        .post_init(_post_init)
        .build()
    )
    app.bot_data["services"] = services
    register_handlers(app, services.catalogs)
    return app
