"""/medication: a participant's guided set-up (which medication, dose times or the next
injection date, whether to be reminded), changing it, the answers to dose reminders, and the
counselor's one-line set-up for a participant in their caseload (e.g. at enrollment; the
participant is found, within the counselor's caseload, by bot/medication.py).

Participant functions work in the caller's transaction and return the Reply to send. Where the
set-up stands is a Conversation row, so a restart continues at the same step.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices, safety
from care.reply import Reply, as_typed
from care.services import Services
from db import audit, awaiting, conversations, outbox
from db import medications as medication_db
from db.models import Conversation, Medication, MedicationDose, Participant
from delivery.priority import Priority
from messages import medication as medication_text
from messages.answers import word_list
from messages.callback_data import DoseButton, MedicationButton, MedicationSetupButton
from messages.catalog import Catalog, Question
from messages.render import Markup, Rendered, fill
from scheduler import reminders

FLOW = "medication"
# A dose reminder can be answered for this long; after that its buttons have closed.
ANSWER_WINDOW = timedelta(hours=24)


def _today(services: Services, participant: Participant) -> date:
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    return services.now().astimezone(zone).date()


def view_of(catalog: Catalog, medication: Medication) -> medication_text.MedicationView:
    return medication_text.MedicationView(
        medication.id,
        medication_text.shown_name(catalog, medication.key, medication.name),
        medication.kind,
        tuple(medication.dose_times),
        medication.next_injection_on,
        medication.reminders,
    )


def _interval(services: Services, medication: Medication) -> int | None:
    option = services.catalog.medication(medication.key)
    return option.interval_days if option else None


# --- the participant's /medication -------------------------------------------------------------


async def command(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """/medication: the set-up where it stands, their medications with buttons to change
    them, or the set-up."""
    conversation = await conversations.current(session, participant.id)
    if conversation is not None and conversation.flow == FLOW:
        return ask_again(services, participant, conversation)
    listing = await _listing(services, session, participant)
    if listing is None:
        return await _begin(services, session, participant)
    return Reply([listing])


async def _listing(
    services: Services, session: AsyncSession, participant: Participant
) -> Rendered | None:
    """Their medications with buttons to change them (typed, a button's label or a part of it
    does what it does); None when they have none."""
    current = await medication_db.active(session, participant.id)
    if not current:
        return None
    intervals = {m.id: _interval(services, m) for m in current}
    catalog = services.catalog
    awaiting.asking(session, awaiting.MEDICATIONS, services.now())
    return medication_text.listing(catalog, [view_of(catalog, m) for m in current],
                                   _today(services, participant), intervals)  # fmt: skip


async def list_text(
    services: Services, session: AsyncSession, participant: Participant, typed: str
) -> Reply | None:
    """A typed reply to the /medication list: what the button it stands for does."""
    listing = await _listing(services, session, participant)
    if listing is None:
        awaiting.answered(session, awaiting.MEDICATIONS)
        return None
    read = choices.read(services.catalog, typed, listing)
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, typed, read.again)
    awaiting.answered(session, awaiting.MEDICATIONS)  # what the button does asks anew, if it asks
    if isinstance(read.button, MedicationButton):
        return as_typed(await manage_button(services, session, participant, read.button))
    return as_typed(await setup_button(services, session, participant, read.button))


async def list_question(
    services: Services, session: AsyncSession, participant: Participant
) -> Reply | None:
    listing = await _listing(services, session, participant)
    return Reply([listing]) if listing is not None else None


def ask_again(services: Services, participant: Participant, conversation: Conversation) -> Reply:
    """The question of the step the set-up stands at (asked again now: typed text comes here)."""
    catalog, data = services.catalog, conversation.data
    conversations.touch(conversation, services.now())
    if conversation.step == "which":
        return Reply([medication_text.ask_which(catalog)])
    if conversation.step == "name":
        return Reply([catalog.text("medication", "ask_other")])
    if conversation.step == "reminder":
        kind, times = data["kind"], data.get("times") or ()
        return Reply([medication_text.ask_reminder(catalog, kind, times)])
    return Reply([_ask_when(services, conversation, _today(services, participant))])


async def _begin(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    await conversations.start(session, participant.id, FLOW, "which", {}, services.now())
    return Reply([medication_text.ask_which(services.catalog)], clear_pressed=True)


async def _picked(
    services: Services, conversation: Conversation, key: str, name: str, kind: str
) -> Reply:
    """A medication chosen: ask its dose times, or its next injection date."""
    step = "times" if kind == "daily" else "date"
    conversations.advance(conversation, step, services.now(), key=key, name=name, kind=kind)
    return Reply([_ask_when(services, conversation)], clear_pressed=True)


def _ask_when(services: Services, conversation: Conversation, today: date | None = None):
    data = conversation.data
    if conversation.step == "times":
        return medication_text.ask_times(services.catalog, data["name"])
    return medication_text.ask_date(services.catalog, data["name"], today or services.now().date())


async def setup_button(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    data: MedicationSetupButton,
) -> Reply:
    catalog = services.catalog
    expired = Reply(toast=catalog.text("general", "expired_button"))
    if data.action == "a":
        return await _begin(services, session, participant)
    conversation = await conversations.current(session, participant.id)
    if conversation is None or conversation.flow != FLOW:
        return expired
    step = conversation.step
    if data.action == "p" and step == "which":
        if data.value == "none":
            await conversations.end(session, participant.id)
            return Reply([catalog.text("medication", "none_reply")], clear_pressed=True)
        if data.value == medication_text.OTHER:
            conversations.advance(conversation, "name", services.now())
            return Reply([catalog.text("medication", "ask_other")], clear_pressed=True)
        option = catalog.medication(data.value)
        if option is not None:
            return await _picked(services, conversation, option.key, option.name, option.kind)
    if data.action == "t" and step == "times":
        times = medication_text.parse_dose_times(data.value)
        if times is not None:
            return await _when_chosen(services, session, participant, conversation, times=times)
    if data.action == "r" and step == "reminder" and data.value in ("y", "n"):
        return await _save(services, session, participant, conversation, data.value == "y")
    return expired


async def _when_chosen(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    conversation: Conversation,
    times: tuple[str, ...] = (),
    on: date | None = None,
) -> Reply:
    """Times or date known: a change to an existing medication is saved as it stands; a new
    one asks about reminders first."""
    now = services.now()
    conversations.advance(conversation, "reminder", now, times=list(times),
                          date=on.isoformat() if on else None)  # fmt: skip
    medication_id = conversation.data.get("medication_id")
    if medication_id is not None:
        medication = await session.get(Medication, medication_id)
        if medication is not None and medication.participant_id == participant.id:
            return await _save(services, session, participant, conversation, medication.reminders)
    ask = medication_text.ask_reminder(services.catalog, conversation.data["kind"], times)
    return Reply([ask], clear_pressed=True)


def _same(medication: Medication, key: str, name: str) -> bool:
    if key != medication_text.OTHER:
        return medication.key == key
    return medication.key == key and medication.name.casefold() == name.casefold()


async def _save(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    conversation: Conversation,
    remind: bool,
) -> Reply:
    now, data = services.now(), conversation.data
    on = date.fromisoformat(data["date"]) if data.get("date") else None
    medication = None
    if data.get("medication_id") is not None:
        medication = await session.get(Medication, data["medication_id"])
        mine = medication is not None and medication.participant_id == participant.id
        if medication is None or not mine or medication.status != medication_db.ACTIVE:
            medication = None
    if medication is None:
        # Set up again (e.g. "Add a medication" for one they have): change it, not a double.
        medication = next((m for m in await medication_db.active(session, participant.id)
                           if _same(m, data["key"], data["name"])), None)  # fmt: skip
    if medication is None:
        medication = medication_db.add(
            session, participant.id, data["key"], data["name"], data["kind"], now,
            "participant", dose_times=data.get("times"), injection_on=on, reminders=remind,
        )  # fmt: skip
        await session.flush()
        action = "medication_added"
    else:
        medication.dose_times = list(data.get("times") or medication.dose_times)
        medication.next_injection_on = on or medication.next_injection_on
        medication.reminders, medication.updated_at = remind, now
        action = "medication_changed"
    reminders.schedule(services.catalog, medication, participant.timezone, now)
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, action, subject, {"medication_id": medication.id})
    await conversations.end(session, participant.id)
    today, interval = _today(services, participant), _interval(services, medication)
    view = view_of(services.catalog, medication)
    saved = medication_text.saved(services.catalog, view, today, interval)
    return Reply([saved], clear_pressed=True)


async def text(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    conversation: Conversation,
    typed: str,
) -> Reply:
    """Typed text at the step the set-up stands at."""
    catalog, now = services.catalog, services.now()
    conversations.touch(conversation, now)
    step, words = conversation.step, " ".join(typed.casefold().split())
    today = _today(services, participant)
    shown = typed if len(typed) <= 40 else typed[:40] + "…"
    if step == "which":
        option = _named(services, words)
        if option is not None:
            return await _picked(services, conversation, option.key, option.name, option.kind)
        read = choices.read(catalog, typed, medication_text.ask_which(catalog),
                            no=MedicationSetupButton("p", "none"),
                            words=_use_words(catalog, "no", MedicationSetupButton("p", "none")))
        if read.button is not None:
            return as_typed(await setup_button(services, session, participant, read.button))
        if read.ambiguous:
            return await safety.not_an_answer(session, services, participant, typed, read.again)
    if step in ("which", "name"):
        name = medication_text.parse_name(typed)
        if name is None:
            again = Rendered(catalog.text("medication", "name_invalid"))
            return await safety.not_an_answer(session, services, participant, typed, again)
        urgent, _ = await safety.screen_setup_text(session, services, participant, typed, True)
        reply = await _picked(services, conversation, medication_text.OTHER, name, "daily")
        reply.urgent = urgent
        return reply
    if step == "times":
        times = medication_text.parse_dose_times(typed)
        if times is None:
            again = medication_text.ask_times(catalog, conversation.data["name"])
            message = fill(catalog.text("medication", "times_invalid"), text=shown)
            return await safety.not_an_answer(session, services, participant, typed,
                                   Rendered(message, again.buttons))  # fmt: skip
        return await _when_chosen(services, session, participant, conversation, times=times)
    if step == "date":
        on = medication_text.parse_date(typed, today, catalog.dates.months)
        if on is None:
            message = fill(catalog.text("medication", "date_invalid"), text=shown,
                           example=medication_text.date_example(today))  # fmt: skip
            again = Rendered(message)
            return await safety.not_an_answer(session, services, participant, typed, again)
        return await _when_chosen(services, session, participant, conversation, on=on)
    # The reminder question: a tap, or typed: yes / no (the content's words, and those the
    # check-in's yes / no question takes), or a button's label.
    yes, no = MedicationSetupButton("r", "y"), MedicationSetupButton("r", "n")
    ask = medication_text.ask_reminder(catalog, conversation.data["kind"],
                                       conversation.data.get("times") or ())  # fmt: skip
    read = choices.read(catalog, typed, ask, yes=yes, no=no,
                        words=[*_use_words(catalog, "yes", yes), *_use_words(catalog, "no", no)])
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, typed, read.again)
    return await _save(services, session, participant, conversation, read.button.value == "y")


def _use_words(catalog: Catalog, value: str, button: MedicationSetupButton):
    """The words the check-in's yes / no question takes for `value`, standing for `button`."""
    option = catalog.questions["use"].option(value)
    assert option is not None, f"the use question has no option {value!r}"  # content checks it
    return [(word_list(", ".join(option.typed)), button)]


