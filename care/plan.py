"""/plan: the guided set-up of a participant's relapse-prevention plan, showing it, changing a
part of it, and whether their counselor may see it (asked once, at the end of the set-up).

Each function does its work in the caller's transaction and returns the Reply to send. Where
the set-up stands is a Conversation row, so a restart continues at the same step.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from care import choices, safety
from care.reply import Reply, as_typed
from care.services import Services
from db import audit, awaiting, conversations, plans
from db.awaiting import Asked
from db.models import Conversation, Participant, RecoveryPlan
from messages import plan as plan_text
from messages.callback_data import PlanButton
from messages.render import Rendered

FLOW = "plan"
PARTS = ("people", "steps", "reasons")
EDIT = {"ep": "people", "es": "steps", "er": "reasons"}


def content(plan: RecoveryPlan) -> plan_text.PlanContent:
    return plan_text.PlanContent.of(plan.people, plan.first_steps, plan.reasons)


INTRO, VIEW = "intro", "view"  # the /plan message being answered: the invitation, or the plan


def _view(services: Services, session: AsyncSession, plan: RecoveryPlan) -> Rendered:
    """The plan with its buttons; typed, a button's label or number does what it does."""
    awaiting.asking(session, awaiting.PLAN, services.now(), plan.id, VIEW)
    return plan_text.view(services.catalog, content(plan), bool(plan.share_with_counselor))


def _intro(services: Services, session: AsyncSession) -> Rendered:
    awaiting.asking(session, awaiting.PLAN, services.now(), step=INTRO)
    return plan_text.intro(services.catalog)


