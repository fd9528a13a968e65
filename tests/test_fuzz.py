"""Random updates through the real handlers, over HTTP: text in any script (right-to-left,
emoji, zero-width characters), huge numbers, very long messages, commands with random
arguments, buttons we never made and buttons of the right shape pointing at random ids,
edited messages, stickers and other media, and updates missing every optional field.

They come from a participant, a counselor, a support contact and a stranger. Afterwards
(and after the outbox has sent what they caused): nothing reached the error handler
(bot.common.on_error logs every exception it gets) or was refused by Telegram, the
bystander (another counselor's participant, who sends nothing) has every row as it was, and
the bot still answers /help. SQLite only: the handlers, not the database, are under test.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from telegram.ext import ApplicationBuilder

from bot.app import register_handlers
from db import medications as medication_db
from db import meetings as meeting_db
from db.models import Medication, Meeting, Participant
from messages import callback_data as cd
from messages.catalog import load_catalogs
from scheduler import meetings as meeting_work
from tests import databases
from tests.harness import BotHarness, Clock, Person, enroll_participant, register_counselor
from tests.snapshots import describe, differences, errors_logged, participant_rows, snapshot
from tests.test_authorization import FEED, routed_commands
from tests.test_contacts import add_contact

FUZZERS = ("sam", "dana", "rosa", "stranger")


@pytest.fixture
async def world(tg, sqlite_template, tmp_path):
    """Sam (Dana's) and Rosa, his contact; Lee (Omar's), the bystander, with something of every
    kind a button can point at, so random small ids hit real rows that are not the sender's."""
    from bot.runner import import_meetings, read_feed

    clock = Clock(datetime(2026, 1, 5, 14, 0, tzinfo=UTC))
    async with BotHarness(tg, databases.sqlite_copy(sqlite_template, tmp_path), clock) as bot:
        dana = await register_counselor(bot, 1001, "Dana")
        omar = await register_counselor(bot, 1002, "Omar")
        sam = await enroll_participant(bot, dana, 2001, "Sam")
        lee = await enroll_participant(bot, omar, 2002, "Lee")
        await import_meetings(bot.settings, read_feed(FEED, "America/New_York"), FEED.name,
                              clock())  # fmt: skip
        rosa = await add_contact(bot, sam)
        await rosa.press("Yes, I'll be there")
        await add_contact(bot, lee, contact_id=4002, name="Kim")  # offered, not answered
        await omar.say("/medication Lee methadone 09:30")
        await dana.say("/medication Sam methadone 09:30")
        for person in (lee, sam):
            await person.say("/checkin")
            await person.say("/sos")
        stranger = bot.person(3001, "Robin")
        await stranger.say("/help")
        async with bot.sessionmaker.begin() as session:
            lee_row = await session.scalar(select(Participant).where(Participant.id == 2))
            assert lee_row.telegram_user_id == 2002
            program = await session.scalar(select(Meeting).order_by(Meeting.id))
            day = next(d for d in range(7) if program.day_mask & (1 << d))
            meeting = await meeting_db.add_from_program(session, 2, program, day, 60, clock())
            meeting_work.start_schedule(meeting, clock())
            await meeting_db.ask_attendance(session, meeting, clock(), clock())
            medication = await session.scalar(
                select(Medication).where(Medication.participant_id == 2)
            )
            await medication_db.create_dose(session, medication, clock(), clock())
        await bot.dispatch()
        people = dict(sam=sam, dana=dana, rosa=rosa, stranger=stranger)
        base = participant_rows(await snapshot(bot.sessionmaker), 2)
        assert base["checkins"] and base["alerts"] and base["medication_doses"]
        yield bot, people, base


# --- what to send -----------------------------------------------------------------------------

