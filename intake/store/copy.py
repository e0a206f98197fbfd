"""Moving a whole ledger into another database, and proving every row arrived.

A deployment outgrows its SQLite file when several machines share one ledger (PostgreSQL),
or leaves a server for a single machine again. The copy keeps every primary key, so the
receipts, `intake explain 42` and the rows pointing at each other mean the same afterwards;
the target must be empty, so two ledgers are never mixed; and both sides are read back and
compared, table by table, before the copy is called done.

The archive (raw .eml files and attachments) stays on disk where it is: rows name its files
by absolute path, so the new machine needs the same folder at the same path.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any, TypeVar

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    func,
    insert,
    inspect,
    make_url,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from intake.store.db import MIGRATIONS, make_engine, upgrade
from intake.store.models import Base

T = TypeVar("T")

# Rows per round trip: large enough that a season's ledger copies in seconds, small enough
# that a batch of stored replies (tens of kB each) stays a few MB in memory.
BATCH = 1000

ARCHIVE_NOTE = (
    "The archive (raw .eml files and attachments) was not copied: the rows name its files by "
    "absolute path, so keep the archive folder where it is, or copy it to the same path on "
    "the new machine."
)


class CopyRefused(Exception):
    """The copy cannot start (or could not finish); the message says why and what to do."""


@dataclass(frozen=True)
class TableCheck:
    """One table compared after the copy: its row count and checksum on both sides."""

    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def same(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


@dataclass(frozen=True)
class CopyReport:
    copied: dict[str, int]  # rows written per table
    checks: list[TableCheck]
    copy_seconds: float
    verify_seconds: float
    # For each table that differs: where it first does (see first_difference).
    differences: dict[str, str] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return all(check.same for check in self.checks)


def shown(url: str) -> str:
    """A URL as it may be printed or logged: never with its password."""
    return make_url(url).render_as_string(hide_password=True)


def copy_ledger(source_url: str, target_url: str, batch: int = BATCH) -> CopyReport:
    """Copy the ledger at `source_url` into the empty database at `target_url`, then verify."""
    source = _open(source_url, must_exist=True)
    try:
        # The source first: a refused copy leaves no new SQLite file behind.
        _guarded(source_url, lambda: require_newest(source))
        target = _open(target_url, must_exist=False)
        try:
            _guarded(target_url, lambda: require_empty(target))
            _guarded(target_url, lambda: upgrade(target))
            started = time.perf_counter()
            copied = _guarded(
                target_url,
                lambda: copy_rows(source, target, batch),
                f"the copy into {shown(target_url)} failed and nothing of it was kept",
                source_url,
            )
            copied_at = time.perf_counter()
            checks, differences = _guarded(
                target_url, lambda: _compare(source, target, batch), "", source_url
            )
            verified = time.perf_counter() - copied_at
            return CopyReport(copied, checks, copied_at - started, verified, differences)
        finally:
            target.dispose()
    finally:
        source.dispose()


def _open(url: str, must_exist: bool) -> Engine:
    """An engine for `url`. A source SQLite file must exist: make_engine would otherwise
    create an empty one, and a typing mistake would look like an empty ledger."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError as error:
        raise CopyRefused(f"not a database URL: {url!r} ({error})") from error
    if must_exist and parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise CopyRefused(f"no ledger at {shown(url)}: the file does not exist")
    return make_engine(url)


def _guarded(url: str, step: Callable[[], T], failed: str = "", other: str = "") -> T:
    """Run one step; a database that cannot be reached (or fails on the way) becomes one
    clear line, with the passwords of the URLs taken out of the driver's message."""
    try:
        return step()
    except SQLAlchemyError as error:
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        for password in (make_url(given).password for given in (url, other) if given):
            if password:
                detail = detail.replace(str(password), "***")
        raise CopyRefused(f"{failed or f'cannot use {shown(url)}'}: {detail}") from error


