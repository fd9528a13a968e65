"""Which participant a counselor means by what they typed (/history, /discharge, /medication).
Pure: names in, ids out."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def _folded(text: str) -> str:
    """Case and accents set aside, one space between words: "  ÁNN  <3 " reads "ann <3"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def matching(wanted: str, people: Sequence[tuple[int, str]]) -> list[int]:
    """The ids `wanted` names, most exact first: a number (with or without #), the whole name,
    the first name, then the start of a name. An empty list when nothing fits; several when it
    is ambiguous."""
    text = _folded(wanted).lstrip("#").strip()
    if not text:
        return []
    if text.isdigit():
        return [pid for pid, _ in people if pid == int(text)]
    names = [(pid, _folded(name)) for pid, name in people]
    for rule in (
        lambda name: name == text,
        lambda name: name.split(" ", 1)[0] == text,
        lambda name: name.startswith(text),
    ):
        found = [pid for pid, name in names if rule(name)]
        if found:
            return found
    return []
