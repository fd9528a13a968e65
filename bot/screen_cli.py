"""`aftercare screen`: one message a line on standard input, one JSON object a line out
(`--explain`: the same in words). No token and no database: clinicians review the screen with
it, and outside checks measure it."""

from __future__ import annotations

import io
import json
import sys
from typing import TextIO

from messages.catalog import load_catalog
from messages.screen import ScreenResult, screen
from messages.screen_model import train_in_background

SAYS = {
    "crisis": "crisis resources and an alert to the counselor",
    "ask": "the direct question “Are you safe right now?”",
    "lapse": "the lapse and overdose-safety messages",
    "craving": "a coping prompt",
    None: "no response (kept as a note)",
}


def as_json(text: str, result: ScreenResult) -> str:
    return json.dumps(
        {
            "text": text,
            "response": result.response,
            "categories": list(result.categories),
            "scores": result.scores,
            "why": result.explain(),
        },
        ensure_ascii=False,
    )


def in_words(text: str, result: ScreenResult) -> str:
    shown = text if len(text) <= 120 else text[:120] + "…"
    lines = [f"“{shown}”", f"  response: {SAYS[result.response]}"]
    if result.lapse and result.response != "lapse":
        lines.append(f"  and: {SAYS['lapse']}")
    if result.categories:
        lines.append(f"  why: {result.explain()}")
    if result.scores:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in result.scores.items())
        lines.append(f"  model scores: {scores}")
    return "\n".join(lines)


def run(explain: bool, source: TextIO | None = None, out: TextIO | None = None) -> int:
    source = source or io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    out = out or sys.stdout
    train_in_background()  # the model trains in a child while the content is read and checked
    rules = load_catalog().screen
    for line in source:
        text = line.rstrip("\r\n")
        result = screen(text, rules)
        print(in_words(text, result) if explain else as_json(text, result), file=out, flush=True)
    return 0
