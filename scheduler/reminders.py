"""Medication reminders: when each is due (DST-safe, in the participant's zone), the interval
scan that turns due medications into outbox messages, and the one function that queues them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import awaiting, outbox
from db import medications as medication_db
from db.models import Medication, Participant
from delivery.priority import Priority
from messages import medication as medication_text
from messages.answers import parse_clock_time
from messages.catalog import Catalog, Catalogs
from messages.render import Rendered
from scheduler.checkins import in_quiet_hours_now
from scheduler.schedule import injection_reminder, next_dose

log = logging.getLogger(__name__)

BATCH = 500
# A reminder this late (the bot was down) is skipped rather than sent: "take your 08:00 dose"
# at noon would confuse more than help. The schedule moves on to the next dose.
STALE_AFTER = timedelta(hours=2)
# For an injection whose medication is no longer in the content: the usual month.
DEFAULT_INJECTION_INTERVAL_DAYS = 28


async def enqueue_reminder(
    session: AsyncSession,
    participant: Participant,
    dedupe_key: str,
    message: Rendered,
    now: datetime,
    asks: tuple[str, int | None] | None = None,
) -> bool:
    """Queue one reminder for a participant, in the reminder class: a dose, an injection, or a
    meeting's reminder or "did you make it?". Every reminder goes through here, so who may get
    one right now (only active participants, never in their quiet hours) is decided in one
    place. The dedupe key names the occurrence, so none is reminded twice."""
    if participant.status != "active" or participant.chat_id is None:
        return False
    if in_quiet_hours_now(participant, now):
        return False  # they asked for no reminders now; the dose can still be answered later
    await outbox.enqueue(
        session,
        dedupe_key,
        participant.chat_id,
        message.payload(),
        Priority.REMINDER,
        now,
        participant_id=participant.id,
        asks=asks,
    )
    return True


def interval_of(catalog: Catalog, medication: Medication) -> int:
    option = catalog.medication(medication.key)
    return (option.interval_days if option else None) or DEFAULT_INJECTION_INTERVAL_DAYS


def schedule(catalog: Catalog, medication: Medication, zone: str | None, after: datetime) -> None:
    """Set the medication's next reminder strictly after `after` (None: no reminder)."""
    if medication.status != medication_db.ACTIVE or not medication.reminders or zone is None:
        medication.next_due_at = None
        return
    if medication.kind == "daily":
        times = [t for t in (parse_clock_time(h) for h in medication.dose_times) if t is not None]
        medication.next_due_at = next_dose(after, times, zone) if times else None
        return
    if medication.next_injection_on is None:
        medication.next_due_at = None
        return
    rules = catalog.medication_rules
    on, at = injection_reminder(
        after,
        medication.next_injection_on,
        interval_of(catalog, medication),
        rules.injection_reminder_days_before,
        rules.injection_reminder_time,
        zone,
    )
    medication.next_injection_on, medication.next_due_at = on, at


async def reschedule_all(
    session: AsyncSession, catalog: Catalog, participant: Participant, now: datetime
) -> None:
    """After the participant's zone is known or changes (e.g. at the end of enrollment)."""
    for medication in await medication_db.active(session, participant.id):
        schedule(catalog, medication, participant.timezone, now)


async def _remind_daily(
    session: AsyncSession,
    catalog: Catalog,
    medication: Medication,
    participant: Participant,
    slot: datetime,
    zone: str,
    now: datetime,
) -> bool:
    dose_id = await medication_db.create_dose(session, medication, slot, now)
    if dose_id is None:
        return False  # another tick or worker made this one
    hhmm = slot.astimezone(ZoneInfo(zone)).strftime("%H:%M")
    name = medication_text.shown_name(catalog, medication.key, medication.name)
    message = medication_text.dose_reminder(catalog, dose_id, name, hhmm)
    return await enqueue_reminder(session, participant, f"dose:{dose_id}", message, now,
                                  asks=(awaiting.DOSE, dose_id))  # fmt: skip


async def _remind_injection(
    session: AsyncSession,
    catalog: Catalog,
    medication: Medication,
    participant: Participant,
    slot: datetime,
    zone: str,
    now: datetime,
) -> bool:
    rules = catalog.medication_rules
    interval = interval_of(catalog, medication)
    # Which injection date this reminder is for: the first whose reminders reach this slot.
    on, _ = injection_reminder(
        slot - timedelta(seconds=1),
        medication.next_injection_on or slot.date(),
        interval,
        rules.injection_reminder_days_before,
        rules.injection_reminder_time,
        zone,
    )
    day_of = slot.astimezone(ZoneInfo(zone)).date() >= on
    next_on = on + timedelta(days=interval)
    name = medication_text.shown_name(catalog, medication.key, medication.name)
    message = medication_text.injection_reminder(catalog, name, on, day_of, next_on)
    key = f"injection:{medication.id}:{slot.isoformat()}"
    return await enqueue_reminder(session, participant, key, message, now)


async def run_reminders(
    sessionmaker: async_sessionmaker,
    catalog: Catalog,
    now: datetime,
    catalogs: Catalogs | None = None,
) -> int:
    """Queue every due medication reminder, in each participant's language (`catalogs`), and
    move each medication to its next one. Safe to re-run: a dose is unique per medication and
    time, an outbox message per dedupe key."""
    queued = 0
    while True:
        async with sessionmaker.begin() as session:
            due = await medication_db.due(session, now, BATCH)
            for medication, participant in due:
                slot, zone = medication.next_due_at, participant.timezone
                if slot is None or zone is None:  # schedule() never makes these due: clear it
                    schedule(catalog, medication, zone, now)
                    continue
                if slot + STALE_AFTER > now:
                    remind = _remind_daily if medication.kind == "daily" else _remind_injection
                    theirs = catalogs.get(participant.language) if catalogs else catalog
                    queued += await remind(session, theirs, medication, participant, slot, zone,
                                           now)  # fmt: skip
                else:
                    log.info("medication %s: reminder at %s skipped, too late", medication.id, slot)
                # From now, not from the slot: after an outage, the next dose, not a backlog.
                schedule(catalog, medication, zone, max(now, slot))
        if len(due) < BATCH:
            return queued