def require_newest(engine: Engine) -> None:
    """Refuse a source below (or beyond) this intake's newest migration: the rows are copied
    column for column into the newest schema, so both must be the same schema."""
    head = _scripts().get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    where = _where(engine)
    if current is None:
        raise CopyRefused(f"{where} is not an intake ledger: it has no schema version")
    if current == head:
        return
    if _scripts().get_revision(current) is None:  # pragma: no cover - a newer intake's ledger
        raise CopyRefused(
            f"{where} is at migration {current}, which this intake does not know "
            f"(its newest is {head}): copy it with the intake that wrote it"
        )
    raise CopyRefused(
        f"{where} is at migration {current}, not the newest ({head}): run `intake db upgrade` "
        "with the configuration that uses it first, then copy again"
    )


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _scripts() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def require_empty(engine: Engine) -> None:
    """Refuse a target holding any ledger row. Checked before the target is upgraded, so an
    old ledger given as the target by mistake is not even migrated."""
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        filled = [
            f"{table.name} ({count} rows)"
            for table in Base.metadata.sorted_tables
            if table.name in present and (count := _count(connection, table)) > 0
        ]
    if filled:
        raise CopyRefused(
            f"{_where(engine)} is not empty: {', '.join(filled)}. The target must be a new, empty "
            "database, so that two ledgers are never mixed"
        )


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def copy_rows(source: Engine, target: Engine, batch: int = BATCH) -> dict[str, int]:
    """Copy every table in foreign-key order, in batches, keeping primary keys; returns the
    rows copied per table. One transaction on the target: a copy that fails leaves it empty."""
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        for table in Base.metadata.sorted_tables:
            plain = _plain(table)
            copied[table.name] = 0
            for rows in _batches(reading, plain, batch):
                writing.execute(insert(plain), rows)
                copied[table.name] += len(rows)
        if writing.dialect.name == "postgresql":
            _advance_sequences(writing)
    return copied


def _plain(table: Table) -> Table:
    """The table as stored, for copying and comparing: the same columns, but bytes kept in a
    wrapper (compressed replies) read and written as the stored bytes, so the copy carries
    them unchanged instead of unpacking and packing them again. Other wrappers stay: times
    must come back aware and be written as UTC on both sides."""
    columns = [
        Column(column.name, _stored_type(column.type), primary_key=column.primary_key)
        for column in table.columns
    ]
    return Table(table.name, MetaData(), *columns)


def _stored_type(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    # Text wrappers stay too: on PostgreSQL they take out what it cannot hold (NULs, text
    # beyond VARCHAR(n)), and the comparison afterwards shows any row that changed so.
    if isinstance(_unwrapped(kind), LargeBinary):
        return LargeBinary()
    return kind


def _unwrapped(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    return kind.impl_instance if isinstance(kind, TypeDecorator) else kind


def _batches(connection: Connection, table: Table, size: int) -> Iterator[list[dict[str, Any]]]:
    """The rows of `table` in primary-key order, `size` at a time, streamed: PostgreSQL reads
    through a server-side cursor, so a table never has to fit in memory."""
    query = select(table).order_by(*_key_order(table, connection.dialect.name))
    result = connection.execution_options(stream_results=True, yield_per=size).execute(query)
    for part in result.mappings().partitions(size):
        yield [dict(row) for row in part]


def _key_order(table: Table, dialect: str) -> list[ColumnElement[Any]]:
    """Primary-key order that is the same on every database: text keys (the leases' names)
    by their bytes, which is SQLite's own order and PostgreSQL's under collation "C"."""
    order: list[ColumnElement[Any]] = []
    for column in table.primary_key.columns:
        if dialect == "postgresql" and isinstance(_unwrapped(column.type), String):
            order.append(column.collate("C"))
        else:
            order.append(column)
    return order


def _advance_sequences(connection: Connection) -> None:
    """Rows came with their ids, which PostgreSQL's id sequences never saw: set each past the
    largest id, or the next reply or message would collide with a copied one."""
    for table in Base.metadata.sorted_tables:
        if "id" not in table.columns or not table.columns["id"].primary_key:
            continue
        name = connection.dialect.identifier_preparer.quote(table.name)
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                f"COALESCE(MAX(id), 0) + 1, false) FROM {name}"
            ),
            {"table": name},
        )


