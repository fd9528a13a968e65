"""Finds English sentences in text meant to be in another language: a small stop-word count.

A sentence reads as English when at least two of its words are common English function
words and they make up a quarter of it or more. Spanish shares few such words with English;
the ones it shares ("a", "no", "me", "has", "he", "come") are left out of the list. Names the
bot does not translate (helplines, brands, our own name) and anything that is not a word
(numbers, commands, links, time zones) are taken out first.
"""

from __future__ import annotations

import re

from messages.html import strip_html

STOP_WORDS = frozenset(
    """
    the you your yours and to is are it its of for with this that these those have be been
    being not can can't cannot will won't what when where which who why how please my mine i
    i'm i'll i've we our they their them an or at on in if from any was were do does did don't
    doesn't here there now just more all would should could by about again send tap today
    tomorrow yet still than then so into only also our us it's that's there's let's you're
    you've you'll they'll isn't aren't here's what's
    """.split()  # noqa: SIM905 (a hundred words read better as words)
)
# Said as they are in every language.
NAMES = (
    "Never Use Alone",
    "SMART Recovery",
    "Narcan",
    "Suboxone",
    "Vivitrol",
    "Sublocade",
    "SAMHSA",
    "aftercare",
    "Hungry, Angry, Lonely, Tired",
)
_NOT_WORDS = re.compile(r"(https?://\S+|[/@]\S+|\S*_\S*|\S*\d\S*|[A-Z][a-z]+/[A-Za-z_/]+)")
_SENTENCE = re.compile(r"[.!?:;•\n()\"“”«»]+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def english_sentences(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The sentences of `text` (Telegram HTML or plain) that read as English. `allowed`: more
    names to take out first, such as the people in the conversation."""
    plain = strip_html(text).replace("\u2019", "'")
    for name in (*NAMES, *allowed):
        plain = plain.replace(name, " ")
    plain = _NOT_WORDS.sub(" ", plain)
    found = []
    for sentence in _SENTENCE.split(plain):
        words = [w.casefold() for w in _WORD.findall(sentence)]
        english = [w for w in words if w in STOP_WORDS]
        if len(english) >= 2 and len(english) * 4 >= len(words):
            found.append(sentence.strip())
    return found
