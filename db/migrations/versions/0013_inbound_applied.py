"""When a stored update's effect was committed: a replay after a failed send (or a crash)
between that commit and the update's being marked handled must not apply it a second time,
as the answer to the question after it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_updates") as batch:
        batch.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_updates") as batch:
        batch.drop_column("applied_at")
