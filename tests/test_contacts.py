"""Support contacts: consent first, the minimal message only, for the consented levels only,
every disclosure logged, and nothing after consent is revoked."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent, Consent, Disclosure
from tests.harness import check_in, enroll_participant, register_counselor

MINIMAL = "Sam asked us to let you know they could use a check-in from you."


async def consent_row(bot) -> Consent:
    async with bot.sessionmaker() as session:
        return await session.scalar(select(Consent).order_by(Consent.id.desc()))


async def disclosures(bot) -> list[Disclosure]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(Disclosure))).all())


async def add_contact(bot, sam, choice="When things look hard", contact_id=4001, name="Rosa"):
    await sam.say("/contact")
    explained = sam.last_text()
    assert "never see your answers" in explained and "could use a check-in from you" in explained
    await sam.press(choice)
    link = next(w for w in sam.last_text().split() if "?start=" in w)
    rosa = bot.person(contact_id, name)
    await rosa.say("/start " + link.rsplit("=", 1)[1])
    return rosa


async def lapse(sam):
    await check_in(sam, mood="4", craving="2", use="Yes")


async def test_contact_consents_and_gets_only_the_minimal_message(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    rosa = await add_contact(bot, sam)
    assert "Sam would like you to be their support contact" in rosa.last_text()
    await rosa.press("Yes, I'll be there")
    assert "I'll let you know here" in rosa.last_text()
    await bot.dispatch()
    assert "Rosa accepted" in sam.last_text()
    consent = await consent_row(bot)
    assert consent.status == "accepted" and consent.levels == ["high", "crisis"]
    assert consent.purpose and consent.text_version == "contact-1"
    assert (consent.expires_at - consent.given_at).days == 365

    before = len(rosa.messages())
    await lapse(sam)  # a lapse: answers, substances and scores stay private
    await bot.dispatch()
    [message] = rosa.messages()[before:]
    text = rosa.last_text()
    assert MINIMAL in text and "42 CFR Part 2" in text
    for private in ("lapse", "used", "Yes", "Cravings", "mood", "2/10"):
        assert private not in text
    [logged] = await disclosures(bot)
    assert logged.recipient_telegram_id == rosa.user_id and logged.alert_id is not None
    async with bot.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert {"consent_given", "consent_accepted", "disclosed_to_contact"} <= set(actions)


async def test_crisis_only_consent_is_not_told_about_high(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    rosa = await add_contact(bot, sam, choice="Only in a crisis")
    await rosa.press("Yes, I'll be there")
    before = len(rosa.messages())
    await lapse(sam)  # high
    await bot.dispatch()
    assert rosa.messages()[before:] == []
    await sam.say("/sos")  # crisis
    await bot.dispatch()
    assert MINIMAL in rosa.last_text()


async def test_nothing_reaches_the_contact_after_revocation(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    rosa = await add_contact(bot, sam)
    await rosa.press("Yes, I'll be there")
    await sam.say("/contact remove")
    assert "won't hear from me anymore" in sam.last_text()
    await bot.dispatch()
    assert "won't receive messages about Sam" in rosa.last_text()
    before = len(rosa.messages())
    await sam.say("/sos")
    await bot.dispatch()
    assert rosa.messages()[before:] == []
    consent = await consent_row(bot)
    assert (consent.status, consent.revoked_by) == ("revoked", "participant")
    assert await disclosures(bot) == []


async def test_the_contact_can_stop(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    rosa = await add_contact(bot, sam)
    await rosa.press("Yes, I'll be there")
    await rosa.say("/stop")
    assert "won't receive messages about Sam" in rosa.last_text()
    await bot.dispatch()
    assert "Rosa has stopped being your support contact" in sam.last_text()
    before = len(rosa.messages())
    await sam.say("/sos")
    await bot.dispatch()
    assert rosa.messages()[before:] == []
    assert (await consent_row(bot)).revoked_by == "contact"


async def test_declining_shares_nothing_and_the_link_is_single_use(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await sam.say("/contact")
    await sam.press("When things look hard")
    token = next(w for w in sam.last_text().split() if "?start=" in w).rsplit("=", 1)[1]
    rosa = bot.person(4001, "Rosa")
    await rosa.say("/start " + token)
    await rosa.press("No, thanks")
    assert "Nothing has been shared" in rosa.last_text()
    other = bot.person(4002, "Eve")
    await other.say("/start " + token)
    assert "doesn't work any more" in other.last_text()
    await bot.dispatch()
    assert "Rosa said no" in sam.last_text()


async def test_only_the_invited_person_can_answer(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    rosa = await add_contact(bot, sam)
    offer = rosa.last()
    _, data = rosa.find_button("Yes, I'll be there", offer)
    eve = bot.person(4002, "Eve")
    await eve.say("hello")
    await eve.press_data(eve.last()["message_id"], data)  # forged
    assert (await consent_row(bot)).status == "offered"
    await sam.press_data(sam.last()["message_id"], data)  # not even the participant
    assert (await consent_row(bot)).status == "offered"
