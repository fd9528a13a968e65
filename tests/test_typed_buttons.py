"""Typed equivalents of buttons, over real HTTP: wherever a message offers buttons, typing a
button's label (or an unambiguous part of it), its number, or yes / no does what pressing it
does; anything unclear brings the question back with the short hint, and is kept as a note
only when it reads like a message. Crisis words still get the crisis response first. And
/deleteme deletes only on an unmistakable confirmation."""

from __future__ import annotations

from sqlalchemy import func, select

from db import awaiting
from db.models import Medication, Note, Participant, ParticipantMeeting
from tests.harness import participant_row
from tests.test_medication import add_methadone
from tests.test_meetings import add_hope_group, with_program_list
from tests.test_plan import setup, stored_plan

RESOURCES = "Suicide &amp; Crisis Lifeline"
HINT = "type one of them"


async def asked_of(bot, person):
    async with bot.sessionmaker() as session:
        return await awaiting.of(session, person.user_id)


async def notes(bot) -> list[str]:
    async with bot.sessionmaker() as session:
        return list((await session.scalars(select(Note.text).order_by(Note.id))).all())


async def participants(bot) -> int:
    """Participants still known by their Telegram account (erasure keeps an anonymous row)."""
    async with bot.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Participant)
                                    .where(Participant.telegram_user_id.is_not(None)))


# --- /settings ----------------------------------------------------------------------------------


async def test_settings_menu_and_its_choices_typed(bot):
    _, sam = await setup(bot)
    await sam.say("/settings")
    await sam.say("time zone")  # a button's label
    assert "What time zone are you in?" in sam.last_text()
    await sam.say("central")  # a time zone button's label, not a zone's name
    assert (await participant_row(bot)).timezone == "America/Chicago"
    await sam.say("/settings")
    await sam.say("5")  # the fifth button: Language
    assert "Which language" in sam.last_text()
    await sam.say("espanol")  # accents need not be typed
    assert (await participant_row(bot)).language == "es"
    await sam.say("/settings")
    await sam.say("semanal")  # a part of "Día semanal", in their language now
    assert (await asked_of(bot, sam)).step == "weekly"
    await sam.say("2")  # the second day button
    assert (await participant_row(bot)).weekly_day == 1
    assert await notes(bot) == []


async def test_an_unclear_reply_to_the_settings_menu_gets_the_hint_not_a_note(bot):
    _, sam = await setup(bot)
    await sam.say("/settings")
    replies = await sam.say("hmm")
    assert HINT in sam.last_text() and "Quiet hours" in sam.last_text()
    assert sam.last()["reply_markup"] and len(replies) == 1
    assert await notes(bot) == []
    await sam.say("the kids were loud again all day")  # reads like a message: kept
    assert await notes(bot) == ["the kids were loud again all day"]
    assert "Your settings" in sam.last_text()  # and the menu again
    replies = await sam.say("I want to kill myself")
    assert RESOURCES in replies[0]["text"]  # crisis first, whatever was asked
    assert "Your settings" in sam.last_text()


# --- /plan --------------------------------------------------------------------------------------


async def test_the_plan_made_with_typed_buttons(bot):
    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.say("yes")  # Let's make it
    assert "1 of 3" in sam.last_text()
    await sam.say("Maria 555-123-4567")
    await sam.say("done")
    assert "2 of 3" in sam.last_text()
    await sam.say("1")  # the first suggested step
    await sam.say("Go for a walk")  # words of their own are a step of their own
    await sam.say("Done")
    assert "3 of 3" in sam.last_text()
    await sam.say("skip")
    assert "would you like your counselor to see this plan" in sam.last_text()
    await sam.say("maybe")
    assert HINT in sam.last_text() and "Yes, share it" in sam.last_text()
    await sam.say("no")
    plan = await stored_plan(bot)
    assert plan.first_steps == ["Call someone on my list", "Go for a walk"]
    assert plan.share_with_counselor is False
    assert "Your plan is saved" in sam.texts()[-2]
    await sam.say("share")  # the plan shown has its buttons: a part of one
    assert (await stored_plan(bot)).share_with_counselor is True
    await sam.say("/plan")
    await sam.say("change people")
    assert "1 of 3" in sam.last_text()
    assert (await asked_of(bot, sam)).kind == awaiting.SETUP
    assert await notes(bot) == []


async def test_not_now_typed_at_the_plan_invitation(bot):
    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.say("not now")
    assert "make your plan any time" in sam.last_text()
    assert await asked_of(bot, sam) is None and await stored_plan(bot) is None


# --- /medication --------------------------------------------------------------------------------


async def test_medication_set_up_and_its_list_typed(bot):
    _, sam = await setup(bot)
    await sam.say("/medication")
    await sam.say("methadone")
    await sam.say("08:00")
    await sam.say("hmm")
    assert HINT in sam.last_text() and "Yes, remind me" in sam.last_text()
    await sam.say("yes")
    assert "Saved: your methadone every day at" in sam.last_text()
    await sam.say("/medication")
    await sam.say("reminders off")  # a part of "Methadone: reminders off"
    assert "Reminders for your methadone are off" in sam.last_text()
    async with bot.sessionmaker() as session:
        medication = await session.scalar(select(Medication))
    assert medication.reminders is False
    await sam.say("/medication")
    await sam.say("add a medication")
    assert "medication for your recovery" in sam.last_text()
    await sam.say("no")  # I don't take one
    assert (await asked_of(bot, sam)) is None
    assert await notes(bot) == []