# Letters of many scripts, marks, emoji, right-to-left text and its controls, zero-width
# characters; no lone surrogates (they can't be sent as UTF-8).
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=120)
tricky = st.sampled_from(
    [
        "שלום, אני צריך עזרה",  # Hebrew, right to left
        "مرحبا \u202eevil\u202c",  # Arabic with a right-to-left override
        "a\u200bb\u200c\u200d\ufeff",  # zero-width characters
        "👩‍👩‍👧‍👦🆘🔥" * 5,  # emoji sequences
        "<b>bold</b> & <script>x</script> &amp; &#0;",  # HTML the bot must escape
        "9" * 400,  # a huge number
        "-1",
        "0",
        "1e309",
        "99999999999999999999",
        "10/10",
        "NaN",
        "   ",
        "\n\n\n",
        "I want to die",  # the safety screen must still answer
    ]
)
long_text = st.builds(lambda piece, n: (piece * n)[:4096], unicode_text, st.integers(30, 4096))
text = st.one_of(unicode_text, tricky, long_text)


def _routing_table() -> list[str]:
    """The commands bot/app.py routes, read from a routing table built without a network."""
    app = ApplicationBuilder().token("1:routing-table-only").build()
    register_handlers(app, load_catalogs())
    return sorted(routed_commands(app))


COMMAND_NAMES = _routing_table()
argument = st.one_of(
    st.sampled_from(["Sam", "Lee", "Kim", "2", "#2", "1", "999999999999", "-5", "remove", "0"]),
    st.integers(-(10**20), 10**20).map(str),
    unicode_text.map(lambda s: s.replace(" ", "")[:30] or "x"),
)


def command_text(names: list[str]) -> st.SearchStrategy[str]:
    name = st.one_of(st.sampled_from(names), st.sampled_from(["unknown", "HELP", "start@other"]))
    suffix = st.sampled_from(["", "@aftercare_test_bot"])
    args = st.lists(argument, max_size=4)
    return st.builds(lambda n, s, a: " ".join([f"/{n}{s}", *a]), name, suffix, args)


# Every shape our buttons take, from the codec's own patterns: a new kind is fuzzed too.
SHAPES = [
    value
    for name, value in vars(cd).items()
    if name.startswith("_") and isinstance(value, re.Pattern)
]


def small_ids(data: str) -> str:
    """Long random ids mostly miss; bring them into the range of real rows."""
    return re.sub(r"\d{3,}", lambda m: str(int(m.group()) % 40), data)


shaped = st.one_of(*(st.from_regex(p, fullmatch=True) for p in SHAPES)).filter(
    lambda d: len(d.encode()) <= 64
)
button_data = st.one_of(
    shaped.map(small_ids),
    shaped,
    st.sampled_from(["cp", "sos"]),
    st.text(min_size=1, max_size=64).filter(lambda d: len(d.encode()) <= 64),
)


def minimal(bot: BotHarness, person: Person, **fields) -> dict:
    """A message with only the fields Telegram must send, plus `fields`; its id comes from
    the server's own count for the chat, as Telegram's would."""
    chat = bot.tg._chats[person.chat_id]
    return {
        "message_id": bot.tg._take_message_id(chat),
        "date": int(time.time()),
        "chat": {"id": person.chat_id, "type": "private"},
        **fields,
    }


def sender(person: Person) -> dict:
    return {"id": person.user_id, "is_bot": False, "first_name": person.first_name}


# (kind, payload) pairs; the test turns them into updates from one person.
update = st.one_of(
    st.tuples(st.just("text"), text),
    st.tuples(st.just("command"), command_text(COMMAND_NAMES)),
    st.tuples(st.just("button"), button_data),
    st.tuples(st.just("edited"), text),
    st.tuples(st.just("sticker"), st.just("")),
    st.tuples(st.just("photo"), st.one_of(st.just(""), unicode_text)),
    st.tuples(st.just("voice"), st.just("")),
    st.tuples(st.just("bare"), st.sampled_from(["nothing", "no_sender", "no_data", "inline"])),
    st.tuples(st.just("group"), text),
    st.tuples(st.just("blocked"), st.booleans()),
)


