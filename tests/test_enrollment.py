"""Enrollment over real HTTP: operator link, counselor, invite, participant consent, set-up."""

from __future__ import annotations

from base64 import urlsafe_b64decode
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.runner import invite_counselor
from db.invites import hash_token, without_token
from db.models import AuditEvent, Counselor, Invite, Participant
from tests.harness import enroll_participant, invite_link, participant_row, register_counselor
from tests.snapshots import snapshot


async def count(bot, model) -> int:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_counselor_invites_and_participant_enrolls(bot, clock):
    dana = await register_counselor(bot)
    assert "registered as a counselor" in dana.last_text()

    link = await invite_link(dana, "Sam")
    assert link.startswith("https://t.me/aftercare_test_bot?start=")
    assert "for Sam" in dana.last_text()

    sam = bot.person(2001, "Sam")
    await sam.say("/start " + link.rsplit("=", 1)[1])
    consent = sam.last_text()
    assert "Welcome, Sam" in consent
    assert "not watched in real time" in consent
    assert "988" in consent and "911" in consent

    await sam.press("Yes, I agree")
    assert "time zone" in sam.last_text()
    await sam.press("Central")
    assert "America/Chicago" in sam.last_text()
    await sam.say("9:30")
    assert "weekly" in sam.last_text()
    await sam.press("Fri")
    done = sam.last_text()
    assert "09:30" in done and "America/Chicago" in done and "Fridays" in done
    assert sam.last()["reply_markup"]["keyboard"][0][0]["text"] == "🆘 I need help now"

    participant = await participant_row(bot, 2001)
    assert participant.status == "active"
    assert participant.timezone == "America/Chicago"
    assert participant.checkin_time == "09:30"
    assert participant.weekly_day == 4
    assert participant.consent_version == bot.catalog.consent_version
    # Monday 5 January 2026, 08:00 in Chicago: the first check-in is today at 09:30 local.
    assert participant.next_checkin_at == datetime(2026, 1, 5, 15, 30, tzinfo=UTC)
    async with bot.sessionmaker() as session:
        counselor = await session.scalar(select(Counselor))
        assert participant.counselor_id == counselor.id
        actions = set((await session.scalars(select(AuditEvent.action))).all())
    assert {"counselor_registered", "participant_invite_created", "enrollment_started",
            "consent_given"} <= actions  # fmt: skip


async def test_tokens_are_stored_only_as_hashes(bot):
    dana = await register_counselor(bot)
    token = (await invite_link(dana)).rsplit("=", 1)[1]
    assert len(token) >= 32  # 192 random bits, url-safe
    async with bot.sessionmaker() as session:
        hashes = (await session.scalars(select(Invite.token_hash))).all()
    assert token not in hashes and all(len(h) == 64 for h in hashes)


async def test_reused_expired_and_guessed_tokens_change_nothing(bot, clock):
    dana = await register_counselor(bot)
    token = (await invite_link(dana)).rsplit("=", 1)[1]
    await enroll_participant(bot, dana, 2001, "Sam")  # uses a second link

    first = bot.person(2002, "Lee")
    await first.say("/start " + token)
    assert "Welcome, Lee" in first.last_text()
    second = bot.person(2003, "Max")
    await second.say("/start " + token)
    assert "doesn't work any more" in second.last_text()
    assert await participant_row(bot, 2003) is None

    stale = (await invite_link(dana)).rsplit("=", 1)[1]
    clock.advance(days=7, seconds=1)
    late = bot.person(2004, "Kim")
    await late.say("/start " + stale)
    assert "doesn't work any more" in late.last_text()
    await late.say("/start " + "A" * 32)
    assert "doesn't work any more" in late.last_text()
    assert await participant_row(bot, 2004) is None
    assert await count(bot, Participant) == 2


async def test_stranger_learns_how_to_join(bot):
    stranger = bot.person(3001, "Robin")
    for text in ("hello?", "/checkin", "/start"):
        replies = await stranger.say(text)
        assert len(replies) == 1
        assert "personal link from your counselor" in stranger.last_text()
    assert await count(bot, Participant) == 0


async def test_typed_set_up_with_mistakes(bot, clock):
    dana = await register_counselor(bot)
    token = (await invite_link(dana)).rsplit("=", 1)[1]
    sam = bot.person(2001, "Sam")
    await sam.say("/start " + token)
    await sam.say("what is this?")
    assert "type one of them" in sam.last_text() and "Yes, I agree" in sam.last_text()
    await sam.say("sure")  # a typed yes is consent, as the button is
    assert "time zone" in sam.last_text()
    await sam.say("Mars/Olympus")
    assert "don't know the time zone" in sam.last_text()
    assert sam.last()["reply_markup"]  # the zone buttons come again
    await sam.say("europe/berlin")
    assert "Europe/Berlin" in sam.last_text()
    await sam.say("25:00")
    assert "couldn't read" in sam.last_text()
    await sam.say("07:45")
    await sam.say("someday")
    assert "day of the week" in sam.last_text()
    await sam.say("thursday")
    participant = await participant_row(bot, 2001)
    assert (participant.status, participant.timezone, participant.checkin_time) == (
        "active", "Europe/Berlin", "07:45",
    )  # fmt: skip
    # 14:00 UTC is 15:00 in Berlin: the first check-in is tomorrow at 07:45 CET.
    assert participant.next_checkin_at == datetime(2026, 1, 6, 6, 45, tzinfo=UTC)
    assert "tomorrow at 07:45" in sam.last_text()


