"""mailbox_status: consecutive failures, whether the login was refused, when organizers were told

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mailbox_status") as table:
        table.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        table.add_column(
            sa.Column("login_failed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mailbox_status") as table:
        table.drop_column("alerted_at")
        table.drop_column("login_failed")
        table.drop_column("failures")