def _named(services: Services, words: str):
    """The content's medication a participant typed the name of, if any."""
    for option in services.catalog.medications:
        if words in (option.key, option.name.casefold(), option.button.casefold()):
            return option
    return None


async def manage_button(
    services: Services, session: AsyncSession, participant: Participant, data: MedicationButton
) -> Reply:
    """Change a time or date, reminders on or off, or "I stopped taking it"."""
    catalog, now = services.catalog, services.now()
    medication = await session.get(Medication, data.medication_id)
    if (
        medication is None
        or medication.participant_id != participant.id
        or medication.status != medication_db.ACTIVE
    ):
        return Reply(toast=catalog.text("general", "expired_button"))
    texts = catalog.texts["medication"]
    awaiting.answered(session, awaiting.MEDICATIONS)  # its buttons go; a change asks anew
    if data.action == "t":
        step = "times" if medication.kind == "daily" else "date"
        conversation = await conversations.start(
            session, participant.id, FLOW, step,
            {"medication_id": medication.id, "key": medication.key, "name": medication.name,
             "kind": medication.kind}, now,
        )  # fmt: skip
        today = _today(services, participant)
        return Reply([_ask_when(services, conversation, today)], clear_pressed=True)
    if data.action == "r":
        medication.reminders, medication.updated_at = not medication.reminders, now
        reminders.schedule(catalog, medication, participant.timezone, now)
        subject = f"participant:{participant.id}"
        audit.record(session, now, subject, "medication_reminders", subject,
                     {"medication_id": medication.id, "on": medication.reminders})  # fmt: skip
        key = "reminders_turned_on" if medication.reminders else "reminders_turned_off"
        name = medication_text.shown_name(catalog, medication.key, medication.name)
        return Reply([fill(texts[key], medication=name)], clear_pressed=True)
    urgent = await safety.medication_stop(session, services, participant, [medication])
    return Reply(urgent=urgent, clear_pressed=True)