def _compare(source: Engine, target: Engine, batch: int) -> tuple[list[TableCheck], dict[str, str]]:
    checks = verify(source, target, batch)
    differences = {
        check.table: first_difference(source, target, check.table, batch)
        for check in checks
        if not check.same
    }
    return checks, differences


def verify(source: Engine, target: Engine, batch: int = BATCH) -> list[TableCheck]:
    """Count and checksum every table on both sides, the same way, in primary-key order."""
    checks = []
    with source.connect() as left, target.connect() as right:
        for table in Base.metadata.sorted_tables:
            plain = _plain(table)
            source_rows, source_sum = table_checksum(left, plain, batch)
            target_rows, target_sum = table_checksum(right, plain, batch)
            checks.append(TableCheck(table.name, source_rows, target_rows, source_sum, target_sum))
    return checks


def first_difference(source: Engine, target: Engine, name: str, batch: int = BATCH) -> str:
    """Where table `name` first differs: the key of the first row that is not the same on
    both sides and its columns that differ, or a row only one side has. "" if none."""
    plain = _plain(Base.metadata.tables[name])
    with source.connect() as left, target.connect() as right:
        pairs = zip_longest(_rows(left, plain, batch), _rows(right, plain, batch))
        for ours, theirs in pairs:
            if theirs is None or ours is None:
                row, side = (ours, "source") if theirs is None else (theirs, "target")
                return f"{_key(plain, row)} only in the {side}"
            if _key(plain, ours) != _key(plain, theirs):
                return f"{_key(plain, ours)} in the source, {_key(plain, theirs)} in the target"
            changed = [
                column.name
                for column in plain.columns
                if canonical(ours[column.name]) != canonical(theirs[column.name])
            ]
            if changed:
                return f"{_key(plain, ours)}: {', '.join(changed)}"
    return ""


def _rows(connection: Connection, table: Table, batch: int) -> Iterator[dict[str, Any]]:
    for part in _batches(connection, table, batch):
        yield from part


def _key(table: Table, row: dict[str, Any]) -> str:
    return " ".join(f"{column.name}={row[column.name]!r}" for column in table.primary_key)


def table_checksum(connection: Connection, table: Table, batch: int = BATCH) -> tuple[int, str]:
    """The number of rows and the SHA-256 of their canonical rendering, one line per row."""
    digest = hashlib.sha256()
    rows = 0
    for row in _rows(connection, table, batch):
        line = json.dumps([canonical(row[column.name]) for column in table.columns])
        digest.update(line.encode("utf-8") + b"\n")
        rows += 1
    return rows, digest.hexdigest()


def canonical(value: Any) -> str:
    """One value as text that does not depend on the database it was read from. Each kind is
    tagged, so None, "" and 0 (or b"" and "") never render the same."""
    if value is None:
        return "none"
    if isinstance(value, bool):  # before int: SQLite gives 0/1, PostgreSQL True/False
        return f"bool:{int(value)}"
    if isinstance(value, int):
        return f"int:{value}"
    if isinstance(value, str):
        return f"str:{value}"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"bytes:{bytes(value).hex()}"
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return f"time:{aware.astimezone(UTC).isoformat()}"
    if isinstance(value, dict | list):  # a JSON column: key order is the database's choice
        return "json:" + json.dumps(value, sort_keys=True, ensure_ascii=False)
    return f"{type(value).__name__}:{value}"


def summary(checks: Sequence[TableCheck]) -> list[tuple[str, str, str]]:
    """Rows for the printed table: table, rows (source → target when they differ), status."""
    lines = []
    for check in checks:
        rows = (
            str(check.source_rows)
            if check.source_rows == check.target_rows
            else f"{check.source_rows} → {check.target_rows}"
        )
        if check.same:
            status = "same"
        elif check.source_rows != check.target_rows:
            status = "ROW COUNT DIFFERS"
        else:
            status = "CHECKSUM DIFFERS"
        lines.append((check.table, rows, status))
    return lines
