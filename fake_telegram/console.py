"""`aftercare fake-telegram`: the local Bot API server on its own, to try the bot offline.

The bot is pointed at it with two environment variables (printed at start), and this process
plays the people writing to it. Each line typed on standard input is one of:

    1001 hello                       user 1001 writes "hello" to the bot
    1001 [Yes, I agree]              user 1001 taps the button with that label (or part of it)
    1001 https://t.me/...?start=X    user 1001 opens a deep link (sends "/start X", like Telegram)
    user 1001 Dana es                user 1001 is called Dana and writes in Spanish

Whatever the bot sends (messages, photos, edits) is printed as it arrives. Ctrl-C (SIGINT) or
SIGTERM stops the server; so does the end of input typed at a terminal (Ctrl-D). With input
from a pipe or /dev/null, the server keeps running after the input ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import threading
from typing import Any, TextIO

from fake_telegram.server import EntityParseError, FakeTelegram, parse_html

LOCAL_TOKEN = "123456:LOCAL-only-token"  # noqa: S105 - a fake server's, never Telegram's
BOT_USERNAME = "aftercare_local_bot"
SHOWN_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText",
                 "editMessageCaption", "editMessageReplyMarkup")  # fmt: skip

_LINE = re.compile(r"(-?\d+)\s+(.*)", re.DOTALL)
_USER = re.compile(r"user\s+(\d+)\s+(\S+)(?:\s+([A-Za-z_-]{2,10}))?")
_DEEP_LINK = re.compile(r"https?://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]+)")


def banner(tg: FakeTelegram) -> str:
    return "\n".join(
        [
            f"Local Bot API server (a fake Telegram; nothing leaves this machine) at "
            f"http://{tg.host}:{tg.port}",
            "Point the bot at it, in another shell:",
            f"  export TELEGRAM_BOT_TOKEN={tg.token}",
            f"  export TELEGRAM_API_BASE_URL={tg.base_url}",
            '  aftercare invite-counselor --name "Dana Reyes"',
            "  aftercare run",
            "Then type here as a user, one line each:",
            "  1001 https://t.me/...?start=...   open the invite link as user 1001",
            "  1001 /invite Sam                  write to the bot",
            "  2001 [Yes, I agree]               tap a button",
            "  user 2001 Sam es                  name a user (and their language)",
            "Ctrl-C stops it.",
        ]
    )


class Console:
    """Turns typed lines into updates and prints what the bot sends."""

    def __init__(self, tg: FakeTelegram, out: TextIO) -> None:
        self.tg = tg
        self.out = out
        self.seen = 0  # requests already looked at
        self.known: set[int] = set()  # users who have a name

    def handle(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if match := _USER.fullmatch(line):
            user_id, name, language = int(match[1]), match[2], match[3] or "en"
            self.tg.user(user_id, first_name=name, language_code=language)
            self.known.add(user_id)
            self._print(f"(user {user_id} is {name}, language {language})")
            return
        match = _LINE.fullmatch(line)
        if match is None:
            self._print('(type "<user id> <text>", "<user id> [button]" or "user <id> <name>")')
            return
        user_id, text = int(match[1]), match[2].strip()
        if user_id not in self.known:
            self.tg.user(user_id, first_name=f"User{user_id}")
            self.known.add(user_id)
        try:
            if text.startswith("[") and text.endswith("]"):
                self.tg.press_button(user_id, text[1:-1])
            else:
                if link := _DEEP_LINK.fullmatch(text):
                    text = f"/start {link[1]}"
                self.tg.push_message(user_id, text)
        except (LookupError, ValueError) as exc:
            self._print(f"({exc})")

    def show_new(self) -> None:
        """Print the bot's sends since the last call."""
        requests = self.tg.requests
        new, self.seen = requests[self.seen :], len(requests)
        for method, params in new:
            if method in SHOWN_METHODS:
                self._show(method, params)

    def _show(self, method: str, params: dict[str, Any]) -> None:
        chat = params.get("chat_id", "?")
        text = params.get("text") or params.get("caption") or ""
        if params.get("parse_mode") == "HTML":
            with contextlib.suppress(EntityParseError):
                text = parse_html(text)[0]
        what = {"sendPhoto": "(a photo) ", "sendDocument": "(a file) "}.get(method, "")
        if method.startswith("edit"):
            what = f"(edits message {params.get('message_id')}) "
        lines = f"{what}{text}".splitlines() or [""]
        head = f"bot → {chat}"
        self._print(f"{head} │ {lines[0]}")
        pad = " " * len(head)
        for line in lines[1:]:
            self._print(f"{pad} │ {line}")
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
            self._print(f"{pad} │ " + "  ".join(f"[{button.get('text')}]" for button in row))

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _read_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """In a daemon thread (works for a terminal, a pipe and a file alike): stdin into the queue,
    then None at its end."""
    for line in sys.stdin:
        try:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        except RuntimeError:  # the loop has closed: we are stopping
            return
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(lines.put_nowait, None)


async def serve(host: str, port: int, token: str = LOCAL_TOKEN, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=_read_lines, args=(loop, lines), daemon=True).start()
    stop_at_end = sys.stdin.isatty()
    async with FakeTelegram(token=token, bot_username=BOT_USERNAME, host=host, port=port,
                            bot_first_name="Aftercare (local)") as tg:  # fmt: skip
        console = Console(tg, out)
        print(banner(tg), file=out, flush=True)
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(lines.get(), 0.1)
            except TimeoutError:
                pass
            else:
                if line is not None:
                    console.handle(line)
                elif stop_at_end:
                    break
            console.show_new()
    print("local Bot API server stopped", file=out, flush=True)
    return 0


def main(host: str = "127.0.0.1", port: int = 8081, token: str = LOCAL_TOKEN) -> int:
    try:
        return asyncio.run(serve(host, port, token))
    except OSError as exc:  # the port is taken, or the host is not ours
        print(f"aftercare fake-telegram: can't listen on {host}:{port}: {exc.strerror}",
              file=sys.stderr)  # fmt: skip
        return 1
