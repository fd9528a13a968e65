"""The personal relapse-prevention plan: reading what a participant types into it, and showing
it (to them at a hard moment, with its buttons in /plan, or to a counselor they shared it with).
Pure: plain data in, HTML-safe text and buttons out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from messages.callback_data import PlanButton
from messages.catalog import Catalog
from messages.render import Markup, Rendered, fill

MAX_PEOPLE = 3
MAX_STEPS = 3
NAME_MAX = 60
STEP_MAX = 200
REASONS_MAX = 1000

# A phone number: 7 to 15 digits, with the usual + ( ) - . and spaces between them.
_PHONE = re.compile(r"(?<![\w@])\+?\(?\d[\d\s().\-]*\d\)?(?!\w)")
# A Telegram @username: 5 to 32 characters, starting with a letter.
_USERNAME = re.compile(r"(?<!\w)@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")
_SEPARATORS = " \t,;:–—-"


@dataclass(frozen=True)
class TrustedPerson:
    name: str
    contact: str  # a phone number or an @username, as they typed it


@dataclass(frozen=True)
class PlanContent:
    people: tuple[TrustedPerson, ...] = ()
    first_steps: tuple[str, ...] = ()
    reasons: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.people or self.first_steps or self.reasons)

    @classmethod
    def of(
        cls, people: Sequence[dict[str, str]], first_steps: Sequence[str], reasons: str | None
    ) -> PlanContent:
        """From stored data: people as {"name": ..., "contact": ...}."""
        found = tuple(TrustedPerson(p.get("name", ""), p.get("contact", "")) for p in people)
        return cls(found, tuple(first_steps), reasons or None)


def parse_person(text: str) -> TrustedPerson | None:
    """'Maria 555-123-4567', 'Mom: +1 (555) 123 4567', 'Jo @jo_recovery' -> name and contact;
    None when there is no name or no phone number / @username."""
    cleaned = " ".join(text.split())
    contact = None
    if match := _USERNAME.search(cleaned):
        contact = match.group(0)
    else:
        for candidate in _PHONE.finditer(cleaned):
            if 7 <= sum(c.isdigit() for c in candidate.group(0)) <= 15:
                match, contact = candidate, candidate.group(0)
    if match is None or contact is None:
        return None
    name = (cleaned[: match.start()] + " " + cleaned[match.end() :]).strip(_SEPARATORS)
    name = " ".join(name.split())
    if not any(c.isalpha() for c in name) or len(name) > NAME_MAX:
        return None
    return TrustedPerson(name, contact.strip())


def clean_step(text: str) -> str:
    return " ".join(text.split())


def clean_reasons(text: str) -> str:
    """Their own words, kept as written: only outer blank space goes."""
    return text.strip()


# --- showing the plan -------------------------------------------------------------------------


def body(catalog: Catalog, plan: PlanContent) -> Markup:
    """The plan's parts, each under its heading; parts left empty are left out."""
    texts = catalog.texts["plan"]
    parts: list[str] = []
    if plan.people:
        lines = [fill(texts["person"], name=p.name, contact=p.contact) for p in plan.people]
        parts.append("\n".join([texts["people"], *lines]))
    if plan.first_steps:
        lines = [fill(texts["step"], step=s) for s in plan.first_steps]
        parts.append("\n".join([texts["steps"], *lines]))
    if plan.reasons:
        parts.append(texts["reasons"] + "\n" + fill("{reasons}", reasons=plan.reasons))
    return Markup("\n\n".join(parts))


def at_hard_moment(catalog: Catalog, plan: PlanContent) -> Rendered:
    """Their own plan, shown with a coping idea, after crisis resources, or after a lapse."""
    return Rendered(catalog.text("plan", "hard_moment") + "\n\n" + body(catalog, plan))


