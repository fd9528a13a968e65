"""Turning schedules into check-ins: the tick, on-demand check-ins, and the missed sweep."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit, bulk, outbox, people
from db import checkins as checkin_db
from db import medications as medication_db
from db.models import CheckIn, Participant
from delivery.priority import Priority
from messages import render
from messages.answers import parse_clock_time
from messages.catalog import Catalog, Catalogs
from messages.risk import assess
from scheduler import alerting
from scheduler.schedule import QuietHours, checkin_day, in_quiet_hours, next_checkin

TICK_BATCH = 1000
TICK_WORKERS_POSTGRES = 2


@dataclass(frozen=True)
class TickResult:
    created: int = 0
    skipped: int = 0


def current_question(catalog: Catalog, checkin: CheckIn, intro: str = "") -> render.Rendered:
    return render.question(
        catalog, checkin.question_keys, checkin.current_index, checkin.id, intro=intro
    )


def quiet_hours_of(participant: Participant) -> QuietHours | None:
    start = parse_clock_time(participant.quiet_start or "")
    end = parse_clock_time(participant.quiet_end or "")
    return (start, end) if start is not None and end is not None else None


def in_quiet_hours_now(participant: Participant, now: datetime) -> bool:
    """Whether it is the participant's quiet hours at `now`, in their own time zone."""
    quiet = quiet_hours_of(participant)
    if quiet is None or participant.timezone is None:
        return False
    local = now.astimezone(ZoneInfo(participant.timezone)).time()
    return in_quiet_hours(local, *quiet)


def next_slot(participant, now: datetime) -> datetime | None:
    """The next check-in after `now` (after the pause, while paused), out of quiet hours.
    `participant` is a Participant or a row with the same fields."""
    at = parse_clock_time(participant.checkin_time or "")
    if at is None or participant.timezone is None:
        return None
    after = now
    if participant.status == "paused" and participant.paused_until is not None:
        after = max(now, participant.paused_until)
    return next_checkin(after, at, participant.timezone, quiet_hours_of(participant))


def advance_schedule(participant: Participant, now: datetime) -> None:
    participant.next_checkin_at = next_slot(participant, now)


def _composition(catalog: Catalog, participant, slot: datetime, on_medication: bool,
                 memo: dict | None = None):  # fmt: skip
    """The weekly check-in on the participant's chosen weekday, the daily one otherwise.
    `memo` keeps compositions already made (a tick makes the same few thousands of times)."""
    zone = participant.timezone or "UTC"
    at = parse_clock_time(participant.checkin_time or "")
    if at is not None:
        day = checkin_day(slot, at, zone, quiet_hours_of(participant))
    else:
        day = slot.astimezone(ZoneInfo(zone)).date()
    weekly = participant.weekly_day is not None and day.weekday() == participant.weekly_day
    key = (weekly, None if weekly else participant.checkins_started, on_medication)
    if memo is not None and key in memo:
        return memo[key]
    if weekly:
        made = "weekly", render.compose_weekly(catalog, on_medication)
    else:
        made = "daily", render.compose_daily(catalog, participant.checkins_started, on_medication)
    if memo is not None:
        memo[key] = made
    return made


@dataclass(frozen=True)
class _Plan:
    """What a tick does for everyone who shares a schedule: the check-in's kind and questions,
    the stored form of its slot and expiry, and the next slot after it."""

    kind: str
    keys: list[str]
    keys_json: str
    slot: str | None
    expires: str | None
    next_at: str | None


def _plan_key(participant, on_medication: bool) -> tuple:
    """Everything a plan depends on (50,000 due at 09:00 share a few dozen of these)."""
    return (participant.next_checkin_at, participant.timezone, participant.checkin_time,
            participant.quiet_start, participant.quiet_end, participant.weekly_day,
            participant.checkins_started, participant.status, participant.paused_until,
            on_medication)  # fmt: skip


async def _schedule_batch(
    session: AsyncSession,
    catalogs: Catalogs,
    due: list,
    now: datetime,
    window: timedelta,
    questions: render.FirstQuestions,
    plans: dict[tuple, _Plan],
) -> tuple[int, int]:
    """Check-ins and outbox messages for a batch of due participants (rows of
    checkin_db.DUE_COLUMNS), in a few set-based statements (db/bulk.py): 50,000 people may be
    due at 09:00. The schedule work is done once per distinct schedule (`plans`)."""
    dialect = bulk.dialect_of(session)
    slots = {p.id: p.next_checkin_at for p in due}
    # A check-in they started themselves shortly before the slot stands in for it.
    recent = await checkin_db.created_since(session, list(slots), min(slots.values()) - window)
    on_medication = await medication_db.on_daily_medication(session, list(slots))
    # Questions and their order are the same in every language (messages/catalog.py checks).
    catalog = catalogs.default
    compositions: dict[tuple[bool, int | None, bool], tuple[str, list[str]]] = {}
    rows, by_participant, advanced = [], {}, []
    for participant in due:
        slot = participant.next_checkin_at
        key = _plan_key(participant, participant.id in on_medication)
        plan = plans.get(key)
        if plan is None:
            kind, keys = _composition(catalog, participant, slot, key[-1], compositions)
            # Advance from now, not from the slot: after an outage, one check-in, not a backlog.
            plan = plans[key] = _Plan(
                kind, keys, json.dumps(keys), bulk.stored_timestamp(dialect, slot),
                bulk.stored_timestamp(dialect, slot + window),
                bulk.stored_timestamp(dialect, next_slot(participant, max(now, slot))),
            )  # fmt: skip
        stands_in = any(created >= slot - window for created in recent.get(participant.id, ()))
        # After an outage a slot past its window is skipped, never sent late.
        status = "skipped" if slot + window <= now or stands_in else "pending"
        rows.append([participant.id, plan.kind, plan.slot, status, plan.keys_json, plan.expires])
        by_participant[participant.id] = (participant, plan)
        advanced.append([participant.id, plan.next_at, 0])
    inserted = await checkin_db.insert_checkins(session, rows, now)
    started = {pid for _, pid, _ in inserted}
    for change in advanced:
        change[2] = int(change[0] in started)
    await checkin_db.advance_due(session, advanced)
    fresh = [(checkin_id, pid) for checkin_id, pid, status in inserted if status == "pending"]
    if fresh:
        await checkin_db.close_older_open(session, fresh)
        messages = []
        for checkin_id, pid in fresh:
            participant, plan = by_participant[pid]
            words = catalogs.get(participant.language)
            payload = questions.payload_json(words, plan.kind, plan.keys, checkin_id,
                                             participant.first_name or "")  # fmt: skip
            messages.append([f"checkin:{checkin_id}:q0", participant.chat_id, payload, pid,
                             checkin_id])  # fmt: skip
        await outbox.enqueue_many(session, messages, Priority.CHECKIN, now)
    return len(fresh), len(due) - len(fresh)


