"""large files: QQ 超大附件 links kept as files, and their downloads

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "large_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_pk", sa.Integer(), nullable=False),
        sa.Column("attachment_pk", sa.Integer(), nullable=True),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=1024), nullable=False),
        sa.Column("size_text", sa.String(length=32), nullable=False),
        sa.Column("expires_text", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_pk"],
            ["attachments.id"],
            name=op.f("fk_large_files_attachment_pk_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_large_files_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_large_files")),
    )
    with op.batch_alter_table("large_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_large_files_message_pk"), ["message_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_large_files_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("large_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_large_files_state"))
        batch_op.drop_index(batch_op.f("ix_large_files_message_pk"))
    op.drop_table("large_files")
