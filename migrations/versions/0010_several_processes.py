"""several processes on one database: leases, the claimer of a reply, 64-bit UIDs and sizes

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# IMAP UIDs and UIDVALIDITY are unsigned 32-bit numbers: past 2**31 they no longer fit
# PostgreSQL's INTEGER. SQLite's INTEGER already holds 64 bits, and altering a column there
# means copying the table, so only other databases are altered.
WIDENED = (
    ("locations", "uidvalidity"),
    ("locations", "uid"),
    ("cursors", "uidvalidity"),
    ("cursors", "last_uid"),
    ("messages", "size"),
    ("attachments", "size"),
)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("outbox") as table:
        table.add_column(
            sa.Column("claimed_by", sa.String(length=255), nullable=False, server_default="")
        )
    if op.get_context().dialect.name != "sqlite":
        for table_name, column in WIDENED:
            op.alter_column(table_name, column, type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        for table_name, column in WIDENED:
            op.alter_column(table_name, column, type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table("outbox") as table:
        table.drop_column("claimed_by")
    op.drop_table("leases")
