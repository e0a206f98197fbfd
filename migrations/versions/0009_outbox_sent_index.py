"""outbox: an index on (state, sent_at) for the replies an account sent in the last day

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_state_sent_at", "outbox", ["state", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_state_sent_at", table_name="outbox")
