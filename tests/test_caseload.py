"""Counselor review: /caseload and /history, own caseload only, every view audited, and a chart
that is a real picture."""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image, ImageStat
from sqlalchemy import select

from db.models import AuditEvent
from messages.chart import ChartPoint, trend_chart
from tests.harness import check_in, enroll_participant, finish_check_in, register_counselor


async def audit_actions(bot) -> list[str]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(AuditEvent.action))).all())


async def a_week_of_checkins(bot, clock, sam, cravings=(2, 3, 5, 8)):
    for craving in cravings:
        clock.advance(days=1)
        await check_in(sam, mood="3", craving=str(craving))
        await finish_check_in(sam)


async def test_caseload_shows_only_your_own_and_admins_see_all(bot, clock):
    ada = await register_counselor(bot, 1000, "Ada", admin=True)
    dana = await register_counselor(bot, 1001, "Dana")
    lee = await register_counselor(bot, 1002, "Lee")
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    await enroll_participant(bot, lee, 2002, "Kim")
    await a_week_of_checkins(bot, clock, sam)

    await dana.say("/caseload")
    text = dana.last_text()
    assert "Sam" in text and "Kim" not in text
    assert "active" in text and "day 5" in text and "cravings 8↑" in text
    await lee.say("/caseload")
    assert "Kim" in lee.last_text() and "Sam" not in lee.last_text()
    await ada.say("/caseload")
    assert "Sam" in ada.last_text() and "Kim" in ada.last_text()
    assert (await audit_actions(bot)).count("caseload_viewed") == 3


async def test_history_sends_a_chart_for_your_own_participant_only(bot, clock):
    dana = await register_counselor(bot, 1001, "Dana")
    lee = await register_counselor(bot, 1002, "Lee")
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    await a_week_of_checkins(bot, clock, sam)

    await dana.say("/history Sam")
    last = dana.last()
    assert last["kind"] == "photo"
    assert "Sam" in last["text"] and "4 check-ins answered" in last["text"]
    assert "history_viewed" in await audit_actions(bot)

    await lee.say("/history Sam")
    assert "couldn't find" in lee.last_text()
    await lee.say(f"/history {(await bot_participant_id(bot))}")
    assert "couldn't find" in lee.last_text()
    await dana.say("/history")
    assert "/history 3" in dana.last_text()
    await sam.say("/history Sam")  # a participant gets their own help, nothing else
    assert sam.last().get("kind") != "photo"


async def bot_participant_id(bot) -> int:
    from db.models import Participant

    async with bot.sessionmaker() as session:
        return await session.scalar(select(Participant.id))


def test_chart_is_a_real_png():
    start = date(2026, 1, 1)
    points = [
        ChartPoint(
            start + timedelta(days=i),
            mood=1 + i % 5,
            craving=i % 11,
            lapse=i == 12,
            missed=i in (5, 6),
        )  # fmt: skip
        for i in range(30)
    ]
    png = trend_chart(points, "Sam <3 & co", start, start + timedelta(days=30))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.size == (800, 400)
    stats = ImageStat.Stat(image.convert("L"))
    assert stats.var[0] > 100  # not a blank canvas: lines, labels and markers were drawn


def test_chart_with_no_data_still_draws():
    png = trend_chart([], "Nobody yet", date(2026, 1, 1), date(2026, 1, 31))
    assert png.startswith(b"\x89PNG") and len(png) > 1000
