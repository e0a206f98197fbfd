"""stages and registrations: each message notes its stage; table rows are recorded

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:42:19.790885
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
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("record", sa.String(length=16), nullable=False),
        sa.Column("submitter", sa.String(length=255), nullable=False),
        sa.Column("unit", sa.String(length=255), nullable=False),
        sa.Column("district", sa.String(length=255), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("attachment_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_pk"],
            ["attachments.id"],
            name=op.f("fk_registrations_attachment_pk_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_registrations_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrations_current", ["campaign", "kind", "current"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registrations_message_pk"), ["message_pk"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        # Messages recorded before stages existed were judged in the campaign's only stage.
        batch_op.add_column(
            sa.Column("stage", sa.String(length=64), nullable=False, server_default="submission")
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registrations_message_pk"))
        batch_op.drop_index("ix_registrations_current")
    op.drop_table("registrations")
    # Not a batch: copying `messages` to drop a column breaks the keys that point at it;
    # SQLite 3.35+ and PostgreSQL drop a column in place.
    op.drop_column("messages", "stage")
