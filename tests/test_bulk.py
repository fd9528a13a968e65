"""Set-based writes (db/bulk.py) store exactly what the ORM would: the tick's check-ins and
outbox rows read back equal, compare with ORM-written timestamps, and keep their dedupe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from db import bulk, outbox
from db import checkins as checkin_db
from db.engine import create_engine, create_sessionmaker
from db.models import CheckIn, OutboxMessage, Participant
from delivery.priority import Priority
from tests.databases import add_due_participants

NOW = datetime(2026, 3, 2, 14, 0, 0, 123456, tzinfo=UTC)


async def test_batches_read_back_as_the_orm_writes_them(db_url):
    await add_due_participants(db_url, 3, 4000, NOW, not_due=1)
    engine = create_engine(db_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker.begin() as session:
            dialect = bulk.dialect_of(session)
            ids = list(await session.scalars(select(Participant.id).order_by(Participant.id)))
            at = bulk.stored_timestamp(dialect, NOW)
            later = bulk.stored_timestamp(dialect, NOW + timedelta(hours=6))
            rows = [[pid, "daily", at, "pending", '["mood", "sleep"]', later] for pid in ids[:3]]
            inserted = await checkin_db.insert_checkins(session, rows, NOW)
            assert sorted(p for _, p, _ in inserted) == ids[:3]
            # The same slots again: nothing new (the unique slot holds).
            assert await checkin_db.insert_checkins(session, rows, NOW) == []
            await checkin_db.advance_due(
                session, [[ids[0], bulk.stored_timestamp(dialect, NOW + timedelta(days=1)), 1],
                          [ids[1], None, 0]])  # fmt: skip
            checkin_ids = [cid for cid, _, _ in inserted]
            messages = [[f"t:{cid}", 4000 + n, '{"text": "h\\u00e9 <b>", "parse_mode": "HTML"}',
                         None, cid] for n, cid in enumerate(checkin_ids)]  # fmt: skip
            await outbox.enqueue_many(session, messages, Priority.CHECKIN, NOW)
            await outbox.enqueue_many(session, messages, Priority.CHECKIN, NOW)
        async with sessionmaker() as session:
            checkins = (await session.scalars(select(CheckIn).order_by(CheckIn.id))).all()
            assert [c.slot_at for c in checkins] == [NOW] * 3
            assert checkins[0].expires_at == NOW + timedelta(hours=6)
            assert checkins[0].question_keys == ["mood", "sleep"]
            assert checkins[0].responses == [] and checkins[0].created_at == NOW
            # Comparisons with ORM-bound timestamps work on the stored text (SQLite) too.
            assert len(await checkin_db.created_since(session, ids, NOW)) == 3
            assert await checkin_db.created_since(session, ids, NOW + timedelta(seconds=1)) == {}
            first = await session.get(Participant, ids[0])
            second = await session.get(Participant, ids[1])
            assert first.next_checkin_at == NOW + timedelta(days=1)
            assert first.checkins_started == 1
            assert second.next_checkin_at is None and second.checkins_started == 0
            queued = (await session.scalars(select(OutboxMessage))).all()
            assert len(queued) == 3  # enqueued twice, stored once
            assert queued[0].payload == {"text": "hé <b>", "parse_mode": "HTML"}
            assert queued[0].due_at == NOW and queued[0].status == "pending"
        async with sessionmaker.begin() as session:  # the next day's, for the first two
            tomorrow = bulk.stored_timestamp(dialect, NOW + timedelta(days=1))
            rows = [[pid, "daily", tomorrow, "pending", "[]", tomorrow] for pid in ids[:2]]
            fresh = [(cid, pid) for cid, pid, _ in await checkin_db.insert_checkins(
                session, rows, NOW)]  # fmt: skip
            await checkin_db.close_older_open(session, fresh)
        async with sessionmaker() as session:
            statuses = (await session.execute(
                select(CheckIn.participant_id, CheckIn.slot_at, CheckIn.status)
                .order_by(CheckIn.id))).all()  # fmt: skip
            assert [s for _, _, s in statuses] == ["missed", "missed", "pending", "pending",
                                                   "pending"]  # fmt: skip
        async with sessionmaker.begin() as session:
            before = await outbox.claim(session, NOW - timedelta(microseconds=1),
                                        timedelta(seconds=60), 10)  # fmt: skip
            assert before == []
            assert len(await outbox.claim(session, NOW, timedelta(seconds=60), 10)) == 3
    finally:
        await engine.dispose()
