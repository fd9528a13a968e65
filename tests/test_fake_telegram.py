"""Tests of the fake Bot API server, mostly driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from fake_telegram import DEFAULT_SPEC_PATH, FakeTelegram, WaitTimeout, parse_html

ANA = 1001


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        fake.user(ANA, first_name="Ana")
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram):
    async with telegram.Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as b:
        yield b


async def raw_call(
    tg: FakeTelegram,
    method: str,
    *,
    data: dict | None = None,
    json_body: dict | None = None,
    query: dict | None = None,
    token: str | None = None,
    http_method: str = "POST",
) -> tuple[int, dict]:
    """A request PTB would refuse to send."""
    url = f"{tg.base_url}{token or tg.token}/{method}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(http_method, url, data=data, json=json_body, params=query) as resp,
    ):
        return resp.status, await resp.json()


def keyboard(*datas: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in datas]])


# ---- basics --------------------------------------------------------------------------


async def test_get_me(tg: FakeTelegram, bot: telegram.Bot):
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "aftercare_test_bot"
    assert tg.port and tg.base_url == f"http://127.0.0.1:{tg.port}/bot"
    assert tg.base_file_url == f"http://127.0.0.1:{tg.port}/file/bot"


async def test_send_message_with_inline_keyboard_round_trip(tg: FakeTelegram, bot: telegram.Bot):
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes 👍", callback_data="ans:1:2:3")],
            [InlineKeyboardButton("Read more", url="https://example.org/help")],
        ]
    )
    message = await bot.send_message(ANA, "Did you sleep well?", reply_markup=markup)

    assert message.message_id == 1
    assert message.chat.id == ANA
    assert message.from_user.username == "aftercare_test_bot"
    assert message.reply_markup == markup  # the response Message round-trips through PTB

    [record] = tg.sent(ANA)
    assert record["text"] == "Did you sleep well?"
    assert record["reply_markup"] == markup.to_dict()
    assert tg.button_data(record, "Yes") == "ans:1:2:3"
    assert tg.last(ANA) == record
    with pytest.raises(LookupError, match="labels: \\['Yes 👍', 'Read more'\\]"):
        tg.button_data(record, "No")

    query_id = tg.push_callback(ANA, message.message_id, "ans:1:2:3")
    [update] = await bot.get_updates()
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "ans:1:2:3"
    assert update.callback_query.message.message_id == message.message_id
    assert await update.callback_query.answer("Thanks!")
    assert tg.callback_answers[query_id]["text"] == "Thanks!"
    with pytest.raises(ValueError, match="no button"):
        tg.push_callback(ANA, message.message_id, "forged", check_button=True)
    forged = tg.push_callback(ANA, message.message_id, "forged")  # stale/forged presses
    assert tg.last_update_id == (await bot.get_updates(offset=update.update_id + 1))[0].update_id
    assert forged not in tg.callback_answers


async def test_reply_keyboards_are_recorded_but_not_echoed(tg: FakeTelegram, bot: telegram.Bot):
    message = await bot.send_message(ANA, "Pick", reply_markup=ReplyKeyboardMarkup([["a", "b"]]))
    assert message.reply_markup is None  # Telegram only echoes inline keyboards
    assert tg.last(ANA)["reply_markup"]["keyboard"] == [[{"text": "a"}, {"text": "b"}]]


async def test_messages_match_the_spec(tg: FakeTelegram, bot: telegram.Bot):
    await bot.send_message(ANA, "<b>hi</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    await bot.send_document(ANA, b"%PDF-1.4", filename="plan.pdf", caption="Your plan")
    await bot.send_photo(ANA, b"\x89PNG\r\n")
    await bot.edit_message_text("edited", chat_id=ANA, message_id=1, reply_markup=keyboard("a"))
    for record in tg.sent(ANA):
        tg.spec.validate("Message", record["message"])
    tg.push_message(ANA, "/start abc")
    tg.push_sticker(ANA)
    tg.push_photo(ANA, caption="look")
    tg.push_voice(ANA)
    tg.push_callback(ANA, 1, "a")
    tg.push_message(ANA, "hi all", chat_id=-100123, chat_type="group", chat_title="Team")
    status, body = await raw_call(tg, "getUpdates")
    assert status == 200
    for update in body["result"]:
        tg.spec.validate("Update", update)
    for method, params, type_name in [
        ("getMe", None, "User"),
        ("getWebhookInfo", None, "WebhookInfo"),
        ("getChat", {"chat_id": ANA}, "ChatFullInfo"),
    ]:
        _, body = await raw_call(tg, method, data=params)
        tg.spec.validate(type_name, body["result"])


async def test_pushed_messages_parse_in_ptb(tg: FakeTelegram, bot: telegram.Bot):
    start = tg.push_message(ANA, "/start abc")
    assert start["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    tg.push_sticker(ANA, emoji="🙂")
    tg.push_photo(ANA, caption="my walk")
    tg.push_voice(ANA, duration=7)
    tg.push_message(ANA, "hi", chat_id=-100123, chat_type="group", chat_title="Team")

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    command, sticker, photo, voice, group = (u.message for u in updates)
    assert command.text == "/start abc" and command.from_user.first_name == "Ana"
    assert command.entities[0].type == "bot_command"
    assert sticker.sticker.emoji == "🙂"
    assert photo.photo[-1].width == 1280 and photo.caption == "my walk"
    assert voice.voice.mime_type == "audio/ogg"
    assert group.chat.type == "group" and group.chat.title == "Team"
    # Message ids are per chat and shared between the user's and the bot's messages.
    assert [command.message_id, sticker.message_id, photo.message_id] == [1, 2, 3]
    assert (await bot.send_message(ANA, "ok")).message_id == 5
    assert (await bot.send_message(-100123, "hello team")).message_id == 2


async def test_user_handle_and_press_button(tg: FakeTelegram, bot: telegram.Bot):
    bea = tg.user(1002, first_name="Bea", username="bea")
    update = bea.send("hello")
    assert update["message"]["from"] == {
        "id": 1002, "is_bot": False, "first_name": "Bea", "username": "bea", "language_code": "en"
    }  # fmt: skip
    await bot.send_message(bea.id, "Pick one", reply_markup=keyboard("alpha", "beta"))
    await bot.send_message(bea.id, "No buttons here")
    query_id = bea.press("BETA")  # case-insensitive; finds the newest message with the button
    assert tg.last_update_id is not None
    [_, callback] = await bot.get_updates()
    assert (callback.callback_query.id, callback.callback_query.data) == (query_id, "beta")
    assert [m["text"] for m in bea.sent] == ["Pick one", "No buttons here"]
    assert bea.last == tg.last(1002)


def test_spec_path_from_argument_or_environment(monkeypatch, tmp_path):
    assert FakeTelegram(spec_path=DEFAULT_SPEC_PATH).spec.version.startswith("Bot API")
    monkeypatch.setenv("TELEGRAM_BOT_API_SPEC", str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError, match="TELEGRAM_BOT_API_SPEC"):
        FakeTelegram()
    small = {"methods": {"getMe": {"name": "getMe"}}, "types": {"Update": {"fields": []}}}
    (tmp_path / "small.json").write_text(json.dumps(small))
    monkeypatch.setenv("TELEGRAM_BOT_API_SPEC", str(tmp_path / "small.json"))
    assert list(FakeTelegram().spec.methods) == ["getMe"]


# ---- validation against the spec --------------------------------------------------------


@pytest.mark.parametrize("text", ["<b>bold", "<foo>x</foo>", "a & b <c"])
async def test_malformed_html_raises_bad_request_in_ptb(bot: telegram.Bot, text: str):
    with pytest.raises(BadRequest, match="(?i)^can't parse entities: "):
        await bot.send_message(ANA, text, parse_mode="HTML")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("hello <foo>x</foo>", 'Unsupported start tag "foo" at byte offset 6'),
        ("é <foo>", 'Unsupported start tag "foo" at byte offset 3'),  # UTF-8 bytes
        ("a & b <c", 'Character "&" must be escaped as "&amp;" at byte offset 2'),
        ("a &amp; b <c", "Unclosed start tag at byte offset 10"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a>x</a>", 'Tag "a" must have a non-empty "href" at byte offset 0'),
        ("&nbsp;", 'Character "&" must be escaped as "&amp;" at byte offset 0'),
        ('<a href="?a=1&b=2">x</a>', 'Character "&" must be escaped as "&amp;" at byte offset 13'),
        ("<b class=x y>z</b>", 'Expected equal sign in declaration of an attribute of the tag "b" '
         "at byte offset 0"),
    ],
)  # fmt: skip
async def test_malformed_html_is_rejected_like_telegram(tg: FakeTelegram, text: str, problem: str):
    status, body = await raw_call(
        tg, "sendMessage", data={"chat_id": ANA, "text": text, "parse_mode": "html"}
    )
    assert (status, body) == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": f"Bad Request: can't parse entities: {problem}",
        },
    )
    assert tg.errors[-1][2:] == (400, body["description"])
    assert tg.sent(ANA) == []


async def test_valid_html_passes_with_entities(tg: FakeTelegram, bot: telegram.Bot):
    text = (
        '<b>1 &lt; 2</b> &amp; <a href="https://x.org/?a=1&amp;b=2">link</a> &#128512;'
        ' <tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span> <I>i</I>'
        ' <pre><code class="language-python">x = 1</code></pre>'
        " <blockquote expandable>q</blockquote>"
    )
    message = await bot.send_message(ANA, text, parse_mode="HTML")
    assert message.text == "1 < 2 & link 😀 s t i x = 1 q"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 5),
        ("text_link", 8, 4),
        ("spoiler", 16, 1),
        ("spoiler", 18, 1),
        ("italic", 20, 1),
        ("pre", 22, 5),
        ("expandable_blockquote", 28, 1),
    ]
    assert message.entities[1].url == "https://x.org/?a=1&b=2"
    assert message.entities[5].language == "python"
    record = tg.last(ANA)
    assert record["text"] == text and record["parse_mode"] == "HTML"
    assert record["plain_text"] == message.text


def test_parse_html_offsets_are_utf16():
    text, entities = parse_html("😀 <b>x</b> <code>&quot;y&quot;</code>")
    assert text == '😀 x "y"'
    assert entities == [
        {"type": "bold", "offset": 3, "length": 1},
        {"type": "code", "offset": 5, "length": 3},
    ]


async def test_markdown_is_accepted_as_is(bot: telegram.Bot):
    message = await bot.send_message(ANA, "*bold* _it_", parse_mode="MarkdownV2")
    assert message.text == "*bold* _it_"


async def test_text_length_limits(bot: telegram.Bot):
    assert (await bot.send_message(ANA, "a" * 4096)).text == "a" * 4096
    # Length counts after entity parsing: tags and escapes do not count.
    await bot.send_message(ANA, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(ANA, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(ANA, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_document(ANA, b"x", filename="x.txt", caption="c" * 1025)


async def test_callback_data_is_limited_to_64_bytes(tg: FakeTelegram, bot: telegram.Bot):
    await bot.send_message(ANA, "ok", reply_markup=keyboard("x" * 64))
    await bot.send_message(ANA, "ok", reply_markup=keyboard("é" * 32))  # 32 chars, 64 bytes
    for data in ("x" * 65, "é" * 33):
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(ANA, "too long", reply_markup=keyboard(data))
    assert len(tg.sent(ANA)) == 2


async def test_missing_required_field(tg: FakeTelegram):
    status, body = await raw_call(tg, "sendMessage", data={"chat_id": ANA})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await raw_call(tg, "sendChatAction", data={"chat_id": ANA})
    assert (status, body["description"]) == (400, 'Bad Request: parameter "action" is required')


async def test_unknown_and_mistyped_parameters(tg: FakeTelegram):
    status, body = await raw_call(
        tg, "sendMessage", data={"chat_id": ANA, "text": "x", "reply_to": "3"}
    )
    assert (status, body["description"]) == (400, "Bad Request: unknown parameter reply_to")

    status, body = await raw_call(tg, "getUpdates", data={"limit": "many"})
    assert status == 400 and 'parameter "limit" must be of type Integer' in body["description"]

    no_text = {"inline_keyboard": [[{"callback_data": "x"}]]}
    status, body = await raw_call(
        tg, "sendMessage", data={"chat_id": ANA, "text": "x", "reply_markup": json.dumps(no_text)}
    )
    assert status == 400
    assert 'field "reply_markup.inline_keyboard[0][0].text" is required' in body["description"]

    typo = {"inline_keyboard": [[{"text": "x", "callback": "x"}]]}
    status, body = await raw_call(
        tg, "sendMessage", data={"chat_id": ANA, "text": "x", "reply_markup": json.dumps(typo)}
    )
    assert status == 400 and "unknown field" in body["description"]

    status, body = await raw_call(
        tg, "sendMessage", data={"chat_id": ANA, "text": "x", "reply_markup": "{not json"}
    )
    assert status == 400 and "can't parse reply_markup" in body["description"]
    assert tg.requests == []
    assert len(tg.errors) == 5


async def test_json_body_query_string_and_case_insensitive_method(tg: FakeTelegram):
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    status, body = await raw_call(
        tg, "SENDMESSAGE", json_body={"chat_id": ANA, "text": "json", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    status, body = await raw_call(
        tg, "sendMessage", query={"chat_id": str(ANA), "text": "query"}, http_method="GET"
    )
    assert status == 200 and body["result"]["text"] == "query"
    status, body = await raw_call(tg, "sendMessage", json_body={"chat_id": ANA, "text": 5})
    assert status == 400
    assert [r["text"] for r in tg.sent(ANA)] == ["json", "query"]
    assert [m for m, _ in tg.requests] == ["sendMessage", "sendMessage"]


async def test_unknown_method_is_404(tg: FakeTelegram):
    status, body = await raw_call(tg, "sendTelepathy", data={"chat_id": ANA})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await raw_call(tg, "getFile", data={"file_id": "x"})  # real, not simulated
    assert (status, body["description"]) == (
        501,
        "Not Implemented: the fake does not implement getFile",
    )


async def test_wrong_token_is_401(tg: FakeTelegram):
    status, body = await raw_call(tg, "getMe", token="123456:wrong")
    assert (status, body["description"]) == (401, "Unauthorized")
    wrong = telegram.Bot("123456:wrong", base_url=tg.base_url, base_file_url=tg.base_file_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()


async def test_chat_not_found(bot: telegram.Bot):
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "hello?")


# ---- getUpdates -----------------------------------------------------------------------


async def test_get_updates_offset_confirms_updates(tg: FakeTelegram, bot: telegram.Bot):
    ids = [tg.push_message(ANA, f"m{i}")["update_id"] for i in range(3)]
    assert ids == list(range(ids[0], ids[0] + 3))
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates()] == ids  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], limit=1)] == [ids[1]]
    assert tg.pending_updates == 2
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert tg.pending_updates == 0
    # Confirmed updates never come back; new ones get higher ids.
    new = tg.push_message(ANA, "later")["update_id"]
    assert [u.update_id for u in await bot.get_updates()] == [new]
    assert new > ids[2]


async def test_get_updates_negative_offset(tg: FakeTelegram, bot: telegram.Bot):
    ids = [tg.push_message(ANA, f"m{i}")["update_id"] for i in range(3)]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [ids[2]]
    assert tg.pending_updates == 1


async def test_long_poll_returns_as_soon_as_an_update_arrives(tg: FakeTelegram, bot: telegram.Bot):
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    tg.push_message(ANA, "wake up")
    [update] = await poll
    assert update.message.text == "wake up"
    assert time.monotonic() - started < 1.5


async def test_long_poll_times_out_empty(bot: telegram.Bot):
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2


async def test_second_poller_terminates_the_first(tg: FakeTelegram, bot: telegram.Bot):
    first = asyncio.create_task(raw_call(tg, "getUpdates", data={"timeout": "5"}))
    await asyncio.sleep(0.1)
    assert await bot.get_updates() == ()
    status, body = await first
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"
    )
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    await raw_call(tg, "getUpdates")
    with pytest.raises(Conflict, match="(?i)terminated by other getupdates request"):
        await first


async def test_allowed_updates_filter_new_updates(tg: FakeTelegram, bot: telegram.Bot):
    await bot.get_updates(allowed_updates=["callback_query"])
    tg.push_message(ANA, "ignored")
    assert tg.pending_updates == 0 and tg.stats["updates_dropped"] == 1
    await bot.get_updates(allowed_updates=[])  # back to the default set
    tg.push_message(ANA, "seen")
    assert tg.pending_updates == 1


async def test_webhook_blocks_get_updates(bot: telegram.Bot):
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict, match="(?i)webhook is active"):
        await bot.get_updates()
    with pytest.raises(BadRequest, match="(?i)https url must be provided"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


# ---- editing, callbacks, other methods --------------------------------------------------


async def test_edit_message_rules(tg: FakeTelegram, bot: telegram.Bot):
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=ANA, message_id=99)
    user_message = tg.push_message(ANA, "mine")["message"]["message_id"]
    with pytest.raises(BadRequest, match="(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=ANA, message_id=user_message)

    sent = await bot.send_message(ANA, "<b>Q</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await sent.edit_text("<b>Q</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await sent.edit_reply_markup(keyboard("a"))

    edited = await sent.edit_reply_markup(keyboard("b"))
    assert edited.reply_markup == keyboard("b")
    # Like Telegram, editing the text without reply_markup removes the keyboard.
    edited = await sent.edit_text("Q answered")
    assert edited.text == "Q answered" and edited.reply_markup is None
    record = tg.last(ANA)
    assert record["text"] == "Q answered" and record["reply_markup"] is None
    assert record["edits"] == 2

    assert await sent.delete()
    assert tg.last(ANA)["deleted"]
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await sent.delete()


async def test_answer_callback_query_only_once(tg: FakeTelegram, bot: telegram.Bot):
    message = await bot.send_message(ANA, "Pick", reply_markup=keyboard("a", "b"))
    query_id = tg.press_button(ANA, "b")
    assert tg.callback_answers == {}
    assert await bot.answer_callback_query(query_id, text="Saved", show_alert=True)
    assert tg.callback_answers[query_id] == {
        "text": "Saved", "show_alert": True, "url": None, "cache_time": None
    }  # fmt: skip
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query("12345")
    other = tg.push_callback(ANA, message.message_id, "a")
    with pytest.raises(BadRequest):
        await bot.answer_callback_query(other, text="x" * 201)


async def test_documents_photos_and_chat_actions(tg: FakeTelegram, bot: telegram.Bot):
    doc = await bot.send_document(ANA, b"%PDF-1.4 plan", filename="plan.pdf", caption="Plan")
    assert doc.document.file_name == "plan.pdf" and doc.caption == "Plan"
    again = await bot.send_document(ANA, doc.document.file_id)  # re-send by file_id
    assert again.document.file_id == doc.document.file_id
    photo = await bot.send_photo(ANA, "https://example.org/cat.jpg")
    assert photo.photo[-1].width == 1280
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_photo(ANA, "not-a-file-id")
    assert await bot.send_chat_action(ANA, "typing")
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(ANA, "dancing")

    first, second, third = tg.sent(ANA)
    assert first["kind"] == "document" and first["text"] == "Plan"
    assert first["document"]["uploaded"] and first["document"]["size"] == 13
    assert first["document"]["file_name"] == "plan.pdf"
    assert first["document"]["content"] == b"%PDF-1.4 plan"  # what was uploaded, for tests
    assert not second["document"]["uploaded"]
    assert third["photo"]["source"] == "https://example.org/cat.jpg"
    # calls() lists every well-formed request, including ones the method then refused.
    assert [c["action"] for c in tg.calls("sendchataction")] == ["typing", "dancing"]


async def test_commands_chat_and_groups(tg: FakeTelegram, bot: telegram.Bot):
    await bot.set_my_commands([("start", "Start over"), ("help", "Get help")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert tg.commands()[0] == {"command": "start", "description": "Start over"}
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Start", "uppercase is invalid")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    chat = await bot.get_chat(ANA)
    assert chat.first_name == "Ana" and chat.type == "private"
    with pytest.raises(BadRequest, match="(?i)private chats"):
        await bot.leave_chat(ANA)

    tg.group(-100123, title="Team")
    await bot.send_message(-100123, "hello team")
    assert await bot.leave_chat(-100123)
    with pytest.raises(Forbidden, match="(?i)not a member"):
        await bot.send_message(-100123, "still here?")


# ---- faults and limits -------------------------------------------------------------------


async def test_blocked_user_is_forbidden(tg: FakeTelegram, bot: telegram.Bot):
    tg.block(ANA)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(ANA, "are you there?")
    tg.unblock(ANA)
    await bot.send_message(ANA, "welcome back")
    assert [m["text"] for m in tg.sent(ANA)] == ["welcome back"]
    assert tg.errors[0][2:] == (403, "Forbidden: bot was blocked by the user")


async def test_fail_next_500_is_a_network_error(tg: FakeTelegram, bot: telegram.Bot):
    tg.fail_next("sendMessage", status=500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as excinfo:
            await bot.send_message(ANA, "hi")
        assert not isinstance(excinfo.value, BadRequest)
    await bot.send_message(ANA, "third time lucky")
    assert len(tg.sent(ANA)) == 1
    assert tg.stats["injected_failures"] == 2


async def test_fail_for_is_an_outage_in_wall_time(tg: FakeTelegram, bot: telegram.Bot):
    tg.fail_for("sendMessage", 0.3)
    for _ in range(3):
        with pytest.raises(NetworkError):
            await bot.send_message(ANA, "hi")
    status, _ = await raw_call(tg, "getMe")
    assert status == 200  # other methods are unaffected
    await asyncio.sleep(0.35)
    await bot.send_message(ANA, "back")
    assert [m["text"] for m in tg.sent(ANA)] == ["back"]
    assert tg.stats["injected_failures"] == 3


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_429_is_retry_after(tg: FakeTelegram, bot: telegram.Bot):
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(ANA, "hi")
    status, body = await raw_call(tg, "getMe")
    assert status == 200  # other methods are unaffected
    with pytest.raises(ValueError, match="not a Bot API method"):
        tg.fail_next("sendMesage")


async def test_delay_next_times_out_but_delivers(tg: FakeTelegram, bot: telegram.Bot):
    tg.delay_next("sendMessage", 2.0)
    with pytest.raises(TimedOut):
        await bot.send_message(ANA, "slow", read_timeout=0.2)
    assert [m["text"] for m in tg.sent(ANA)] == ["slow"]  # delivered, the answer was late
    await bot.send_message(ANA, "fast", read_timeout=0.5)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limits(tg: FakeTelegram, bot: telegram.Bot):
    for user_id in (1002, 1003, 1004):
        tg.user(user_id)
    tg.set_rate_limits(global_per_second=3, per_chat_per_second=1, retry_after=2)
    await bot.send_message(ANA, "one")
    with pytest.raises(RetryAfter, match="Retry in 2 seconds"):
        await bot.send_message(ANA, "two")  # per-chat limit
    await bot.send_message(1002, "other chats are fine")
    await bot.send_message(1003, "third send this second")
    with pytest.raises(RetryAfter):
        await bot.send_message(1004, "fourth")  # global limit
    assert tg.stats["rate_limited"] == 2
    assert tg.stats["responses_by_status"] == {429: 2}
    assert [m for m, *_ in tg.errors] == ["sendMessage", "sendMessage"]
    tg.clear_rate_limits()
    await bot.send_message(1004, "fourth")


async def test_wait_for_reports_recent_activity(tg: FakeTelegram, bot: telegram.Bot):
    await bot.send_message(ANA, "only one")
    with pytest.raises(WaitTimeout) as excinfo:
        await tg.wait_for_sent(ANA, count=1, after=1, timeout=0.05)
    assert isinstance(excinfo.value, AssertionError)
    assert isinstance(excinfo.value, TimeoutError)
    assert "1 message(s) to chat 1001 after 1" in str(excinfo.value)
    assert "sendMessage chat_id=1001, text='only one'" in str(excinfo.value)
    [record] = await tg.wait_for_sent(ANA)
    assert record["text"] == "only one"


# ---- a whole PTB Application ------------------------------------------------------------


async def test_application_polls_and_replies(tg: FakeTelegram):
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text("How are you?", reply_markup=keyboard("good", "bad"))

    async def answer(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"You said: {update.callback_query.data}")

    async def echo(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"echo: {update.message.text}")

    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(answer))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        tg.push_message(ANA, "/start")
        [question] = await tg.wait_for_sent(ANA)
        assert question["text"] == "How are you?"

        query_id = tg.press_button(ANA, "good")
        await tg.wait_for(lambda: tg.last(ANA)["edits"] == 1, message="the edit")
        assert tg.last(ANA)["text"] == "You said: good"
        assert query_id in tg.callback_answers

        tg.push_message(ANA, "hello")
        [reply] = await tg.wait_for_sent(ANA, after=1)
        assert reply["text"] == "echo: hello"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert tg.pending_updates == 0  # the updater confirmed everything when stopping
    assert tg.errors == []