async def command(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """/plan: the set-up where it stands, the plan with buttons to change it, or an invitation
    to make one."""
    conversation = await conversations.current(session, participant.id)
    plan = await plans.of(session, participant.id)
    if conversation is not None and conversation.flow == FLOW and plan is not None:
        return ask_again(services, participant, conversation)
    if plans.has_content(plan):
        return Reply([_view(services, session, plan)])
    return Reply([_intro(services, session)])


def ask_again(services: Services, participant: Participant, conversation: Conversation) -> Reply:
    """The question of the step the set-up stands at (asked again now: typed text comes here)."""
    conversations.touch(conversation, services.now())
    if conversation.step == "share":
        return Reply([plan_text.ask_share(services.catalog)])
    return Reply([_ask(services, conversation.step, None)])


def _ask(services: Services, part: str, plan: RecoveryPlan | None) -> Rendered:
    catalog = services.catalog
    if part == "people":
        return plan_text.ask_people(catalog)
    if part == "steps":
        return plan_text.ask_steps(catalog)
    return plan_text.ask_reasons(catalog)


async def _begin(
    services: Services, session: AsyncSession, participant: Participant, part: str, mode: str
) -> Reply:
    now = services.now()
    plan = await plans.get_or_create(session, participant.id, now)
    # `replaced`: the part's old entries go once the first new one arrives (a skip keeps them).
    await conversations.start(session, participant.id, FLOW, part,
                              {"mode": mode, "replaced": False}, now)  # fmt: skip
    return Reply([_ask(services, part, plan)], clear_pressed=True)


async def _finish(
    services: Services, session: AsyncSession, participant: Participant, plan: RecoveryPlan
) -> Reply:
    await conversations.end(session, participant.id)
    catalog = services.catalog
    if not plans.has_content(plan):
        return Reply([catalog.text("plan", "empty")], clear_pressed=True)
    saved: list[Rendered | str] = [catalog.text("plan", "saved"), _view(services, session, plan)]
    return Reply(saved, clear_pressed=True)


async def _next(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    conversation: Conversation,
    plan: RecoveryPlan,
    before: list[Rendered | str] | None = None,
) -> Reply:
    """Move on from the current part: the next part in the set-up, the sharing question (once),
    or the finished plan. Changing one part from /plan ends after that part."""
    now = services.now()
    index = PARTS.index(conversation.step) if conversation.step in PARTS else len(PARTS)
    if conversation.data.get("mode") == "setup" and index + 1 < len(PARTS):
        part = PARTS[index + 1]
        conversations.advance(conversation, part, now, replaced=False)
        reply = Reply([_ask(services, part, plan)], clear_pressed=True)
    elif plan.share_with_counselor is None and plans.has_content(plan):
        conversations.advance(conversation, "share", now)
        reply = Reply([plan_text.ask_share(services.catalog)], clear_pressed=True)
    else:
        reply = await _finish(services, session, participant, plan)
    reply.messages[:0] = before or []
    return reply


def _replacing(conversation: Conversation, plan: RecoveryPlan, part: str) -> None:
    """The first new entry of a part replaces what the part held before."""
    if conversation.data.get("replaced"):
        return
    now = conversation.updated_at
    if part == "people":
        plans.set_people(plan, [], now)
    elif part == "steps":
        plans.set_first_steps(plan, [], now)
    conversation.data = {**conversation.data, "replaced": True}


async def button(
    services: Services, session: AsyncSession, participant: Participant, data: PlanButton
) -> Reply:
    catalog, now = services.catalog, services.now()
    expired = Reply(toast=catalog.text("general", "expired_button"))
    if data.action == "go":
        plan = await plans.of(session, participant.id)
        if plans.has_content(plan):  # an old offer, pressed after the plan was made
            return Reply([_view(services, session, plan)], clear_pressed=True)
        return await _begin(services, session, participant, "people", "setup")
    if data.action == "no":
        await _end_if_plan(session, participant)
        awaiting.answered(session, awaiting.PLAN)
        return Reply([catalog.text("plan", "not_now_reply")], clear_pressed=True)
    if data.action in EDIT:
        return await _begin(services, session, participant, EDIT[data.action], "edit")
    if data.action in ("s1", "s0"):
        plan = await plans.of(session, participant.id)
        if not plans.has_content(plan):
            return expired
        return _set_sharing(services, session, participant, plan, data.action == "s1")

    conversation = await conversations.current(session, participant.id)
    if conversation is None or conversation.flow != FLOW:
        return expired
    plan = await plans.get_or_create(session, participant.id, now)
    conversations.touch(conversation, now)
    step = conversation.step
    if data.action in ("dn", "sk") and step in PARTS:
        return await _next(services, session, participant, conversation, plan)
    if data.action == "st" and step == "steps" and data.index < len(catalog.plan_first_steps):
        return await _add_step(services, session, participant, conversation, plan,
                               catalog.plan_first_steps[data.index])  # fmt: skip
    if data.action in ("sy", "sn") and step == "share":
        reply = _set_sharing(services, session, participant, plan, data.action == "sy")
        finished = await _finish(services, session, participant, plan)
        finished.messages.insert(0, reply.messages[0])
        return finished
    return expired


def _set_sharing(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    plan: RecoveryPlan,
    share: bool,
) -> Reply:
    now = services.now()
    awaiting.answered(session, awaiting.PLAN)
    plans.set_sharing(plan, share, now)
    subject = f"participant:{participant.id}"
    audit.record(session, now, subject, "plan_shared" if share else "plan_not_shared", subject)
    text = services.catalog.text("plan", "shared" if share else "unshared")
    return Reply([text], clear_pressed=True)


async def _end_if_plan(session: AsyncSession, participant: Participant) -> None:
    conversation = await conversations.current(session, participant.id)
    if conversation is not None and conversation.flow == FLOW:
        await conversations.end(session, participant.id)


async def _add_step(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    conversation: Conversation,
    plan: RecoveryPlan,
    step: str,
    urgent: list[Rendered] | None = None,
) -> Reply:
    _replacing(conversation, plan, "steps")
    if step not in plan.first_steps:
        plans.set_first_steps(plan, [*plan.first_steps, step], services.now())
    if len(plan.first_steps) >= plan_text.MAX_STEPS:
        reply = await _next(services, session, participant, conversation, plan)
    else:
        added = plan_text.step_added(services.catalog, step, plan.first_steps)
        reply = Reply([added], clear_pressed=True)
    reply.urgent = urgent or []
    return reply


async def text(
    services: Services,
    session: AsyncSession,
    participant: Participant,
    conversation: Conversation,
    typed: str,
) -> Reply:
    """Typed text at the step the set-up stands at: a button's whole label (Done, Skip, a
    suggested first step, or its number there) does what the button does; other words are
    the entry asked for."""
    catalog, now = services.catalog, services.now()
    plan = await plans.get_or_create(session, participant.id, now)
    conversations.touch(conversation, now)
    step = conversation.step
    if step == "share":
        read = choices.read(catalog, typed, plan_text.ask_share(catalog), yes=PlanButton("sy"),
                            no=PlanButton("sn"))  # fmt: skip
        if read.button is None:
            return await safety.not_an_answer(session, services, participant, typed, read.again)
        return as_typed(await button(services, session, participant, read.button))
    pressed = _typed_button(services, plan, step, typed)
    if pressed is not None:
        return as_typed(await button(services, session, participant, pressed))
    if step == "people":
        person = plan_text.parse_person(typed)
        if person is None:
            again = plan_text.person_invalid(catalog, typed, bool(plan.people))
            return await safety.not_an_answer(session, services, participant, typed, again)
        urgent, _ = await safety.screen_setup_text(session, services, participant, typed, True)
        _replacing(conversation, plan, "people")
        entry = {"name": person.name, "contact": person.contact}
        plans.set_people(plan, [*plan.people, entry], now)
        if len(plan.people) >= plan_text.MAX_PEOPLE:
            reply = await _next(services, session, participant, conversation, plan)
        else:
            reply = Reply([plan_text.person_added(catalog, person)])
        reply.urgent = urgent
        return reply
    if step == "steps":
        step_text = plan_text.clean_step(typed)
        if len(step_text) > plan_text.STEP_MAX:
            limit = plan_text.STEP_MAX
            return Reply([plan_text.too_long(catalog, limit, bool(plan.first_steps))])
        urgent, _ = await safety.screen_setup_text(session, services, participant, typed, True)
        return await _add_step(services, session, participant, conversation, plan, step_text,
                               urgent)  # fmt: skip
    reasons = plan_text.clean_reasons(typed)
    if len(reasons) > plan_text.REASONS_MAX:
        limit = plan_text.REASONS_MAX
        return Reply([plan_text.too_long(catalog, limit, bool(plan.reasons))])
    urgent, _ = await safety.screen_setup_text(session, services, participant, typed, True)
    plans.set_reasons(plan, reasons, now)
    reply = await _next(services, session, participant, conversation, plan)
    reply.urgent = urgent
    return reply


def _typed_button(
    services: Services, plan: RecoveryPlan, step: str, typed: str
) -> PlanButton | None:
    """Done or Skip typed whole at any part; at the first steps, a suggestion's whole text or
    its number as shown (any other words there are a step of their own)."""
    texts = services.catalog.texts["plan"]
    done = [(texts["done_button"], PlanButton("dn")), (texts["skip_button"], PlanButton("sk"))]
    if step != "steps":
        pressed = choices.label_typed(typed, Rendered("", (tuple(done),)))
        return pressed if isinstance(pressed, PlanButton) else None
    shown = plan_text.ask_steps(services.catalog, plan.first_steps)
    suggested = [b for b in choices.buttons_of(shown)
                 if isinstance(b[1], PlanButton) and b[1].action == "st"]  # fmt: skip
    if typed.strip().isdigit():
        found = choices.read(services.catalog, typed, shown, options=suggested).button
        return found if isinstance(found, PlanButton) else None
    pressed = choices.label_typed(typed, Rendered("", (tuple(suggested), tuple(done))))
    return pressed if isinstance(pressed, PlanButton) else None


# --- the /plan message: the invitation or the plan, answered in words -------------------------


async def menu_text(
    services: Services, session: AsyncSession, participant: Participant, asked: Asked, typed: str
) -> Reply | None:
    """A typed reply to the /plan message: what the button it stands for does; None when that
    message no longer stands (a plan made or gone since)."""
    question = await menu_question(services, session, participant, asked)
    if question is None:
        awaiting.answered(session, awaiting.PLAN)
        return None
    catalog = services.catalog
    if asked.step == INTRO:
        read = choices.read(catalog, typed, question, yes=PlanButton("go"), no=PlanButton("no"))
    else:
        read = choices.read(catalog, typed, question)
    if read.button is None:
        return await safety.not_an_answer(session, services, participant, typed, read.again)
    return as_typed(await button(services, session, participant, read.button))


async def menu_question(
    services: Services, session: AsyncSession, participant: Participant, asked: Asked
) -> Rendered | None:
    """The /plan message again (asked anew), or None when it no longer stands."""
    plan = await plans.of(session, participant.id)
    if asked.step == INTRO:
        return None if plans.has_content(plan) else _intro(services, session)
    return _view(services, session, plan) if plans.has_content(plan) else None
