"""The direct safety question ("Are you safe right now?") as content: its message and buttons,
and what a typed answer means. Pure."""

from __future__ import annotations

from messages.callback_data import SafetyAskButton
from messages.catalog import Catalog
from messages.render import Rendered
from messages.screen import normalize

ANSWERS = {"s": "safe", "h": "help", "c": "counselor"}  # button code -> answer


def question(catalog: Catalog, ask_id: int) -> Rendered:
    buttons = tuple(
        ((catalog.text("screen", f"ask_{answer}"), SafetyAskButton(ask_id, code)),)
        for code, answer in ANSWERS.items()
    )
    return Rendered(catalog.text("screen", "ask"), buttons)


def typed_answer(catalog: Catalog, text: str) -> str | None:
    """safe | help | counselor when the text is one of the answers' words or a button's label
    (case, accents, apostrophes and punctuation aside); None for anything else."""
    said = normalize(text).replace(" . ", " ").strip()
    for answer in ("help", "counselor", "safe"):  # help first: "not safe" is no "safe"
        words = catalog.text("screen", f"ask_{answer}_words").split(",")
        words.append(catalog.text("screen", f"ask_{answer}"))
        if said in {normalize(w).replace(" . ", " ").strip() for w in words}:
            return answer
    return None
