"""One conversation model: what each person's next typed message answers (`awaiting`), and the
question an outbox message asks when it is sent. Replaces the per-flow routing fields
(participants.settings_step, counselors.resolving_alert_id); what is open at upgrade carries
over, so a check-in in progress continues.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:20:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _open_questions(connection, now: datetime) -> list[dict]:
    """What each person was asked last, from the old fields; the latest wins."""
    found: dict[int, dict] = {}

    def offer(user_id, kind, asked_at, ref_id=None, step=None):
        if user_id is None:
            return
        asked_at = asked_at or now
        if asked_at.tzinfo is None:
            asked_at = asked_at.replace(tzinfo=UTC)
        current = found.get(user_id)
        if current is None or asked_at >= current["asked_at"]:
            found[user_id] = dict(telegram_user_id=user_id, kind=kind, ref_id=ref_id, step=step,
                                  asked_at=asked_at)  # fmt: skip

    rows = connection.execute(sa.text(
        "SELECT c.id, p.telegram_user_id, c.sent_at, c.created_at FROM checkins c "
        "JOIN participants p ON p.id = c.participant_id "
        "WHERE c.status IN ('pending', 'sent')"
    ).columns(sa.column("id"), sa.column("u"), sa.column("sent_at", UTCDateTime()),
              sa.column("created_at", UTCDateTime())))  # fmt: skip
    for checkin_id, user_id, sent_at, created_at in rows:
        offer(user_id, "checkin", sent_at or created_at, ref_id=checkin_id)
    rows = connection.execute(sa.text(
        "SELECT p.telegram_user_id, c.step, c.updated_at FROM conversations c "
        "JOIN participants p ON p.id = c.participant_id"
    ).columns(sa.column("u"), sa.column("step"), sa.column("updated_at", UTCDateTime())))
    for user_id, step, updated_at in rows:
        offer(user_id, "setup", updated_at, step=step)
    rows = connection.execute(sa.text(
        "SELECT m.id, p.telegram_user_id, m.draft_step, m.updated_at FROM participant_meetings m "
        "JOIN participants p ON p.id = m.participant_id WHERE m.status = 'draft'"
    ).columns(sa.column("id"), sa.column("u"), sa.column("s"),
              sa.column("updated_at", UTCDateTime())))  # fmt: skip
    for meeting_id, user_id, step, updated_at in rows:
        offer(user_id, "meeting", updated_at, ref_id=meeting_id, step=step)
    rows = connection.execute(sa.text(
        "SELECT a.id, p.telegram_user_id, a.asked_at FROM attendance a "
        "JOIN participants p ON p.id = a.participant_id WHERE a.answer IS NULL"
    ).columns(sa.column("id"), sa.column("u"), sa.column("asked_at", UTCDateTime())))
    for attendance_id, user_id, asked_at in rows:
        offer(user_id, "attendance", asked_at, ref_id=attendance_id)
    rows = connection.execute(sa.text(
        "SELECT telegram_user_id, enroll_step, created_at FROM participants "
        "WHERE status = 'enrolling' AND enroll_step IS NOT NULL"
    ).columns(sa.column("u"), sa.column("s"), sa.column("created_at", UTCDateTime())))
    for user_id, step, created_at in rows:
        offer(user_id, "enrollment", created_at, step=step)
    rows = connection.execute(sa.text(
        "SELECT telegram_user_id, erasure_step, erasure_asked_at FROM participants "
        "WHERE erasure_step IS NOT NULL"
    ).columns(sa.column("u"), sa.column("s"), sa.column("a", UTCDateTime())))
    for user_id, step, asked_at in rows:
        offer(user_id, "erasure", asked_at, step=step)
    # No time was kept for these two: they were set by the person's latest taps.
    rows = connection.execute(sa.text(
        "SELECT telegram_user_id, settings_step FROM participants WHERE settings_step IS NOT NULL"
    ))
    for user_id, step in rows:
        offer(user_id, "settings", now, step=step)
    rows = connection.execute(sa.text(
        "SELECT telegram_user_id, resolving_alert_id FROM counselors "
        "WHERE resolving_alert_id IS NOT NULL"
    ))
    for user_id, alert_id in rows:
        offer(user_id, "resolution", now, ref_id=alert_id)
    return list(found.values())


def _drop_column(table: str, column: str) -> None:
    """SQLite (3.35 and newer) drops a plain column in place. A batch operation would copy the
    table, and with rows that others point at, SQLite's foreign keys refuse the copy."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def upgrade() -> None:
    awaiting = op.create_table(
        "awaiting",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=20), nullable=True),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("telegram_user_id", name=op.f("pk_awaiting")),
    )
    op.add_column("outbox", sa.Column("asks", sa.String(length=20), nullable=True))
    op.add_column("outbox", sa.Column("asks_ref", sa.Integer(), nullable=True))

    rows = _open_questions(op.get_bind(), datetime.now(UTC))
    if rows:
        op.bulk_insert(awaiting, rows)

    _drop_column("participants", "settings_step")
    _drop_column("counselors", "resolving_alert_id")


def downgrade() -> None:
    op.add_column("counselors", sa.Column("resolving_alert_id", sa.Integer(), nullable=True))
    op.add_column("participants", sa.Column("settings_step", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE counselors SET resolving_alert_id = (SELECT a.ref_id FROM awaiting a "
        "WHERE a.telegram_user_id = counselors.telegram_user_id AND a.kind = 'resolution')"
    )
    op.execute(
        "UPDATE participants SET settings_step = (SELECT a.step FROM awaiting a "
        "WHERE a.telegram_user_id = participants.telegram_user_id AND a.kind = 'settings')"
    )
    _drop_column("outbox", "asks_ref")
    _drop_column("outbox", "asks")
    op.drop_table("awaiting")
