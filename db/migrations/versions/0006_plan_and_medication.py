"""Relapse-prevention plans, medications with their reminders and doses, and the state of a
participant's guided set-up (/plan, /medication).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 07:11:30.169120
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_conversations_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_conversations")),
    )
    op.create_table(
        "medications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dose_times", sa.JSON(), nullable=False),
        sa.Column("next_injection_on", sa.Date(), nullable=True),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_medications_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medications")),
    )
    with op.batch_alter_table("medications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_medications_status_next_due_at", ["status", "next_due_at"], unique=False
        )

    op.create_table(
        "recovery_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("first_steps", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("share_with_counselor", sa.Boolean(), nullable=True),
        sa.Column("share_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_recovery_plans_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_plans")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_recovery_plans_participant_id")),
    )
    op.create_table(
        "medication_doses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("medication_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["medication_id"],
            ["medications.id"],
            name=op.f("fk_medication_doses_medication_id_medications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_medication_doses_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medication_doses")),
        sa.UniqueConstraint(
            "medication_id", "due_at", name=op.f("uq_medication_doses_medication_id_due_at")
        ),
    )
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_medication_doses_participant_id_due_at", ["participant_id", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.drop_index("ix_medication_doses_participant_id_due_at")

    op.drop_table("medication_doses")
    op.drop_table("recovery_plans")
    with op.batch_alter_table("medications", schema=None) as batch_op:
        batch_op.drop_index("ix_medications_status_next_due_at")

    op.drop_table("medications")
    op.drop_table("conversations")