async def end_due_pauses(sessionmaker: async_sessionmaker, now: datetime) -> int:
    """Pauses that have run their course end here: check-ins resume from the next slot."""
    ended = 0
    while True:
        async with sessionmaker.begin() as session:
            batch = await people.pauses_ended(session, now, TICK_BATCH)
            for participant in batch:
                people.resume(participant)
                advance_schedule(participant, now)
                subject = f"participant:{participant.id}"
                audit.record(session, now, "bot", "checkins_resumed", subject, {"early": False})
        ended += len(batch)
        if len(batch) < TICK_BATCH:
            return ended


async def run_tick(
    sessionmaker: async_sessionmaker,
    catalog: Catalog,
    now: datetime,
    window: timedelta,
    catalogs: Catalogs | None = None,
) -> TickResult:
    """End pauses that are over, then turn every due participant into a check-in plus an
    outbox message, in each one's language. Safe to re-run: check-ins are unique per
    participant and slot, outbox messages per dedupe key."""
    catalogs = catalogs or Catalogs({catalog.locale: catalog}, catalog.locale)
    await end_due_pauses(sessionmaker, now)
    questions = render.FirstQuestions()  # rendered once per language and composition
    plans: dict[tuple, _Plan] = {}  # the schedule math, once per distinct schedule

    async def worker() -> TickResult:
        created = skipped = 0
        while True:
            async with sessionmaker.begin() as session:
                # Locked, skipping rows another worker holds (PostgreSQL): batches never overlap.
                due = await checkin_db.due_participants(session, now, TICK_BATCH)
                if due:
                    made, passed = await _schedule_batch(session, catalogs, due, now, window,
                                                         questions, plans)  # fmt: skip
                    created, skipped = created + made, skipped + passed
            # Fewer than a batch: every due row not locked by another worker was in it, and a
            # locked one is that worker's to finish.
            if len(due) < TICK_BATCH:
                return TickResult(created, skipped)

    # PostgreSQL spends most of a large tick maintaining indexes, in its own processes: two
    # batches at once use two cores. SQLite has one writer, so one batch at a time.
    workers = TICK_WORKERS_POSTGRES if _dialect(sessionmaker) == "postgresql" else 1
    results = await asyncio.gather(*(worker() for _ in range(workers)))
    return TickResult(sum(r.created for r in results), sum(r.skipped for r in results))


def _dialect(sessionmaker: async_sessionmaker) -> str:
    bind = sessionmaker.kw.get("bind")
    return bind.dialect.name if bind is not None else ""


async def start_on_demand(
    session: AsyncSession,
    catalog: Catalog,
    participant: Participant,
    now: datetime,
    window: timedelta,
) -> tuple[CheckIn, bool]:
    """The open check-in to continue, or a new one; the flag says whether it was resumed."""
    existing = await checkin_db.open_checkin(session, participant.id, now)
    if existing is not None:
        # The question is asked again now; an unsent copy in the outbox would only repeat it.
        await outbox.skip_pending_for_checkin(session, existing.id, "asked again by /checkin")
        return existing, True
    on_medication = await medication_db.on_daily_medication(session, [participant.id])
    keys = render.compose_daily(catalog, participant.checkins_started, bool(on_medication))
    checkin = await checkin_db.create_checkin(
        session, participant, "on_demand", now, now, window, keys, status="sent"
    )
    assert checkin is not None  # slot_at=now is new unless two land in the same microsecond
    await checkin_db.close_older_open(session, [(checkin.id, participant.id)])
    return checkin, False


async def run_missed_sweep(
    sessionmaker: async_sessionmaker,
    catalog: Catalog,
    now: datetime,
    team_chat_id: int | None = None,
) -> int:
    """Mark unanswered check-ins missed; alert when misses in a row reach a threshold."""
    rules = catalog.thresholds
    async with sessionmaker.begin() as session:
        participant_ids = await checkin_db.mark_missed(session, now)
        for participant_id in sorted(set(participant_ids)):
            history = await checkin_db.history(session, participant_id, now, rules.missed_high)
            in_a_row = 0
            for checkin, _ in history:
                if checkin.status != "missed":
                    break
                in_a_row += 1
            if in_a_row not in (rules.missed_watch, rules.missed_high):
                continue  # alert as each threshold is crossed, not on every miss after it
            participant = await session.get(Participant, participant_id)
            assessment = assess(catalog, {}, (), in_a_row)
            await alerting.raise_alert(
                session, catalog, participant, assessment.level, "missed", assessment.reasons, now,
                team_chat_id=team_chat_id,
            )  # fmt: skip
        return len(participant_ids)
