"""/pause and /resume over real HTTP: scheduled check-ins stop, help keeps working, the
counselor is told, and the tick resumes check-ins when the pause is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from care.pause import parse_days
from db.models import AuditEvent, CheckIn, OutboxMessage
from tests.harness import enroll_participant, participant_row, register_counselor

NEW_YORK = ZoneInfo("America/New_York")


async def enrolled(bot):
    dana = await register_counselor(bot)
    return dana, await enroll_participant(bot, dana, at="09:00")


async def audit_actions(bot) -> list[tuple[str, dict | None]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.details)
            .where(AuditEvent.action.like("checkins_%"))
            .order_by(AuditEvent.id)
        )
        return [tuple(r) for r in rows]


async def count(bot, model) -> int:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "args, days",
    [([], 7), (["3"], 3), (["30"], 30), (["1"], 1), (["0"], None), (["31"], None),
     (["-2"], None), (["abc"], None), (["2", "days"], None), (["²"], None), (["9" * 40], None)],
)  # fmt: skip
def test_parse_days(args, days):
    assert parse_days(args, default=7, maximum=30) == days


async def test_pause_stops_checkins_tells_the_counselor_and_ends_by_itself(bot, clock):
    dana, sam = await enrolled(bot)  # Monday 09:00 in New York; next check-in Tue 09:00
    await sam.say("/pause 3")
    text = sam.last_text()
    assert "Check-ins are paused until Thu 8 Jan, 09:00" in text
    assert "The next one will come on Fri 9 Jan at 09:00" in text
    assert "/sos, /coping and /checkin any time" in text
    row = await participant_row(bot)
    assert row.status == "paused"
    assert row.paused_until == datetime(2026, 1, 8, 14, 0, tzinfo=UTC)

    await bot.dispatch()
    assert "Sam (#1) paused check-ins until Thu 8 Jan 2026, 09:00 EST" in dana.last_text()

    # No check-in for three days, however often the tick runs.
    for day in (6, 7, 8):
        clock.set(datetime(2026, 1, day, 13, 59, tzinfo=UTC))
        assert (await bot.tick()).created == 0
    assert await count(bot, CheckIn) == 0
    assert (await participant_row(bot)).status == "paused"

    # The pause is over at Thu 09:00; the tick resumes check-ins from the next slot.
    clock.set(datetime(2026, 1, 8, 14, 0, 30, tzinfo=UTC))
    await bot.tick()
    row = await participant_row(bot)
    assert (row.status, row.paused_until) == ("active", None)
    assert row.next_checkin_at == datetime(2026, 1, 9, 14, 0, tzinfo=UTC)
    clock.set(row.next_checkin_at)
    assert (await bot.tick()).created == 1
    assert "time for your daily check-in" in sam.last_text()
    assert [a for a, _ in await audit_actions(bot)] == ["checkins_paused", "checkins_resumed"]
    assert (await audit_actions(bot))[1][1] == {"early": False}


async def test_help_keeps_working_while_paused(bot):
    dana, sam = await enrolled(bot)
    await sam.say("/pause")
    assert "paused until Mon 12 Jan, 09:00" in sam.last_text()  # 7 days by default
    replies = await sam.say("/sos")
    assert "988" in replies[0]["text"]
    await bot.dispatch()
    assert any("Crisis alert: Sam" in t for t in dana.texts())
    await sam.say("/coping")
    assert "might help" in sam.last_text()
    await sam.say("/checkin")
    assert "Let's check in, Sam" in sam.last_text()
    await sam.say("/help")
    assert "Check-ins are paused until" in sam.last_text()
    assert (await participant_row(bot)).status == "paused"


async def test_resume_ends_a_pause_early(bot, clock):
    dana, sam = await enrolled(bot)
    await sam.say("/pause 10")
    clock.advance(days=1, hours=2)  # Tuesday 11:00
    await sam.say("/resume")
    assert "Welcome back" in sam.last_text()
    assert "the next one comes tomorrow at 09:00" in sam.last_text()
    row = await participant_row(bot)
    assert (row.status, row.paused_until) == ("active", None)
    assert row.next_checkin_at == datetime(2026, 1, 7, 14, 0, tzinfo=UTC)
    await bot.dispatch()
    assert "Sam (#1) ended their pause early" in dana.last_text()
    assert (await audit_actions(bot))[-1] == ("checkins_resumed", {"early": True})

    await sam.say("/resume")
    assert "aren't paused" in sam.last_text()
    assert len(await audit_actions(bot)) == 2


async def test_bad_pause_input_is_refused_kindly_and_changes_nothing(bot):
    dana, sam = await enrolled(bot)
    await bot.dispatch()
    before = await count(bot, OutboxMessage)
    for text in ("/pause 0", "/pause 31", "/pause abc", "/pause 2 days", "/pause -1"):
        replies = await sam.say(text)
        assert len(replies) == 1
        assert "number from 1 to 30" in sam.last_text()
        assert "just /pause for 7 days" in sam.last_text()
    row = await participant_row(bot)
    assert (row.status, row.paused_until) == ("active", None)
    assert await count(bot, OutboxMessage) == before  # the counselor heard nothing
    assert await audit_actions(bot) == []


async def test_a_longer_pause_replaces_the_first(bot):
    dana, sam = await enrolled(bot)
    await sam.say("/pause 2")
    await sam.say("/pause 5")
    row = await participant_row(bot)
    assert row.paused_until == bot.clock() + timedelta(days=5)
    assert row.next_checkin_at == datetime(2026, 1, 11, 14, 0, tzinfo=UTC)


async def test_pause_limits_come_from_settings(tg, db_url, clock):
    from tests.harness import BotHarness

    async with BotHarness(tg, db_url, clock, pause_default_days=2, pause_max_days=5) as bot:
        _, sam = await enrolled(bot)
        await sam.say("/pause 6")
        assert "number from 1 to 5" in sam.last_text()
        await sam.say("/pause")
        assert (await participant_row(bot)).paused_until == clock() + timedelta(days=2)


async def test_strangers_and_counselors_cannot_pause(bot):
    dana = await register_counselor(bot)
    await dana.say("/pause")
    assert "Counselor commands" in dana.last_text()
    robin = bot.person(3001, "Robin")
    await robin.say("/resume")
    assert "personal link from your counselor" in robin.last_text()