async def send(bot: BotHarness, person: Person, kind: str, payload) -> None:
    tg = bot.tg
    match kind:
        case "text" | "command":
            pushed = tg.push_message(person.user_id, payload)
        case "button":
            tg.push_callback(person.user_id, _last_shown(person)["message_id"], payload)
            pushed = {"update_id": tg.last_update_id}
        case "edited":
            edited = minimal(bot, person, text=payload, edit_date=int(time.time()))
            pushed = tg.push_update({"edited_message": {**edited, "from": sender(person)}})
        case "sticker":
            pushed = tg.push_sticker(person.user_id)
        case "photo":
            pushed = tg.push_photo(person.user_id, caption=payload or None)
        case "voice":
            pushed = tg.push_voice(person.user_id)
        case "group":
            pushed = tg.push_message(person.user_id, payload, chat_id=-100123, chat_title="Team")
        case "blocked":
            was, now = ("member", "kicked") if payload else ("kicked", "member")
            pushed = tg.push_update({"my_chat_member": {
                "chat": {"id": person.chat_id, "type": "private"}, "from": sender(person),
                "date": int(time.time()),
                "old_chat_member": _membership(was), "new_chat_member": _membership(now),
            }})  # fmt: skip
        case "bare":
            pushed = tg.push_update(_bare(bot, person, payload))
    await bot.settle(pushed["update_id"])


def _membership(status: str) -> dict:
    """The bot's membership in a private chat: "kicked" when the user blocked it."""
    member = {"user": {"id": 999, "is_bot": True, "first_name": "bot"}, "status": status}
    return {**member, "until_date": 0} if status == "kicked" else member


def _last_shown(person: Person) -> dict:
    return [m for m in person.messages() if not m.get("deleted")][-1]


def _bare(bot: BotHarness, person: Person, what: str) -> dict:
    """Updates with every optional field left out."""
    if what == "nothing":  # a message with no text, media or sender name beyond the required
        return {"message": {**minimal(bot, person), "from": sender(person)}}
    if what == "no_sender":  # Message.from is optional
        return {"message": minimal(bot, person, text="hello")}
    query_id = str(time.monotonic_ns())
    # Known to the server, so the bot can answer it as it would a real press.
    bot.tg._callbacks[query_id] = {"answered": False, "user_id": person.user_id, "data": None}
    query = {"id": query_id, "from": sender(person), "chat_instance": "1"}
    if what == "no_data":  # a game button: no data at all
        last = _last_shown(person)
        return {"callback_query": {**query, "message": _bot_message(person, last),
                                   "game_short_name": "g"}}  # fmt: skip
    return {"callback_query": {**query, "inline_message_id": "AAAA", "data": "al:a:1"}}


def _bot_message(person: Person, sent: dict) -> dict:
    return {
        "message_id": sent["message_id"],
        "date": int(time.time()),
        "chat": {"id": person.chat_id, "type": "private"},
        "text": sent.get("text") or "…",
    }


# --- the test ---------------------------------------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)  # fmt: skip
@given(updates=st.lists(st.tuples(st.sampled_from(FUZZERS), update), min_size=1, max_size=6))
async def test_random_updates_break_nothing_and_touch_no_one_else(world, updates):
    bot, people, base = world
    with errors_logged() as errors:
        for who, (kind, payload) in updates:
            await send(bot, people[who], kind, payload)
        await bot.dispatch()  # what they caused for others (alerts, notices) goes out too
    assert not errors, describe(errors)  # a message Telegram refused is logged as an error
    now = participant_rows(await snapshot(bot.sessionmaker), 2)
    changed = differences(base, now)
    assert not changed, "the bystander's rows changed:\n" + "\n".join(changed)
    for person in people.values():
        assert await person.say("/help"), f"{person.first_name} got no answer to /help"
