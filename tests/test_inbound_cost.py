"""What one typed check-in answer costs the database, counted through the real bot.

The gate reads the update's state, the sender and what they were asked (with the open
check-in) in one query; the handler records the answer in one unit of work; the unit of work
after the next question is sent also marks the update handled. Each statement here was once
its own look-up or its own transaction (15 statements in 5 transactions), which made typed
answers the slowest thing the bot does (bench: inbound_ratio).
"""

from __future__ import annotations

from sqlalchemy import event, func, select, update

from db import inbound
from db.models import Alert, Answer, InboundUpdate
from tests.harness import enroll_participant, participant_row, register_counselor

RESOURCES = "988"


async def test_a_typed_answer_costs_few_statements_and_transactions(bot, clock):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, at="10:00")
    clock.set((await participant_row(bot)).next_checkin_at)
    await bot.tick()
    assert "mood" in sam.last_text()

    statements: list[str] = []
    commits: list[int] = []
    engine = bot.services.engine.sync_engine

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    def committed(conn) -> None:
        commits.append(1)

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        await sam.say("4")
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", committed)
    assert "cravings" in sam.last_text()  # the answer was taken and the next question asked

    # The poller's INSERT of the update; the gate's one SELECT; the handler's check-in
    # history, answers so far, the answer, the check-in's progress and the update marked
    # applied (so a replay never answers the next question with it); after the send, the
    # question's message id, what is asked now, and the update marked handled.
    assert len(statements) <= 10, statements
    assert statements.count("SELECT") <= 3, statements
    # The poller's (shared by a batch of updates), the handler's, and the one after the send.
    assert len(commits) <= 3, statements


async def _crashed_before_marked(bot) -> None:
    """The state a crash leaves between the handler's commit and the update's being marked
    handled (its replies may or may not have gone): the last update stored, not processed."""
    async with bot.sessionmaker.begin() as session:
        last = await session.scalar(select(func.max(InboundUpdate.update_id)))
        await session.execute(
            update(InboundUpdate).where(InboundUpdate.update_id == last).values(processed_at=None)
        )


async def test_a_replay_after_a_crash_does_not_answer_the_next_question(bot, clock):
    """The answer was committed, then the process died before the update was marked handled:
    at takeover it is replayed. The replay must not take "4" again, as the answer to the
    cravings question now open: it asks that question again and records nothing."""
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana, at="10:00")
    clock.set((await participant_row(bot)).next_checkin_at)
    await bot.tick()
    await sam.say("4")
    assert "cravings" in sam.last_text()
    async with bot.sessionmaker() as session:
        answers = (await session.scalars(select(Answer.question_key))).all()
    assert len(answers) == 1
    await _crashed_before_marked(bot)

    before = len(sam.messages())
    assert await bot.intake.replay(stale_only=False) == 1
    assert len(sam.messages()) == before + 1 and "cravings" in sam.last_text()  # asked again
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Answer.question_key))).all() == answers
        assert await inbound.unprocessed(session) == []  # handled now

    await sam.say("2")  # and the next answer goes where it should
    async with bot.sessionmaker() as session:
        assert len((await session.scalars(select(Answer.question_key))).all()) == 2


async def test_a_replayed_crisis_gets_the_resources_again_and_no_second_alert(bot):
    dana = await register_counselor(bot)
    sam = await enroll_participant(bot, dana)
    await sam.say("I want to kill myself")
    async with bot.sessionmaker() as session:
        alerts = (await session.scalars(select(Alert.id))).all()
    assert len(alerts) == 1
    await _crashed_before_marked(bot)

    before = len(sam.messages())
    assert await bot.intake.replay(stale_only=False) == 1
    assert any(RESOURCES in m["text"] for m in sam.messages()[before:])
    async with bot.sessionmaker() as session:
        assert (await session.scalars(select(Alert.id))).all() == alerts
