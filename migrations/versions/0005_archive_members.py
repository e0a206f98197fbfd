"""archive members: each file notes the archive it was unpacked from

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=1024), nullable=False, server_default="")
        )


def downgrade() -> None:
    # In place, not a batch copy: other tables' keys point at `attachments`.
    op.drop_column("attachments", "source")
