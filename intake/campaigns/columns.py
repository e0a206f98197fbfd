"""A table kind's configured columns, in the form the table reader checks rows against."""

from __future__ import annotations

from intake.config import KindSettings
from intake.tables.columns import ColumnSpec


def column_specs(kind: KindSettings) -> list[ColumnSpec]:
    return [
        ColumnSpec(
            name=column.name,
            aliases=column.aliases,
            required=column.required,
            allowed=column.allowed,
            format=column.format,
            counter=column.counter,
        )
        for column in kind.columns
    ]


def role_column(kind: KindSettings, role: str) -> str:
    """The name of the column that holds a case's "title", its "unit" or its "district"."""
    return next((column.name for column in kind.columns if column.role == role), "")
