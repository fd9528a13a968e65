"""/plan: the guided set-up of a participant's relapse-prevention plan, showing it, changing a
part of it, and whether their counselor may see it (asked once, at the end of the set-up).

Each function does its work in the caller's transaction and returns the Reply to send. Where
the set-up stands is a Conversation row, so a restart continues at the same step.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import safety
from bot.reply import Reply
from bot.services import Services
from db import audit, conversations, plans
from db.models import Conversation, Participant, RecoveryPlan
from messages import plan as plan_text
from messages.callback_data import PlanButton
from messages.render import Rendered

FLOW = "plan"
PARTS = ("people", "steps", "reasons")
EDIT = {"ep": "people", "es": "steps", "er": "reasons"}


def content(plan: RecoveryPlan) -> plan_text.PlanContent:
    return plan_text.PlanContent.of(plan.people, plan.first_steps, plan.reasons)


def _view(services: Services, plan: RecoveryPlan) -> Rendered:
    return plan_text.view(services.catalog, content(plan), bool(plan.share_with_counselor))


async def command(services: Services, session: AsyncSession, participant: Participant) -> Reply:
    """/plan: the set-up where it stands, the plan with buttons to change it, or an invitation
    to make one."""
    conversation = await conversations.current(session, participant.id)
    plan = await plans.of(session, participant.id)
    if conversation is not None and conversation.flow == FLOW and plan is not None:
        return ask_again(services, participant, conversation)
    if plans.has_content(plan):
        return Reply([_view(services, plan)])
    return Reply([plan_text.intro(services.catalog)])


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
    return Reply([catalog.text("plan", "saved"), _view(services, plan)], clear_pressed=True)


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
            return Reply([_view(services, plan)], clear_pressed=True)
        return await _begin(services, session, participant, "people", "setup")
    if data.action == "no":
        await _end_if_plan(session, participant)
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
    """Typed text at the step the set-up stands at."""
    catalog, now = services.catalog, services.now()
    plan = await plans.get_or_create(session, participant.id, now)
    conversations.touch(conversation, now)
    step = conversation.step
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
    if step == "reasons":
        reasons = plan_text.clean_reasons(typed)
        if len(reasons) > plan_text.REASONS_MAX:
            limit = plan_text.REASONS_MAX
            return Reply([plan_text.too_long(catalog, limit, bool(plan.reasons))])
        urgent, _ = await safety.screen_setup_text(session, services, participant, typed, True)
        plans.set_reasons(plan, reasons, now)
        reply = await _next(services, session, participant, conversation, plan)
        reply.urgent = urgent
        return reply
    # The sharing question waits for a tap.
    return await safety.not_an_answer(session, services, participant, typed,
                           plan_text.ask_share(catalog))  # fmt: skip
