"""Retention with the settable clock: a discharged participant's records go RETENTION_MONTHS
after discharge (later notes once they are as old), nobody else's; raw Telegram updates go,
and sent messages lose their text, MESSAGE_RETENTION_DAYS after they were handled. The sweep
job runs the purge at most hourly."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from config.settings import Settings
from db.models import (
    Alert,
    Answer,
    CheckIn,
    InboundUpdate,
    Medication,
    MedicationDose,
    MeetingAttendance,
    Note,
    OutboxMessage,
    Participant,
    ParticipantMeeting,
    RecoveryPlan,
)
from scheduler.retention import Retention, RetentionSweep, months_before
from tests.full_record import live_a_full_record
from tests.harness import BotHarness, check_in, enroll_participant, register_counselor

PERSONAL = (CheckIn, Answer, Note, MeetingAttendance, ParticipantMeeting, RecoveryPlan,
            Medication, MedicationDose)  # fmt: skip


async def counts(bot, participant_id: int) -> dict[str, int]:
    """How many rows of each personal table belong to this participant."""
    found = {}
    async with bot.sessionmaker() as session:
        for model in PERSONAL:
            statement = select(func.count()).select_from(model)
            if model is Answer:
                statement = statement.join(CheckIn, Answer.checkin_id == CheckIn.id).where(
                    CheckIn.participant_id == participant_id
                )
            else:
                statement = statement.where(model.participant_id == participant_id)
            found[model.__tablename__] = await session.scalar(statement)
    return found


async def alert_words(bot, participant_id: int) -> list[tuple[list[str], str | None]]:
    async with bot.sessionmaker() as session:
        rows = await session.scalars(
            select(Alert).where(Alert.participant_id == participant_id).order_by(Alert.id)
        )
        return [(a.reasons, a.resolution_note) for a in rows]


def test_retention_defaults():
    settings = Settings(_env_file=None)
    assert (settings.retention_months, settings.message_retention_days) == (24, 7.0)


async def test_discharged_records_go_after_the_retention_period_and_no_one_elses(bot, clock):
    cast = await live_a_full_record(bot, clock)  # participant 2; participant 1 is Sam
    zeph, dana = cast.participant, cast.dana
    await dana.say("/discharge 2")
    await dana.press("Yes, discharge")
    discharged_at = clock()
    before = await counts(bot, 2)
    assert all(before.values()), before  # every kind of record exists
    sam_before = await counts(bot, 1)

    clock.advance(days=30)
    await zeph.say("Still sober, still going to meetings.")  # after discharge: kept as a note

    clock.set(months_before(discharged_at, -24) - timedelta(minutes=1))
    await bot.purge()
    assert await counts(bot, 2) == {**before, "notes": before["notes"] + 1}  # not yet

    clock.set(months_before(discharged_at, -24) + timedelta(minutes=1))
    result = await bot.purge()
    assert result.purged.participants == 1 and result.purged.checkins == before["checkins"]
    after = await counts(bot, 2)
    assert after == {**dict.fromkeys(before, 0), "notes": 1}  # the later note is 23 months old
    assert all(reasons == [] and note is None for reasons, note in await alert_words(bot, 2))
    assert await counts(bot, 1) == sam_before  # an active participant keeps everything
    async with bot.sessionmaker() as session:
        row = await session.get(Participant, 2)
    # They may still use /sos and /coping: who they are stays until they /deleteme.
    assert (row.first_name, row.status) == ("Zephyrine", "discharged")
    replies = await zeph.say("/sos")
    assert "988" in replies[0]["text"]

    # The note written 30 days after discharge goes when it is 24 months old itself.
    clock.advance(days=28)
    await bot.purge()
    assert (await counts(bot, 2))["notes"] == 1
    clock.advance(days=3)
    await bot.purge()
    assert (await counts(bot, 2))["notes"] == 0
    assert await counts(bot, 1) == sam_before


async def test_retention_months_is_configurable(tg, db_url, clock):
    async with BotHarness(tg, db_url, clock, retention_months=3) as bot:
        dana = await register_counselor(bot)
        sam = await enroll_participant(bot, dana)
        await check_in(sam, mood="4", craving="2")
        await dana.say("/discharge Sam")
        await dana.press("Yes, discharge")
        clock.set(months_before(clock(), -3) + timedelta(seconds=1))
        await bot.purge()
        assert (await counts(bot, 1))["checkins"] == 0


async def test_raw_updates_and_sent_texts_go_after_the_message_retention(bot, clock):
    start = clock()
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    clock.advance(days=1)
    await bot.tick()  # the daily check-in, through the outbox
    async with bot.sessionmaker() as session:
        enrolment = await session.scalar(select(func.count()).select_from(InboundUpdate))
        [checkin] = (await session.scalars(select(OutboxMessage))).all()
    assert enrolment and checkin.status == "sent" and "daily check-in" in checkin.payload["text"]

    for day in range(2, 8):
        clock.set(start + timedelta(days=day))
        await bot.tick()
    await sam.say("/help")  # a newer update
    clock.set(start + timedelta(days=7, seconds=1))
    result = await bot.purge()
    assert (result.updates_deleted, result.messages_emptied) == (enrolment, 0)
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 1

    clock.set(start + timedelta(days=8, seconds=1))
    await bot.tick()  # today's check-in: recent, so its text stays
    result = await bot.purge()
    assert (result.updates_deleted, result.messages_emptied) == (0, 1)
    async with bot.sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [bool(r.payload) for r in rows] == [False] + [True] * 7  # days 1 to 8
    assert rows[0].status == "sent" and rows[0].sent_at is not None  # the record stays


async def test_the_sweep_purges_at_most_hourly(bot, clock):
    sweep = RetentionSweep(bot.sessionmaker, clock, Retention(24, 7))
    assert await sweep.maybe_run() is not None
    clock.advance(minutes=59)
    assert await sweep.maybe_run() is None
    clock.advance(minutes=1)
    assert await sweep.maybe_run() is not None


async def test_the_sweep_job_runs_the_purge(tg, db_url, clock):
    """The scheduler `aftercare run` starts: its sweep job ends with the purge."""
    async with BotHarness(tg, db_url, clock, run_jobs=True, sweep_interval_seconds=3600) as bot:
        dana = await register_counselor(bot)
        await dana.say("/help")
        clock.advance(days=8)
        sweep = bot.app.bot_data["scheduler"].get_job("missed_sweep")
        await sweep.func()
        async with bot.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 0
