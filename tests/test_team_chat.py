"""The counselor team group (COUNSELOR_TEAM_CHAT_ID): it hears that an alert exists and whose
it is, never who or why; what anyone writes there, as in every other group, is ignored."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update

from config.settings import Settings
from db.models import AlertNotification, InboundUpdate, Participant
from messages.html import strip_html
from tests.harness import BotHarness, enroll_participant, participant_row, register_counselor

TEAM = -1001234567890
OTHER_GROUP = -1009876543210


@pytest.fixture
async def team_bot(tg, db_url, clock):
    tg.group(TEAM, "Aftercare counselors")
    tg.group(OTHER_GROUP, "Somewhere else")
    async with BotHarness(tg, db_url, clock, counselor_team_chat_id=TEAM) as harness:
        yield harness


def team_texts(bot) -> list[str]:
    return [strip_html(m.get("text") or "") for m in bot.tg.sent(TEAM)]


async def team_chain(bot) -> list[tuple[str, str]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(AlertNotification.recipient, AlertNotification.reason)
            .where(AlertNotification.chat_id == TEAM)
            .order_by(AlertNotification.id)
        )
        return [tuple(r) for r in rows]


async def test_alerts_reach_the_team_group_without_details(team_bot, clock):
    bot = team_bot
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, 2001, "Sam")
    await sam.say("I relapsed last night and I want to die")
    await bot.dispatch()
    assert any("Crisis alert: Sam" in t for t in dana.texts())  # the counselor sees it all

    [notice] = bot.tg.sent(TEAM)
    text = strip_html(notice["text"])
    assert text.startswith("🔴 Crisis alert for participant #1 (Dana's caseload)")
    assert "Sam" not in text and "relapsed" not in text and "die" not in text
    assert "mood" not in text and "Wrote about" not in text
    assert notice.get("reply_markup") is None  # acting happens in private chats
    assert await team_chain(bot) == [("team", "new")]

    clock.advance(minutes=15)
    await bot.escalate()
    assert "still not acknowledged after 15 minutes" in team_texts(bot)[-1]
    assert "Sam" not in team_texts(bot)[-1]
    assert await team_chain(bot) == [("team", "new"), ("team", "escalation")]


async def test_missed_checkins_and_unassigned_participants_reach_the_team(team_bot, clock):
    bot = team_bot
    await register_counselor(bot, 1000, "Ada", admin=True)
    dana = await register_counselor(bot, 1001, "Dana")
    await enroll_participant(bot, dana, 2001, "Sam")
    lee = await enroll_participant(bot, dana, 2002, "Lee")
    for _ in range(2):  # two check-ins missed in a row: a watch alert, raised by the sweep
        clock.set((await participant_row(bot, 2001)).next_checkin_at)
        await bot.tick()
        clock.advance(hours=6)
        await bot.sweep()
    await bot.dispatch()
    assert team_texts(bot)[-2:] == [
        "🟡 Watch alert for participant #1 (Dana's caseload). The details are in the responsible "
        "counselor's private chat with the bot.",
        "🟡 Watch alert for participant #2 (Dana's caseload). The details are in the responsible "
        "counselor's private chat with the bot.",
    ]

    async with bot.sessionmaker.begin() as session:  # Lee's counselor has left the program
        await session.execute(
            update(Participant).where(Participant.id == 2).values(counselor_id=None)
        )
    await lee.say("/sos")
    await bot.dispatch()
    assert "#2 (no counselor assigned; the admins have it)" in team_texts(bot)[-1]


async def test_commands_in_the_team_group_are_ignored_and_not_stored(team_bot):
    bot = team_bot
    dana = await register_counselor(bot)
    await enroll_participant(bot, dana, 2001, "Sam")
    sent_before = len(bot.tg.sent(TEAM)), len(bot.tg.sent(OTHER_GROUP)), len(dana.messages())
    async with bot.sessionmaker() as session:
        stored_before = await session.scalar(select(func.count()).select_from(InboundUpdate))
    for chat in (TEAM, OTHER_GROUP):
        for text in ("/caseload", "/history Sam", "/flags", "/discharge Sam", "/start", "hi"):
            update = bot.tg.push_message(dana.user_id, text, chat_id=chat)
            await bot.settle(update["update_id"])
    assert (len(bot.tg.sent(TEAM)), len(bot.tg.sent(OTHER_GROUP)), len(dana.messages())) == (
        sent_before
    )
    async with bot.sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(InboundUpdate))
    assert stored == stored_before
    await dana.say("/caseload")  # the bot still answers in private
    assert "Your caseload" in dana.last_text()


async def test_without_a_team_group_nothing_is_posted_to_groups(bot, tg):
    tg.group(TEAM, "Aftercare counselors")
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await sam.say("/sos")
    await bot.dispatch()
    assert tg.sent(TEAM) == []


def test_the_team_chat_id_must_be_a_group():
    with pytest.raises(ValidationError, match="must be a group's chat id"):
        Settings(_env_file=None, counselor_team_chat_id=12345)
    assert Settings(_env_file=None, counselor_team_chat_id=TEAM).counselor_team_chat_id == TEAM