def offer(catalog: Catalog) -> Rendered:
    """No plan yet: an invitation to make one (at most once a week)."""
    button = (catalog.text("plan", "offer_button"), PlanButton("go"))
    return Rendered(catalog.text("plan", "offer"), ((button,),))


def view(catalog: Catalog, plan: PlanContent, shared: bool) -> Rendered:
    """/plan with a plan: the plan, who sees it, and buttons to change each part."""
    texts = catalog.texts["plan"]
    note = texts["shared_note" if shared else "private_note"]
    text = "\n\n".join([texts["header"], body(catalog, plan), note])
    share = (
        (texts["share_off"], PlanButton("s0")) if shared else (texts["share_on"], PlanButton("s1"))
    )
    buttons = (
        ((texts["edit_people"], PlanButton("ep")), (texts["edit_steps"], PlanButton("es"))),
        ((texts["edit_reasons"], PlanButton("er")),),
        (share,),
    )
    return Rendered(text, buttons)


def for_counselor(catalog: Catalog, name: str, plan: PlanContent) -> Markup:
    return fill(catalog.text("plan", "counselor"), name=name, plan=body(catalog, plan))


# --- the guided set-up ------------------------------------------------------------------------


def intro(catalog: Catalog) -> Rendered:
    texts = catalog.texts["plan"]
    buttons = ((texts["start"], PlanButton("go")), (texts["not_now"], PlanButton("no")))
    return Rendered(texts["intro"], (buttons,))


def _done_or_skip(catalog: Catalog, has_any: bool) -> tuple[tuple[str, PlanButton], ...]:
    texts = catalog.texts["plan"]
    if has_any:
        return ((texts["done_button"], PlanButton("dn")),)
    return ((texts["skip_button"], PlanButton("sk")),)


def ask_people(catalog: Catalog) -> Rendered:
    return Rendered(catalog.text("plan", "ask_people"), (_done_or_skip(catalog, False),))


def person_added(catalog: Catalog, person: TrustedPerson) -> Rendered:
    text = fill(catalog.text("plan", "person_added"), name=person.name, contact=person.contact)
    return Rendered(text, (_done_or_skip(catalog, True),))


def person_invalid(catalog: Catalog, typed: str, has_any: bool) -> Rendered:
    shown = typed if len(typed) <= 40 else typed[:40] + "…"
    text = fill(catalog.text("plan", "person_invalid"), text=shown)
    return Rendered(text, (_done_or_skip(catalog, has_any),))


def _suggestions(catalog: Catalog, chosen: Sequence[str]) -> list[tuple[tuple[str, PlanButton]]]:
    return [
        ((step, PlanButton("st", i)),)
        for i, step in enumerate(catalog.plan_first_steps)
        if step not in chosen
    ]


def ask_steps(catalog: Catalog, chosen: Sequence[str] = ()) -> Rendered:
    rows = [*_suggestions(catalog, chosen), _done_or_skip(catalog, bool(chosen))]
    return Rendered(catalog.text("plan", "ask_steps"), tuple(rows))


def step_added(catalog: Catalog, step: str, chosen: Sequence[str]) -> Rendered:
    rows = [*_suggestions(catalog, chosen), _done_or_skip(catalog, True)]
    return Rendered(fill(catalog.text("plan", "step_added"), step=step), tuple(rows))


def ask_reasons(catalog: Catalog) -> Rendered:
    return Rendered(catalog.text("plan", "ask_reasons"), (_done_or_skip(catalog, False),))


def ask_share(catalog: Catalog) -> Rendered:
    texts = catalog.texts["plan"]
    buttons = ((texts["share_yes"], PlanButton("sy")), (texts["share_no"], PlanButton("sn")))
    return Rendered(texts["ask_share"], (buttons,))


def too_long(catalog: Catalog, limit: int, has_any: bool, buttons: bool = True) -> Rendered:
    text = fill(catalog.text("plan", "too_long"), limit=limit)
    return Rendered(text, (_done_or_skip(catalog, has_any),) if buttons else ())
