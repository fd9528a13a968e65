"""The audit log, read back: one participant's whole course (enrollment, consents and their
revocation, pause, resume and discharge), every message to a support contact, and counselors'
views and alert actions, each with who did it, and nothing identifying or written by anyone."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent
from tests.harness import check_in, enroll_participant, invite_link, register_counselor
from tests.test_contacts import add_contact


async def trail(bot, subject: str) -> list[tuple[str, str]]:
    async with bot.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEvent.actor, AuditEvent.action)
            .where(AuditEvent.subject == subject)
            .order_by(AuditEvent.id)
        )
        return [tuple(r) for r in rows]


async def test_a_participants_course_is_in_the_audit_log(bot, clock):
    dana = await register_counselor(bot)
    link = await invite_link(dana, "Sam")
    sam = bot.person(2001, "Sam")
    await sam.say("/start " + link.rsplit("=", 1)[1])
    await sam.press("Not now")
    await sam.say("/start")
    await sam.press("Yes, I agree")
    await sam.say("America/New_York")
    await sam.say("09:00")
    await sam.press("Wed")
    rosa = await add_contact(bot, sam)
    await rosa.press("Yes, I'll be there")
    await sam.say("/contact remove")
    await sam.say("/pause 2")
    await sam.say("/resume")
    await sam.say("/pause 1")
    clock.advance(days=1, minutes=1)
    await bot.tick()  # the pause ends by itself
    await dana.say("/discharge Sam")
    await dana.press("Yes, discharge")

    me, bot_, counselor = "participant:1", "bot", "counselor:1"
    assert await trail(bot, "participant:1") == [
        (me, "enrollment_started"),
        (me, "consent_declined"),
        (me, "consent_given"),
        (me, "participant_enrolled"),
        (me, "consent_given"),  # to the support contact
        (bot_, "disclosed_to_contact"),  # the offer names Sam
        ("contact:consent:1", "consent_accepted"),
        (bot_, "disclosed_to_contact"),  # "thank you, if Sam could use a check-in..."
        (me, "consent_revoked"),
        (bot_, "disclosed_to_contact"),  # "you won't receive messages about Sam anymore"
        (me, "checkins_paused"),
        (me, "checkins_resumed"),
        (me, "checkins_paused"),
        (bot_, "checkins_resumed"),
        (counselor, "participant_discharged"),
    ]

    async with bot.sessionmaker() as session:
        details = (await session.scalars(select(AuditEvent.details))).all()
    for detail in details:
        assert "Sam" not in str(detail) and "2001" not in str(detail)


async def entries(bot, action: str) -> list[AuditEvent]:
    async with bot.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows.all())


async def test_every_message_to_a_support_contact_is_a_logged_disclosure(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    rosa = await add_contact(bot, sam)  # the offer
    await rosa.press("Yes, I'll be there")  # the thank-you
    await check_in(sam, mood="4", craving="2", use="Yes")  # a lapse: the check-in request
    await bot.dispatch()
    await sam.say("/contact remove")  # "you won't receive messages about Sam"
    await bot.dispatch()
    kim = await add_contact(bot, sam, contact_id=4002, name="Kim")
    await kim.press("No, thanks")
    rosa = await add_contact(bot, sam)  # Rosa again, who then stops herself
    await rosa.press("Yes, I'll be there")
    await rosa.say("/stop")

    logged = await entries(bot, "disclosed_to_contact")
    kinds = [(e.details["to"], e.details["message"]) for e in logged]
    # Contacts are named by their consent (Rosa's first is 1, Kim's 2, Rosa's second 3).
    assert kinds == [
        ("contact:consent:1", "offer"),
        ("contact:consent:1", "accepted"),
        ("contact:consent:1", "check_in_request"),
        ("contact:consent:1", "stopped"),
        ("contact:consent:2", "offer"),
        ("contact:consent:2", "declined"),
        ("contact:consent:3", "offer"),
        ("contact:consent:3", "accepted"),
        ("contact:consent:3", "stopped"),
    ]
    assert all(e.actor == "bot" and e.subject == "participant:1" for e in logged)
    assert logged[2].details["alert_id"] is not None
    # Each message that names Sam to a contact has its entry, and no entry holds any text.
    consents_of = {rosa.user_id: {1, 3}, kim.user_id: {2}}
    for contact in (rosa, kim):
        naming = [t for t in contact.texts() if "Sam" in t]
        refs = {f"contact:consent:{n}" for n in consents_of[contact.user_id]}
        assert len(naming) == sum(1 for to, _ in kinds if to in refs)
    for entry in logged:
        assert set(entry.details) <= {"consent_id", "to", "message", "alert_id"}


async def test_counselor_views_and_alert_actions_are_in_the_audit_log(bot):
    dana = await register_counselor(bot)
    omar = await register_counselor(bot, 1002, "Omar")
    sam = await enroll_participant(bot, dana)
    await check_in(sam, mood="4", craving="9")
    await bot.dispatch()
    [alert_id] = {e.details["alert_id"] for e in await entries(bot, "alert_raised")}

    await dana.say("/caseload")
    await dana.say("/flags")
    await dana.say("/history Sam")
    await dana.press("History")
    await dana.press("Acknowledge")
    await dana.press("Resolve")
    await dana.say("Talked it through on the phone; Sam is OK.")
    await omar.say("/history Sam")  # not his: refused, and nothing was seen
    await omar.say("/flags")

    assert await trail(bot, "participant:1") == [
        ("participant:1", "enrollment_started"),
        ("participant:1", "consent_given"),
        ("participant:1", "participant_enrolled"),
        ("bot", "alert_raised"),
        ("counselor:1", "history_viewed"),  # /history
        ("counselor:1", "history_viewed"),  # the alert's History button
        ("counselor:1", "alert_acknowledged"),
        ("counselor:1", "alert_resolved"),
    ]
    [caseload] = await entries(bot, "caseload_viewed")
    assert (caseload.actor, caseload.details) == ("counselor:1", {"participants": [1]})
    dana_flags, omar_flags = await entries(bot, "flags_viewed")
    assert (dana_flags.actor, dana_flags.details) == (
        "counselor:1",
        {"alerts": [alert_id], "participants": [1]},
    )
    assert (omar_flags.actor, omar_flags.details) == (
        "counselor:2",
        {"alerts": [], "participants": []},
    )
    async with bot.sessionmaker() as session:
        everything = (await session.execute(select(AuditEvent.details))).all()
    text = str(everything)
    for private in ("Talked it through", "Cravings", "9/10", bot.tg.token):
        assert private not in text
