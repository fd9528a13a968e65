"""Paid broadcasts: how many messages of each UTC day went with allow_paid_broadcast, so the
daily Stars cap holds across restarts and workers.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paid_broadcast_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_paid_broadcast_days")),
    )


def downgrade() -> None:
    op.drop_table("paid_broadcast_days")
