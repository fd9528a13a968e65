"""Finding a participant in a counselor's caseload from their words (a number, a whole name, a
first name or the start of one), and the choice to offer when no single one fits."""

from __future__ import annotations

from dataclasses import dataclass

from db import people
from db.models import Participant
from messages import lookup, render
from messages.render import fill


@dataclass(frozen=True)
class Lookup:
    """Who a counselor's words name within what they may see: one participant, or the
    candidates (all of them when nothing was typed) and why there is no single one."""

    participant: Participant | None
    problem: str | None = None  # usage | not_found | ambiguous
    candidates: tuple[Participant, ...] = ()


async def look_up(session, counselor, text: str) -> Lookup:
    visible = await people.caseload(session, counselor)
    if not text.strip():
        return Lookup(None, "usage", tuple(visible))
    ids = lookup.matching(text, [(p.id, p.first_name or "") for p in visible])
    found = [p for p in visible if p.id in ids]
    if len(found) == 1:
        return Lookup(found[0])
    return Lookup(None, "ambiguous" if found else "not_found", tuple(found))


def choose(catalog, command: str, found: Lookup, wanted: str, usage: str | None = None):
    """No single participant: say why, with a button for each candidate (at most a screenful)."""
    texts = catalog.texts["history"]
    if found.problem == "usage":
        message = usage or texts["usage"]
    else:
        message = fill(texts[found.problem], text=wanted[:40])
    if not found.candidates:
        return message
    return render.participant_choice(catalog, message, command,
                                     [(p.id, p.first_name or "") for p in found.candidates])