async def test_declining_consent_sets_nothing_up_and_can_be_revisited(bot):
    dana = await register_counselor(bot)
    token = (await invite_link(dana)).rsplit("=", 1)[1]
    sam = bot.person(2001, "Sam")
    await sam.say("/start " + token)
    await sam.press("Not now")
    assert "Nothing has been set up" in sam.last_text()
    participant = await participant_row(bot, 2001)
    assert participant.consented_at is None and participant.status == "enrolling"
    await sam.say("/start")
    await sam.press("Yes, I agree")
    assert "time zone" in sam.last_text()


async def test_counselor_cannot_use_a_participant_link(bot):
    dana = await register_counselor(bot)
    token = (await invite_link(dana)).rsplit("=", 1)[1]
    await dana.say("/start " + token)
    assert "registered as a counselor" in dana.last_text()
    assert await count(bot, Participant) == 0
    # ...and the link still works for the person it was meant for.
    sam = bot.person(2001, "Sam")
    await sam.say("/start " + token)
    assert "Welcome, Sam" in sam.last_text()


async def test_only_counselors_can_invite(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    before = await count(bot, Invite)
    await sam.say("/invite")
    assert "?start=" not in sam.last_text()
    stranger = bot.person(3001, "Robin")
    await stranger.say("/invite")
    assert "personal link from your counselor" in stranger.last_text()
    assert await count(bot, Invite) == before


async def test_enrollment_buttons_pressed_out_of_turn_change_nothing(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, zone="America/Denver")
    tz_prompt = next(m for m in sam.messages() if "time zone" in (m.get("text") or ""))
    await sam.press_data(tz_prompt["message_id"], "tz:Pacific/Honolulu")
    assert sam.last_callback_answer["text"] == "This button is no longer active."
    assert (await participant_row(bot, 2001)).timezone == "America/Denver"


async def test_invite_tokens_are_random_and_never_stored_as_they_are(bot):
    dana = await register_counselor(bot)
    tokens = [(await invite_link(dana)).rsplit("=", 1)[1] for _ in range(3)]
    for token in tokens:
        raw = urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128  # at least 128 random bits (192 as made)
    assert len(set(tokens)) == 3
    await dana.say("/start " + tokens[0])  # refused: counselors don't enroll; still unused
    sam = bot.person(2001, "Sam")
    await sam.say("/start " + tokens[0])
    assert "Welcome, Sam" in sam.last_text()
    # Nowhere at rest, the stored copies of the updates that carried them included; the
    # invites hold their hashes.
    everything = repr(await snapshot(bot.sessionmaker, skip=frozenset()))
    for token in tokens:
        assert token not in everything
        assert hash_token(token) in everything


async def test_counselor_and_contact_links_are_single_use_and_expire(bot, clock):
    link = await invite_counselor(bot.settings, "Omar", admin=False)
    omar = bot.person(1002, "Omar")
    await omar.say("/start " + link.rsplit("=", 1)[1])
    assert "registered as a counselor" in omar.last_text()
    eve = bot.person(1003, "Eve")
    await eve.say("/start " + link.rsplit("=", 1)[1])  # used already
    assert "doesn't work any more" in eve.last_text()
    stale = await invite_counselor(bot.settings, "Eve", admin=True)
    sam = await enroll_participant(bot, omar)
    await sam.say("/contact")
    await sam.press("When things look hard")
    contact_link = next(w for w in sam.last_text().split() if "?start=" in w)

    # The CLI dates its links by the real clock; a week and a second after it:
    clock.set(datetime.now(UTC) + timedelta(days=7, seconds=1))
    await eve.say("/start " + stale.rsplit("=", 1)[1])
    assert "doesn't work any more" in eve.last_text()
    rosa = bot.person(4001, "Rosa")
    await rosa.say("/start " + contact_link.rsplit("=", 1)[1])
    assert "doesn't work any more" in rosa.last_text()
    async with bot.sessionmaker() as session:
        counselors = (await session.scalars(select(Counselor.telegram_user_id))).all()
    assert sorted(counselors) == [1002]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("/start abc123", "/start sha256:" + hash_token("abc123")),
        (
            "/START@aftercare_bot abc123 more",
            "/START@aftercare_bot sha256:" + hash_token("abc123") + " more",
        ),  # fmt: skip
        (" /start\tabc123", " /start\tsha256:" + hash_token("abc123")),
        ("/start", None),
        ("/start sha256:" + "0" * 64, None),  # already taken out
        ("hello /start abc123", None),  # not a command
        ("/starting abc123", None),
    ],
)
def test_a_stored_update_keeps_only_the_tokens_hash(text, kept):
    for kind in ("message", "edited_message"):
        payload = {"update_id": 1, kind: {"message_id": 1, "text": text}}
        scrubbed = without_token(payload)
        if kept is None:
            assert scrubbed is None
        else:
            assert scrubbed == {"update_id": 1, kind: {"message_id": 1, "text": kept}}
            assert payload[kind]["text"] == text  # the update itself is left as it was
    assert without_token({"update_id": 1, "callback_query": {"data": "/start abc"}}) is None