async def dose_button(
    services: Services, session: AsyncSession, participant: Participant, data: DoseButton
) -> Reply:
    """Taken, not yet, or skipped today: recorded; two skipped days in a row raise a watch."""
    catalog, now = services.catalog, services.now()
    texts = catalog.texts["medication"]
    dose = await session.get(MedicationDose, data.dose_id)
    if dose is None or dose.participant_id != participant.id:
        return Reply(toast=catalog.text("general", "not_for_you"))
    if now - dose.due_at > ANSWER_WINDOW:
        return Reply(toast=texts["dose_closed"])
    medication = await session.get(Medication, dose.medication_id)
    name = ""
    if medication is not None:
        name = medication_text.shown_name(catalog, medication.key, medication.name)
    if data.answer != "n":
        awaiting.answered(session, awaiting.DOSE, dose.id)
    if data.answer == "n":
        medication_db.answer_dose(dose, "not_yet", now)
        return Reply(toast=texts["answered_not_yet"])  # the buttons stay for later
    if data.answer == "t":
        medication_db.answer_dose(dose, "taken", now)
        return Reply(edit_pressed=fill(texts["answered_taken"], medication=name))
    medication_db.answer_dose(dose, "skipped", now)
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    await safety.medication_skipped(session, services, participant,
                                    dose.due_at.astimezone(zone).date())  # fmt: skip
    line = fill("{answer}", answer=f"{name}: {texts['skipped']}")
    return Reply([texts["answered_skipped"]], edit_pressed=line)


