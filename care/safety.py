"""Responding to risk: crisis resources, the lapse and overdose-safety messages, a coping prompt
for a strong craving, the participant's own plan at those moments, stopped or skipped
medication, and the alert that goes with each. One place, so a check-in answer, free text, a
reminder's answer, /sos and the "I need help now" button all answer the same way.

Each function works inside the caller's transaction and returns the messages to send, in order;
the caller sends them before anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from care.reply import Reply
from care.services import Services
from db import audit, notes, plans, safety_asks
from db import checkins as checkin_db
from db import medications as medication_db
from db.models import CheckIn, Medication, Note, Participant
from messages import coping, render, safety_ask
from messages import plan as plan_text
from messages.medication import shown_name
from messages.render import Markup, fill
from messages.risk import PastCheckin, RiskAssessment, assess, assess_adherence, medication_stopped
from messages.screen import ScreenResult, language_of, screen
from scheduler import alerting
from scheduler.schedule import next_monitored, parse_days, parse_hours

HISTORY = 10
EXCERPT = 300  # characters of free text quoted to the counselor
# Text that is not an answer is kept as a note once it reads like more than a slip.
NOTE_MIN_WORDS = 4
# With no plan yet, a hard moment offers to make one at most this often.
PLAN_OFFER_EVERY = timedelta(days=7)


def local_today(services: Services, participant: Participant, now: datetime):
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    return now.astimezone(zone).date()


def days_in_recovery(services: Services, participant: Participant, now: datetime) -> int:
    """Day N, counting the day of discharge as day 1. A lapse never resets it."""
    today = local_today(services, participant, now)
    start = participant.recovery_start or today
    return (today - start).days + 1


async def alert(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    level: str,
    cause: str,
    reasons: Sequence[str],
    checkin_id: int | None = None,
    current: dict[str, str] | None = None,
) -> bool:
    """Raise (or update) an alert; True when a person will be told about it. `current` is the
    check-in being answered, for the counselor's trend line."""
    # Counselors read the program's language, whatever the participant's.
    raised = await alerting.raise_alert(
        session, services.program_catalog, participant, level, cause, reasons, services.now(),
        checkin_id, current, team_chat_id=services.settings.counselor_team_chat_id,
    )  # fmt: skip
    return raised.notified


def _when_seen(services: Services) -> list[render.Rendered]:
    later = outside_hours(services)
    return [later] if later is not None else []


def outside_hours(services: Services) -> render.Rendered | None:
    """When nobody is watching, say honestly when a person will see it."""
    settings = services.settings
    begins = next_monitored(
        services.now(),
        parse_hours(settings.monitored_hours),
        parse_days(settings.monitored_days),
        settings.default_timezone,
    )
    if begins is None:
        return None
    zone = ZoneInfo(settings.default_timezone)
    when = render.when(services.catalog, begins.astimezone(zone),
                       services.now().astimezone(zone).date())  # fmt: skip
    return render.Rendered(fill(services.catalog.text("alerts", "outside_hours"), when=when))


async def crisis(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    cause: str,
    reasons: Sequence[str],
    checkin_id: int | None = None,
) -> list[render.Rendered]:
    alerted = await alert(session, services, participant, "crisis", cause, reasons, checkin_id)
    return [render.crisis(services.catalog, alerted), *_when_seen(services)]


async def your_plan(
    session: AsyncSession, services: Services, participant: Participant
) -> list[render.Rendered]:
    """Their own plan for a hard moment; with none yet, an offer to make one, at most weekly.
    Callers put it after the crisis resources or the safety message, never before."""
    plan = await plans.of(session, participant.id)
    if plans.has_content(plan):
        content = plan_text.PlanContent.of(plan.people, plan.first_steps, plan.reasons)
        return [plan_text.at_hard_moment(services.catalog, content)]
    if await plans.claim_offer(session, participant.id, services.now(), PLAN_OFFER_EVERY):
        return [plan_text.offer(services.catalog)]
    return []


async def lapse(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    cause: str,
    reasons: Sequence[str],
    checkin_id: int | None = None,
) -> list[render.Rendered]:
    await alert(session, services, participant, "high", cause, reasons, checkin_id)
    days = days_in_recovery(services, participant, services.now())
    plan = await your_plan(session, services, participant)
    return render.lapse(services.catalog, days) + plan + _when_seen(services)


def coping_prompt(
    services: Services,
    participant: Participant,
    assessment: RiskAssessment | None,
    intro_section: str = "coping",
) -> render.Rendered:
    stage = assessment.stage if assessment else None
    triggers = assessment.triggers if assessment else frozenset()
    prompt = coping.choose(services.catalog, stage, triggers, participant.last_coping_key)
    participant.last_coping_key = prompt.key
    return render.coping(services.catalog, prompt, intro_section)


