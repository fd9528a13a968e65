"""The personal relapse-prevention plan over real HTTP: the guided /plan set-up, and the plan
shown where it helps (a strong craving, /sos after the crisis resources, a lapse), an offer to
make one at most weekly, and the counselor's view only when the participant shares it."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Alert, AuditEvent, Note, RecoveryPlan
from tests.harness import enroll_participant, register_counselor

RESOURCES = "Suicide &amp; Crisis Lifeline"  # as sent, in HTML
REASONS = "My daughter Lily. I want to be at her birthday in June."


async def setup(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    return dana, sam


async def make_plan(sam, share: str = "Yes, share it") -> None:
    await sam.say("/plan")
    assert "people you trust" in sam.last_text()
    await sam.press("Let's make it")
    assert "1 of 3" in sam.last_text()
    await sam.say("Maria 555-123-4567")
    assert "Added Maria (555-123-4567)" in sam.last_text()
    await sam.press("Done")
    assert "2 of 3" in sam.last_text()
    await sam.press("Call someone on my list")
    await sam.say("Call Maria when the craving hits")
    await sam.press("Done")
    assert "3 of 3" in sam.last_text()
    await sam.say(REASONS)  # no crisis words: no response
    assert not any("Crisis" in t for t in sam.texts()[-2:])
    assert "would you like your counselor to see this plan" in sam.last_text()
    await sam.press(share)


async def stored_plan(bot) -> RecoveryPlan:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(RecoveryPlan))


def texts_of(replies: list[dict]) -> list[str]:
    return [r.get("text") or "" for r in replies]


async def test_guided_set_up_then_plan_shows_it(bot):
    _, sam = await setup(bot)
    await make_plan(sam)
    assert "Your counselor can now see your plan" in sam.texts()[-3]
    assert "Your plan is saved" in sam.texts()[-2]
    plan_view = sam.last_text()
    assert "Maria: 555-123-4567" in plan_view
    assert "Call someone on my list" in plan_view
    assert "Call Maria when the craving hits" in plan_view
    assert REASONS in plan_view and "Your counselor can see this plan" in plan_view
    stored = await stored_plan(bot)
    assert stored.people == [{"name": "Maria", "contact": "555-123-4567"}]
    assert stored.first_steps == ["Call someone on my list", "Call Maria when the craving hits"]
    assert stored.share_with_counselor is True
    # A plan names cravings on purpose: that is not a craving report.
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Alert))).all() == []

    await sam.say("/plan")
    assert sam.last_text() == plan_view
    # Changing one part replaces it once the first new entry arrives, then shows the plan.
    await sam.press("Change people")
    await sam.say("Jo @jo_recovery")
    await sam.press("Done")
    assert "Jo: @jo_recovery" in sam.last_text() and "Maria: " not in sam.last_text()
    assert sum("would you like your counselor" in t for t in sam.texts()) == 1  # asked once


async def test_every_part_can_be_skipped(bot):
    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.press("Let's make it")
    await sam.press("Skip")
    await sam.press("Skip")
    await sam.press("Skip")
    assert "there's no plan yet" in sam.last_text()
    await sam.say("/plan")
    assert "people you trust" in sam.last_text()  # the invitation again
    await sam.press("Not now")
    assert "any time with /plan" in sam.last_text()


async def test_craving_nine_brings_the_coping_prompt_and_their_own_reasons(bot):
    _, sam = await setup(bot)
    await make_plan(sam)
    await sam.say("/checkin")
    await sam.press("4")
    replies = texts_of(await sam.press("9"))
    coping = next(i for i, t in enumerate(replies) if "strong craving" in t)
    plan = next(i for i, t in enumerate(replies) if "Remember your plan" in t)
    question = next(i for i, t in enumerate(replies) if "used alcohol or drugs" in t)
    assert coping < plan < question
    assert REASONS in replies[plan] and "Maria: 555-123-4567" in replies[plan]


async def test_sos_gives_crisis_resources_first_then_the_plan(bot):
    _, sam = await setup(bot)
    await make_plan(sam, share="No, keep it to me")
    replies = texts_of(await sam.say("/sos"))
    resources = next(i for i, t in enumerate(replies) if RESOURCES in t)
    plan = next(i for i, t in enumerate(replies) if "Remember your plan" in t)
    assert resources == 0 and plan > resources
    assert "Call Maria when the craving hits" in replies[plan]
    # The persistent help button does the same.
    replies = texts_of(await sam.say("🆘 I need help now"))
    assert RESOURCES in replies[0] and "Remember your plan" in replies[-1]


async def test_lapse_brings_the_plan_after_the_overdose_message(bot):
    _, sam = await setup(bot)
    await make_plan(sam)
    await sam.say("/checkin")
    await sam.press("3")
    await sam.say("2")
    replies = texts_of(await sam.press("Yes"))
    overdose = next(i for i, t in enumerate(replies) if "tolerance is lower" in t)
    plan = next(i for i, t in enumerate(replies) if "Remember your plan" in t)
    assert plan == overdose + 1


async def test_without_a_plan_hard_moments_offer_one_at_most_weekly(bot, clock):
    _, sam = await setup(bot)
    first = texts_of(await sam.say("/sos"))
    assert RESOURCES in first[0]
    assert sum("don't have a plan for hard moments" in t for t in first) == 1
    again = texts_of(await sam.say("I want to use so bad right now"))
    assert not any("don't have a plan" in t for t in again)  # not twice in a week
    clock.advance(days=7)
    later = texts_of(await sam.say("/sos"))
    assert any("don't have a plan" in t for t in later)
    await sam.press("Make my plan")
    assert "1 of 3" in sam.last_text()


async def test_a_restart_mid_set_up_continues_at_the_same_step(bot):
    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.press("Let's make it")
    await sam.say("Maria 555-123-4567")
    await bot.restart()
    await sam.say("/plan")  # asks the step it stands at again
    assert "1 of 3" in sam.last_text()
    await sam.say("Jo @jo_recovery")
    assert "Added Jo (@jo_recovery)" in sam.last_text()
    await sam.say("Ana +1 (555) 987 6543")  # the third: on to the first steps
    assert "2 of 3" in sam.last_text()
    assert len((await stored_plan(bot)).people) == 3


async def test_bad_input_gets_a_kind_reply_and_nothing_said_is_lost(bot):
    dana, sam = await setup(bot)
    await sam.say("/plan")
    await sam.press("Let's make it")
    await sam.say("Maria")
    assert 'couldn\'t read "Maria" as a name and a phone number' in sam.last_text()
    await sam.say("honestly today has been a really rough day")
    assert "saved what you wrote for your counselor" in sam.last_text()
    assert "1 of 3" not in sam.last_text() and (await stored_plan(bot)).people == []
    await sam.press("Skip")
    await sam.press("Skip")
    # Crisis words, even typed as their reasons, get the crisis resources first and are kept
    # for the counselor; then the reasons question comes again (typed text answers it).
    reasons = "Some days I wish I was dead, but Lily keeps me going"
    replies = texts_of(await sam.say(reasons))
    assert RESOURCES in replies[0] and "reasons" in replies[-1].lower()
    await sam.say("Lily keeps me going")
    assert (await stored_plan(bot)).reasons == "Lily keeps me going"
    async with bot.sessionmaker() as session:
        kept = (await session.scalars(select(Note.text))).all()
    assert "honestly today has been a really rough day" in kept and reasons in kept
    await bot.dispatch()
    assert any("Crisis alert: Sam" in t for t in dana.texts())


async def test_typed_text_answers_whichever_was_asked_last(bot):
    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.press("Let's make it")
    await sam.say("/checkin")  # asked to check in: typed answers go to the check-in
    await sam.say("4")
    assert "cravings" in sam.last_text()
    await sam.say("/plan")
    await sam.press("Let's make it")  # and back to the plan, asked after the check-in
    await sam.say("Maria 555-123-4567")
    assert "Added Maria" in sam.last_text()


async def test_counselor_sees_the_plan_only_when_shared(bot):
    dana, sam = await setup(bot)
    await make_plan(sam, share="No, keep it to me")
    await dana.say("/history Sam")
    assert dana.last()["kind"] == "photo"
    assert not any("Sam's plan" in t for t in dana.texts())

    await sam.say("/plan")
    await sam.press("Share with my counselor")
    assert "can now see your plan" in sam.last_text()
    await dana.say("/history Sam")
    assert "Sam's plan" in dana.last_text() and REASONS in dana.last_text()

    await sam.say("/plan")
    await sam.press("Stop sharing")
    before = len(dana.messages())
    await dana.say("/history Sam")
    assert not any("Sam's plan" in (m.get("text") or "") for m in dana.messages()[before:])
    async with bot.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert actions.count("plan_not_shared") == 2 and actions.count("plan_shared") == 1


async def test_stale_and_forged_plan_buttons_change_nothing(bot):
    _, sam = await setup(bot)
    lee = bot.person(3001, "Lee")
    await make_plan(sam)
    message = sam.last()
    await sam.press_data(message["message_id"], "pl:dn")  # the set-up is over
    assert sam.last_callback_answer["text"] == "This button is no longer active."
    await sam.press_data(message["message_id"], "pl:st:99")
    assert sam.last_callback_answer["text"] == "This button is no longer active."
    await lee.say("/plan")
    await lee.press_data(lee.last()["message_id"], "pl:s0")  # not a participant
    assert lee.last_callback_answer["text"] == "This button is no longer active."
    assert (await stored_plan(bot)).share_with_counselor is True