async def dose_text(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    dose_id: int | None,
    typed: str,
) -> Reply | None:
    """"Taken?" answered in words: taken, not yet, skipped (or yes / no, or a number)."""
    catalog = services.catalog
    texts = catalog.texts["medication"]
    dose = await session.get(MedicationDose, dose_id) if dose_id is not None else None
    if (
        dose is None
        or dose.participant_id != participant.id
        or dose.answer not in (None, "not_yet")
        or services.now() - dose.due_at > ANSWER_WINDOW
    ):
        awaiting.answered(session, awaiting.DOSE, dose_id)
        return None  # that reminder has closed: the words go on as any others would
    reminder = medication_text.dose_reminder(catalog, dose.id, "", "")
    question = Rendered(Markup(texts["dose_typed_question"]), reminder.buttons)
    read = choices.read(catalog, typed, question, yes=DoseButton(dose.id, "t"),
                        no=DoseButton(dose.id, "n"))  # fmt: skip
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, typed, read.again)
    return as_typed(await dose_button(services, session, participant, read.button))


# --- enrollment and the counselor ---------------------------------------------------------------


async def after_enrollment(
    services: Services, session: AsyncSession, participant: Participant
) -> list[Rendered]:
    """Their zone is known now: schedule what a counselor set up during enrollment, and tell
    them about it."""
    now = services.now()
    await reminders.reschedule_all(session, services.catalog, participant, now)
    told = []
    for medication in await medication_db.active(session, participant.id):
        summary = medication_text.summary(services.catalog, view_of(services.catalog, medication),
                                          _today(services, participant),
                                          _interval(services, medication))  # fmt: skip
        told.append(Rendered(fill(services.catalog.text("medication", "counselor_told"),
                                  summary=summary)))  # fmt: skip
    return told


