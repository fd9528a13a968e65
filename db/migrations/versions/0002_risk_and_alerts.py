"""Risk: alerts, immediate responses per check-in, weekly day, coping and milestone memory.

Existing rows get defaults: no responses given yet, no milestone celebrated yet.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:12:00.320278
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("counselor_id", sa.Integer(), nullable=True),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["checkins.id"],
            name=op.f("fk_alerts_checkin_id_checkins"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["counselor_id"], ["counselors.id"], name=op.f("fk_alerts_counselor_id_counselors")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_alerts_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_participant_id_status", ["participant_id", "status"], unique=False
        )

    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responses", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("risk_level", sa.String(length=10), nullable=True))

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weekly_day", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_coping_key", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("last_milestone", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("last_milestone")
        batch_op.drop_column("last_coping_key")
        batch_op.drop_column("weekly_day")

    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("risk_level")
        batch_op.drop_column("responses")

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_participant_id_status")

    op.drop_table("alerts")
