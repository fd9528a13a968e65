"""What one typed check-in answer costs the database, counted through the real bot.

The gate reads the update's state, the sender and what they were asked (with the open
check-in) in one query; the handler records the answer in one unit of work; the unit of work
after the next question is sent also marks the update handled. Each statement here was once
its own look-up or its own transaction (15 statements in 5 transactions), which made typed
answers the slowest thing the bot does (bench: inbound_ratio).
"""

from __future__ import annotations

from sqlalchemy import event

from tests.harness import enroll_participant, participant_row, register_counselor


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
    # history, answers so far, the answer and the check-in's progress; after the send, the
    # question's message id, what is asked now, and the update marked handled.
    assert len(statements) <= 10, statements
    assert statements.count("SELECT") <= 3, statements
    # The poller's (shared by a batch of updates), the handler's, and the one after the send.
    assert len(commits) <= 3, statements
