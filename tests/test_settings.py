"""/settings over real HTTP: each change reuses the set-up buttons (or a typed answer),
recomputes the next check-in, is audited, and bad input changes nothing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from db import awaiting
from db.models import AuditEvent, CheckIn, Note
from messages.catalog import CONTENT_DIR, load_catalogs
from tests.harness import BotHarness, enroll_participant, participant_row, register_counselor

NEW_YORK = ZoneInfo("America/New_York")
FIXTURE_LANGUAGE = Path(__file__).parent / "data" / "content" / "zz.toml"


async def enrolled(bot, **kwargs):
    dana = await register_counselor(bot)
    return dana, await enroll_participant(bot, dana, **kwargs)


async def settings_changes(bot) -> list[dict]:
    async with bot.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.action == "settings_changed")
            .order_by(AuditEvent.id)
        )
        return list(rows.all())


def local(instant: datetime, zone=NEW_YORK) -> str:
    return instant.astimezone(zone).strftime("%a %H:%M")


async def asked_of(bot, person):
    async with bot.sessionmaker() as session:
        return await awaiting.of(session, person.user_id)


async def test_settings_menu_shows_what_is_set(bot):
    _, sam = await enrolled(bot, at="09:00", weekly="Wed")
    await sam.say("/settings")
    text = sam.last_text()
    assert "Daily check-in: 09:00 (America/New_York)" in text
    assert "weekly check-in: Wednesdays" in text
    assert "Quiet hours: none" in text and "Language: English" in text
    labels = [b["text"] for row in sam.last()["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Check-in time", "Time zone", "Weekly day", "Quiet hours", "Language"]


async def test_changing_the_time_recomputes_the_next_checkin(bot, clock):
    # Monday 14:00 UTC is 09:00 in New York: enrolled at 09:00, the first check-in is tomorrow.
    _, sam = await enrolled(bot, at="09:00")
    assert local((await participant_row(bot)).next_checkin_at) == "Tue 09:00"
    await sam.say("/settings")
    await sam.press("Check-in time")
    assert "What time should your daily check-in come" in sam.last_text()
    await sam.press("18:00")  # the same buttons as in set-up
    assert "now at 18:00 (America/New_York). The next one comes today at 18:00" in sam.last_text()
    row = await participant_row(bot)
    assert row.checkin_time == "18:00" and await asked_of(bot, sam) is None
    assert row.next_checkin_at == datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
    assert await settings_changes(bot) == [{"setting": "checkin_time", "value": "18:00"}]

    clock.set(row.next_checkin_at)
    assert (await bot.tick()).created == 1
    assert "time for your daily check-in" in sam.last_text()


async def test_changing_the_time_zone_keeps_the_local_time(bot):
    _, sam = await enrolled(bot, at="09:00")
    await sam.say("/settings")
    await sam.press("Time zone")
    await sam.say("america/los angeles")  # typed, as in set-up
    assert "time zone is now America/Los_Angeles" in sam.last_text()
    row = await participant_row(bot)
    # 06:00 in Los Angeles now: today at 09:00 there, 17:00 UTC.
    assert row.next_checkin_at == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    assert "today at 09:00" in sam.last_text()


async def test_changing_the_weekly_day(bot, clock):
    _, sam = await enrolled(bot, at="09:00", weekly="Wed")
    await sam.say("/settings")
    await sam.press("Weekly day")
    await sam.say("tuesday")
    assert "weekly check-in is now on Tuesdays" in sam.last_text()
    assert (await participant_row(bot)).weekly_day == 1
    clock.set((await participant_row(bot)).next_checkin_at)  # Tuesday 09:00
    await bot.tick()
    assert "weekly check-in" in sam.last_text()


async def test_quiet_hours_move_a_checkin_inside_them_and_can_be_turned_off(bot):
    _, sam = await enrolled(bot, at="09:00")
    await sam.say("/settings")
    await sam.press("Quiet hours")
    await sam.press("22:00–07:00")
    assert "quiet hours are 22:00–07:00" in sam.last_text()
    assert "inside your quiet hours" not in sam.last_text()
    assert (await participant_row(bot)).quiet_start == "22:00"

    await sam.say("/settings")
    await sam.press("Check-in time")
    await sam.say("23:30")
    assert "23:30, is inside your quiet hours, so it will come at 07:00" in sam.last_text()
    assert local((await participant_row(bot)).next_checkin_at) == "Tue 07:00"

    await sam.say("/settings")
    await sam.press("Quiet hours")
    await sam.say("off")
    assert "no quiet hours now" in sam.last_text()
    row = await participant_row(bot)
    assert (row.quiet_start, row.quiet_end) == (None, None)
    assert local(row.next_checkin_at) == "Mon 23:30"
    assert [c["setting"] for c in await settings_changes(bot)] == [
        "quiet_hours", "checkin_time", "quiet_hours",
    ]  # fmt: skip


async def test_bad_input_gets_a_kind_reply_and_changes_nothing(bot):
    _, sam = await enrolled(bot, at="09:00")
    before = await participant_row(bot)
    await sam.say("/settings")
    await sam.press("Check-in time")
    for text in ("25:99", "soon", "9"):
        replies = await sam.say(text)
        assert len(replies) == 1
        assert f'couldn\'t read "{text}" as a time' in sam.last_text()
        assert sam.last()["reply_markup"]  # the buttons come again
    await sam.press("Quiet hours", (await sam.say("/settings"))[-1])
    await sam.say("from ten")
    assert 'couldn\'t read "from ten" as quiet hours' in sam.last_text()
    after = await participant_row(bot)
    assert (after.checkin_time, after.next_checkin_at, after.quiet_start) == (
        before.checkin_time, before.next_checkin_at, None,
    )  # fmt: skip
    assert await settings_changes(bot) == []


async def test_a_message_typed_mid_change_is_kept_and_read_for_safety(bot):
    dana, sam = await enrolled(bot)
    await sam.say("/settings")
    await sam.press("Check-in time")
    replies = await sam.say("I don't think I can keep going, I want to die")
    assert "Suicide &amp; Crisis Lifeline" in replies[0]["text"]  # crisis resources first
    assert "What time should your daily check-in come" in sam.last_text()  # then the question
    assert (await asked_of(bot, sam)).step == "time"
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Note)) == 1
    await bot.dispatch()
    assert "Crisis alert: Sam" in dana.last_text()


async def test_stale_and_forged_settings_buttons_change_nothing(bot):
    _, sam = await enrolled(bot, at="09:00")
    time_prompt = next(m for m in sam.messages() if "What time of day" in (m.get("text") or ""))
    await sam.press_data(time_prompt["message_id"], "tm:12:00")  # a set-up button, long done
    assert sam.last_callback_answer["text"] == "This button is no longer active."
    menu = (await sam.say("/settings"))[-1]
    await sam.press_data(menu["message_id"], "qh:22:00-07:00")  # quiet hours not asked for
    await sam.press_data(menu["message_id"], "lg:xx")
    await sam.press("Language", menu)
    await sam.press_data(menu["message_id"], "st:language")  # pressed again: asked again
    assert "Which language" in sam.last_text()
    await sam.press_data(menu["message_id"], "lg:xx")  # no such content file
    assert sam.last_callback_answer["text"] == "This button is no longer active."
    row = await participant_row(bot)
    assert (row.checkin_time, row.quiet_start, row.language) == ("09:00", None, "en")


async def test_a_button_pressed_after_two_days_still_works(bot):
    """Telegram sends a press on a message older than 48 hours with that message inaccessible
    (no text, no buttons): the choice is made all the same."""
    _, sam = await enrolled(bot, at="09:00")
    menu = (await sam.say("/settings"))[-1]
    _, data = sam.find_button("Check-in time", menu)
    bot.tg.push_callback(sam.user_id, menu["message_id"], data, inaccessible=True)
    await bot.settle(bot.tg.last_update_id)
    assert "What time should your daily check-in come" in sam.last_text()
    await sam.say("18:00")
    assert (await participant_row(bot)).checkin_time == "18:00"


async def test_settings_buttons_are_the_participants_own(bot):
    _, sam = await enrolled(bot)
    menu = (await sam.say("/settings"))[-1]
    lee = bot.person(3001, "Lee")
    bot.tg.user(3001)
    await lee.say("hello")
    # Lee presses Sam's button (forged onto a message in Lee's own chat): Lee is no participant.
    await lee.press_data(lee.last()["message_id"], "st:time")
    assert lee.last_callback_answer["text"] == "This button is no longer active."
    assert await asked_of(bot, lee) is None
    assert menu["reply_markup"]


@pytest.fixture
def content_dir(tmp_path):
    """The shipped English plus the pretend test language."""
    directory = tmp_path / "content"
    directory.mkdir()
    shutil.copy(CONTENT_DIR / "en.toml", directory / "en.toml")
    shutil.copy(FIXTURE_LANGUAGE, directory / "zz.toml")
    return directory


async def test_a_second_content_file_is_offered_and_used(tg, db_url, clock, content_dir):
    async with BotHarness(tg, db_url, clock, catalogs=load_catalogs(content_dir)) as bot:
        _, sam = await enrolled(bot)
        await sam.say("/settings")
        await sam.press("Language")
        languages = [b["text"] for b in sam.last()["reply_markup"]["inline_keyboard"][0]]
        assert languages == ["English", "Zedish (test)"]
        await sam.press("Zedish (test)")
        assert sam.last_text() == "ZZ: from now on, Zedish (test)."
        assert (await participant_row(bot)).language == "zz"
        await sam.say("Today was long but okay")
        assert sam.last_text() == "ZZ: kept for your counselor."
        # What the translation leaves out stays English; check-ins still work.
        await sam.say("/checkin")
        assert "Let's check in, Sam" in sam.last_text()
        async with bot.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(CheckIn)) == 1