async def craving(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    cause: str,
    assessment: RiskAssessment,
    checkin_id: int | None = None,
) -> list[render.Rendered]:
    await alert(session, services, participant, "high", cause, assessment.reasons, checkin_id)
    prompt = coping_prompt(services, participant, assessment, "craving")
    plan = await your_plan(session, services, participant)
    return [prompt, *plan, *_when_seen(services)]


async def history_of(
    session: AsyncSession, services: Services, participant: Participant, before: datetime
) -> list[PastCheckin]:
    """Recent check-ins for the risk rules, newest first."""
    zone = ZoneInfo(participant.timezone or services.settings.default_timezone)
    rows = await checkin_db.history(session, participant.id, before, HISTORY)
    return [
        PastCheckin(c.slot_at.astimezone(zone).date(), answers, missed=c.status == "missed")
        for c, answers in rows
    ]


async def on_answer(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    checkin: CheckIn,
    answers: dict[str, str],
    key: str,
    value: str,
) -> tuple[list[render.Rendered], RiskAssessment]:
    """The immediate responses an answer calls for, each at most once per check-in, and the
    assessment of the answers so far."""
    catalog, program = services.catalog, services.program_catalog
    question = catalog.questions[key]
    meaning = question.risk_of(value)
    history = await history_of(session, services, participant, checkin.slot_at)
    # Levels are the same in every language; the reasons are for the counselor, in theirs.
    assessment = assess(program, answers, history)
    reply: list[render.Rendered] = []
    reasons = assessment.reasons or (program.questions[key].summary_label,)
    # Any crisis answer, and any yes in the safety screen, brings the resources at once.
    resources = meaning == "crisis" or (question.stage == "safety" and meaning != "none")
    if resources and checkin_db.add_response(checkin, "resources"):
        reply.append(render.crisis(catalog, participant.counselor_id is not None))
        reply += _when_seen(services)
    # The alert follows the level: high for a first yes in the screen, crisis once it is one.
    if assessment.level == "crisis" and checkin_db.add_response(checkin, "crisis_alert"):
        await alert(session, services, participant, "crisis", "checkin", reasons, checkin.id,
                    answers)  # fmt: skip
    elif resources and checkin_db.add_response(checkin, "screen_alert"):
        await alert(session, services, participant, "high", "checkin", reasons, checkin.id,
                    answers)  # fmt: skip
    if meaning == "lapse" and checkin_db.add_response(checkin, "lapse"):
        reply += await lapse(session, services, participant, "lapse", assessment.reasons,
                             checkin.id)  # fmt: skip
    if key == "craving" and assessment.high_craving and checkin_db.add_response(checkin, "coping"):
        reply += await craving(session, services, participant, "craving", assessment, checkin.id)
    rules = catalog.medication_rules
    if key == rules.adherence_question:
        if value == rules.stopped_answer and checkin_db.add_response(checkin, "medication"):
            daily = [m for m in await medication_db.active(session, participant.id)
                     if m.kind == "daily"]  # fmt: skip
            # The counselor also reads what else this check-in has shown so far.
            others = assess(program, {k: v for k, v in answers.items() if k != key}, history)
            reply += await medication_stop(session, services, participant, daily, checkin.id,
                                           others.reasons)  # fmt: skip
        elif value == rules.skipped_answer:
            day = checkin.slot_at.astimezone(_zone(services, participant)).date()
            await medication_skipped(session, services, participant, day, checkin.id)
    return reply, assessment


async def on_complete(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    checkin: CheckIn,
    assessment: RiskAssessment,
) -> None:
    """Keep the final assessment (the last answer's, from on_answer); alert for what no
    immediate response has covered yet."""
    checkin.risk_level = assessment.level
    already = set(checkin.responses or [])
    covered = {"crisis_alert", "screen_alert", "lapse", "coping", "medication"}
    if assessment.level == "high" and not already & covered:
        await alert(session, services, participant, "high", "checkin", assessment.reasons,
                    checkin.id)  # fmt: skip


