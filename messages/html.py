"""Telegram HTML: escaping values, and checking our own templates use only Telegram's tags."""

from __future__ import annotations

import html
import re

# The tags Telegram accepts in parse_mode=HTML.
TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


def escape(value: object) -> str:
    """Make any value safe to put inside Telegram HTML text."""
    return html.escape(str(value), quote=False)


def check_html(text: str) -> str | None:
    """Return what is wrong with `text` as Telegram HTML, or None when it is well formed."""
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        problem = _check_plain(text[position : match.start()])
        if problem:
            return problem
        closing, name = match.group(1), match.group(2).lower()
        if name not in TELEGRAM_TAGS:
            return f"unsupported tag <{name}>"
        if closing:
            if not stack or stack.pop() != name:
                return f"</{name}> does not close the open tag"
        else:
            stack.append(name)
        position = match.end()
    problem = _check_plain(text[position:])
    if problem:
        return problem
    if stack:
        return f"<{stack[-1]}> is never closed"
    return None


def strip_html(text: str) -> str:
    """Plain text of a Telegram HTML message (for transcripts and length checks)."""
    return html.unescape(_TAG.sub("", text))


def _check_plain(segment: str) -> str | None:
    if "<" in segment or ">" in segment:
        return "a bare < or > must be written &lt; or &gt;"
    if "&" in _ENTITY.sub("", segment):
        return "a bare & must be written &amp;"
    return None
