"""Data rights: /deleteme's two-step confirmation and tombstone, the participant an outbox
message is about, and disclosures whose recipient was erased.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 07:40:42.500017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A deleted participant's disclosures stay in the log without their contact's Telegram id.
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.alter_column("recipient_telegram_id", existing_type=sa.BIGINT(), nullable=True)

    # Messages to counselors and contacts about a participant (rows written before this
    # revision have none; the retention sweep empties their text within days anyway).
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about_participant_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_about_participant_id_participants"),
            "participants",
            ["about_participant_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erasure_step", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("erasure_nonce", sa.String(length=24), nullable=True))
        batch_op.add_column(
            sa.Column("erasure_asked_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("erasure_asked_at")
        batch_op.drop_column("erasure_nonce")
        batch_op.drop_column("erasure_step")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_about_participant_id_participants"), type_="foreignkey"
        )
        batch_op.drop_column("about_participant_id")

    # The older schema needs a recipient: an erased one becomes 0 (no Telegram user has it).
    op.execute(
        "UPDATE disclosures SET recipient_telegram_id = 0 WHERE recipient_telegram_id IS NULL"
    )
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.alter_column("recipient_telegram_id", existing_type=sa.BIGINT(), nullable=False)