async def test_the_medication_list_takes_a_number(bot):
    _, sam = await setup(bot)
    await add_methadone(sam)
    await sam.say("/medication")
    await sam.say("1")  # Methadone: change time
    assert "When do you take your methadone" in sam.last_text()


# --- /meetings ----------------------------------------------------------------------------------


async def test_meetings_menu_and_adding_my_own_typed(bot):
    _, sam = await setup(bot)
    await sam.say("/meetings")
    await sam.say("add my own")
    assert "What's the meeting called?" in sam.last_text()
    await sam.say("Sunday Serenity")
    await sam.say("cancel")
    assert "nothing was added" in sam.last_text()
    async with bot.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ParticipantMeeting)) == 0
    await sam.say("/meetings")
    await sam.say("own")
    await sam.say("Sunday Serenity")
    await sam.say("Sunday")
    await sam.say("18:30")
    await sam.say("skip")  # no place
    assert "Added to your meetings" in sam.last_text()
    assert (await asked_of(bot, sam)).kind == awaiting.MEETINGS  # the meeting's own buttons
    await sam.say("remove")
    assert "removed" in sam.last_text().casefold()
    assert await notes(bot) == []


async def test_the_program_list_chosen_in_words(bot):
    _, sam = await setup(bot)
    await with_program_list(bot)
    await sam.say("/meetings")
    await sam.say("program")
    await sam.say("tue")
    await sam.say("evening")
    await sam.say("in person")
    await sam.say("speaker")
    assert sam.last_text() == "Meetings that match: 1. Tap one to add it."
    await sam.say("hope group")
    assert "Added to your meetings" in sam.last_text()


async def test_a_meeting_added_by_buttons_takes_typed_choices_too(bot):
    _, sam = await setup(bot)
    await with_program_list(bot)
    await add_hope_group(sam)
    replies = await sam.say("2 hours before")
    assert "I'll remind you 2 hours before" in replies[0]["text"]
    assert "✓ 2 hours" in [b["text"] for row in sam.last()["reply_markup"]["inline_keyboard"]
                          for b in row]  # fmt: skip


# --- /deleteme ----------------------------------------------------------------------------------


async def test_deleteme_typed_needs_both_confirmations(bot):
    _, sam = await setup(bot)
    await sam.say("/deleteme")
    await sam.say("yes")  # the first question's yes only asks the final one
    assert "Are you sure?" in sam.last_text()
    assert await participants(bot) == 1
    for loose in ("ok", "sure", "delete", "1", "y"):
        await sam.say(loose)
        assert HINT in sam.last_text(), loose
        assert await participants(bot) == 1
    replies = await sam.say("I want to kill myself")
    assert RESOURCES in replies[0]["text"]
    assert "Are you sure?" in sam.last_text() and await participants(bot) == 1
    await sam.say("keep")
    assert "nothing has been deleted" in sam.last_text()
    await sam.say("yes")  # that question is answered: a yes now is only a note
    assert await participants(bot) == 1


async def test_deleteme_typed_yes_at_the_final_question_deletes(bot):
    _, sam = await setup(bot)
    await sam.say("/deleteme")
    await sam.say("delete my data")
    await sam.say("yes, delete everything")
    assert "Your data is deleted" in sam.last_text()
    assert await participants(bot) == 0


async def test_deleteme_typed_yes_after_another_question_deletes_nothing(bot):
    _, sam = await setup(bot)
    await sam.say("/deleteme")
    await sam.press("Delete my data…")
    await sam.say("/settings")  # a command sets the final question aside
    await sam.say("yes")
    assert await participants(bot) == 1


async def test_a_label_typed_whole_is_a_press_not_words_to_screen(bot):
    """The screen's model is unsure of some labels ("No, keep it to me"); typed whole they are
    the button, which no press is screened for."""
    _, sam = await setup(bot)
    await sam.say("/plan")
    await sam.say("let's make it")
    await sam.say("Maria 555-123-4567")
    await sam.say("done")
    await sam.say("done")
    await sam.say("My daughter Lily.")
    replies = await sam.say("No, keep it to me")
    assert not any("safe right now" in (r.get("text") or "") for r in replies)
    assert (await stored_plan(bot)).share_with_counselor is False
    assert await notes(bot) == []


# --- the matching itself (pure) -----------------------------------------------------------------


def test_match_choice_reads_labels_numbers_words_and_parts():
    from messages.answers import AMBIGUOUS, is_label, match_choice

    options = [("Yes, delete everything", "b"), ("Keep my data", "x")]
    assert match_choice("2", options) == "x"
    assert match_choice("2", options, numbers=False) is None
    assert match_choice("keep", options) == "x"
    assert match_choice("keep", options, partial=False) is None
    assert match_choice("YES,  delete everything!", options, partial=False) == "b"
    assert match_choice("pas", [("Pasé", 1), ("Paso", 2)]) is AMBIGUOUS
    assert match_choice("pase", [("Pasé", 1), ("Paso", 2)]) == 1  # accents need not be typed
    assert match_choice("skipped it", [("Skipped", 1)], words=[(frozenset({"skipped it"}), 1)]) == 1
    assert match_choice("same", [("Same", 1), ("same", 2)]) is AMBIGUOUS
    assert is_label("no, keep it to me", ["No, keep it to me"])
    assert not is_label("no keep it", ["No, keep it to me"]) and not is_label("", [""])