def _typed_words(question: Question, value: str) -> set[str]:
    """The words typed for one of a question's answers (content lists them, lower case)."""
    option = question.option(value)
    return set(option.typed) if option is not None else set()


def split_entry(catalog: Catalog, words: list[str]) -> tuple[str, list[str]]:
    """The words naming the participant (a number, a name of several words, a first name or
    the start of one), and the medication entry after them: it starts at the first word that
    is a medication's key."""
    start = next((i for i, word in enumerate(words)
                  if catalog.medication(word.casefold().replace("_", "-")) is not None),
                 len(words))  # fmt: skip
    return " ".join(words[:start]), words[start:]


def counselor_problem(services: Services, participant: Participant, words: list[str]) -> str:
    entry = medication_text.parse_counselor_entry(
        services.catalog, words, _today(services, participant)
    )
    return entry if isinstance(entry, str) else "problem_medication"


async def set_by_counselor(
    services: Services,
    session: AsyncSession,
    counselor_id: int,
    participant: Participant,
    words: list[str],
) -> Markup | None:
    """Set the medication (replacing an active one of the same kind of medication) and tell
    the participant once they are enrolled; None when the words can't be read."""
    catalog, now = services.catalog, services.now()
    texts = catalog.texts["medication"]
    today = _today(services, participant)
    entry = medication_text.parse_counselor_entry(catalog, words, today)
    if isinstance(entry, str):
        return None
    option = entry.option
    existing = [m for m in await medication_db.active(session, participant.id)
                if m.key == option.key]  # fmt: skip
    if existing:
        medication = existing[0]
        medication.dose_times, medication.next_injection_on = (
            list(entry.dose_times),
            entry.injection_on,
        )
        medication.reminders, medication.updated_at = entry.reminders, now
    else:
        medication = medication_db.add(
            session, participant.id, option.key, option.name, option.kind, now,
            f"counselor:{counselor_id}", dose_times=list(entry.dose_times),
            injection_on=entry.injection_on, reminders=entry.reminders,
        )  # fmt: skip
        await session.flush()
    # While they are still enrolling their zone is unknown: enrollment's end schedules it.
    reminders.schedule(catalog, medication, participant.timezone, now)
    audit.record(session, now, f"counselor:{counselor_id}", "medication_set",
                 f"participant:{participant.id}", {"medication_id": medication.id})  # fmt: skip
    summary = medication_text.summary(catalog, view_of(catalog, medication), today,
                                      option.interval_days)  # fmt: skip
    if participant.status != "enrolling" and participant.chat_id is not None:
        theirs = services.speaking(participant.language).catalog  # told in their own language
        their_summary = medication_text.summary(theirs, view_of(theirs, medication), today,
                                                option.interval_days)  # fmt: skip
        told = Rendered(fill(theirs.text("medication", "counselor_told"), summary=their_summary))
        await outbox.enqueue(session, f"medication:{medication.id}:set:{now.isoformat()}",
                             participant.chat_id, told.payload(), Priority.REPLY, now,
                             participant_id=participant.id)  # fmt: skip
    return fill(texts["counselor_saved"], name=participant.first_name or "", summary=summary)
