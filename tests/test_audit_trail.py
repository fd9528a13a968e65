"""One participant's whole course, read back from the audit log: enrollment, consents and
their revocation, pause, resume and discharge, each with who did it, and nothing identifying."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent
from tests.harness import invite_link, register_counselor
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
        ("contact:4001", "consent_accepted"),
        (me, "consent_revoked"),
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