async def on_free_text(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    result: ScreenResult,
    text: str,
    checkin_id: int | None,
    note: Note | None = None,
) -> list[render.Rendered]:
    """Responses to risky free text (see messages/screen.py); the caller keeps the text as
    `note`. The counselor gets an excerpt and why it was flagged: what was written matters for
    how they respond. A crisis gets the resources (Spanish ones too for a Spanish message); a
    message the screen is unsure of gets the direct question; a lapse gets its response beside
    either; a craving gets a coping prompt unless a crisis or a lapse answers it already."""
    catalog = services.catalog
    excerpt = text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
    wrote = services.program_catalog.text("reasons", "wrote")  # the words as written
    reasons = [wrote.format(topics=result.explain(), excerpt=excerpt)]
    reply: list[render.Rendered] = []
    if result.crisis:
        reply += await crisis(session, services, participant, "screen", reasons, checkin_id)
        # Spanish ways in, for a Spanish message from someone who reads another language.
        if language_of(text, catalog.screen) == "es" and catalog.locale != "es":
            reply.insert(1, render.Rendered(catalog.text("crisis", "spanish")))
    elif result.ask:
        if note is None:
            note = notes.save_note(session, participant.id, text, services.now(), checkin_id)
        asked = await safety_asks.ask(session, participant.id, note, result.explain(),
                                      services.now())  # fmt: skip
        reply.append(safety_ask.question(catalog, asked.id))
    if result.lapse:
        reply += await lapse(session, services, participant, "screen", reasons, checkin_id)
    elif result.craving and not result.crisis:
        assessment = RiskAssessment(level="high", reasons=tuple(reasons), stage="mental",
                                    triggers=frozenset({"craving"}))  # fmt: skip
        reply += await craving(session, services, participant, "screen", assessment, checkin_id)
    return reply


async def screen_setup_text(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    text: str,
    kept: bool,
) -> tuple[list[render.Rendered], bool]:
    """Free text typed during a guided set-up (/plan, /medication): the responses it calls for,
    and whether it was kept as a note. Text kept in the plan gets the crisis and lapse
    responses but not the craving one: a plan names cravings on purpose ("call Maria when the
    craving hits"). Text that answered nothing gets the full screen, and is kept as a note when
    it reads like more than a slip, so nothing is lost."""
    result = screen(text, services.catalog.screen)
    respond = (result.response in ("crisis", "ask") or result.lapse
               or (not kept and result.response is not None))  # fmt: skip
    noted = respond or (not kept and len(text.split()) >= NOTE_MIN_WORDS)
    note = notes.save_note(session, participant.id, text, services.now()) if noted else None
    if not respond:
        return [], noted
    if kept:  # a plan names cravings on purpose
        result = replace(result, categories=tuple(c for c in result.categories if c != "craving"))
    return await on_free_text(session, services, participant, result, text, None, note), noted


async def not_an_answer(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    typed: str,
    question: render.Rendered,
) -> Reply:
    """Set-up text that answered nothing: screened, kept as a note if it says something, and
    the step's question again."""
    urgent, noted = await screen_setup_text(session, services, participant, typed, False)
    if noted:
        kept = services.catalog.text("checkin", "note_saved_during")
        question = render.Rendered(Markup(kept + "\n\n" + question.text), question.buttons)
    return Reply([question], urgent=urgent)


# --- medication -------------------------------------------------------------------------------


def _zone(services: Services, participant: Participant) -> ZoneInfo:
    return ZoneInfo(participant.timezone or services.settings.default_timezone)


async def medication_stop(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    medications: Sequence[Medication],
    checkin_id: int | None = None,
    other_reasons: Sequence[str] = (),
) -> list[render.Rendered]:
    """They stopped taking their medication: reminders end, they get the overdose-risk note,
    and their counselor a high alert that says so."""
    catalog, now = services.catalog, services.now()
    program = services.program_catalog
    names = [shown_name(program, m.key, m.name) for m in medications]
    for medication in medications:
        medication_db.stop(medication, now)
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "medication_stopped", subject,
                 {"medications": [m.id for m in medications]})  # fmt: skip
    reasons = [*medication_stopped(program, names).reasons, *other_reasons]
    await alert(session, services, participant, "high", "medication", reasons, checkin_id)
    theirs = [shown_name(catalog, m.key, m.name) for m in medications]
    shown = render.listed(catalog, theirs) or catalog.text("reasons", "medication_unnamed")
    note = render.Rendered(fill(catalog.text("medication", "stopped_note"), medication=shown))
    return [note, *_when_seen(services)]


async def medication_skipped(
    session: AsyncSession,
    services: Services,
    participant: Participant,
    day: date,
    checkin_id: int | None = None,
) -> None:
    """A skipped dose on local `day` (a reminder's answer or the check-in's): enough days in a
    row raise a watch alert."""
    catalog, rules = services.catalog, services.catalog.medication_rules
    zone = _zone(services, participant)
    since = services.now() - timedelta(days=catalog.thresholds.skipped_medication_days + 2)
    instants = await medication_db.skipped_since(
        session, participant.id, since, rules.adherence_question, rules.skipped_answer
    )
    days = {i.astimezone(zone).date() for i in instants}
    assessment = assess_adherence(services.program_catalog, days, day)
    if assessment.level != "none":
        await alert(session, services, participant, assessment.level, "medication",
                    assessment.reasons, checkin_id)  # fmt: skip
