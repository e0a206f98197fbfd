"""The database engine, sessions and schema upgrades.

SQLite is the default and runs in WAL mode, so the digest or an export can read while the
poller writes; any other SQLAlchemy URL works the same way through the same migrations.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def make_engine(url: str, busy_timeout: float = 30) -> Engine:
    """An engine for `url` that waits up to `busy_timeout` seconds for another writer before
    giving up: SQLite's busy_timeout, PostgreSQL's lock_timeout. For SQLite, also creates the
    folder and turns on WAL and foreign keys."""
    if url.startswith("sqlite") and ":memory:" not in url:
        _private_file(Path(url.split(":///", 1)[1]))
    options: dict[str, Any] = {}
    if make_url(url).get_backend_name() == "postgresql":
        # A statement waiting longer than this for a lock another transaction holds (a
        # LOCK TABLE, a row being updated) fails, as SQLite's "database is locked" does.
        options["connect_args"] = {"options": f"-c lock_timeout={int(busy_timeout * 1000)}"}
    try:
        engine = create_engine(url, json_serializer=to_json, **options)
    except TypeError:  # a dialect without JSON columns of its own takes no serializer
        engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", partial(_sqlite_pragmas, int(busy_timeout * 1000)))
    return engine


def to_json(value: Any) -> str:
    """JSON columns as written: Chinese as itself (UTF-8), not as 6-byte \\uXXXX escapes,
    which tripled the size of every stored file name and document fact."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _private_file(path: Path) -> None:
    """Create the SQLite file for its owner only; SQLite gives its journal files the same
    permissions. An existing file is left as it is."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _sqlite_pragmas(busy_ms: int, connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Another process (an export, a second command) may hold the write lock for a moment.
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


# The advisory lock migrations hold on PostgreSQL (any number; "intake" in ASCII).
_LOCK = 0x696E74616B65


def upgrade(engine: Engine) -> None:
    """Create the schema or bring it to the newest migration: all of it or none of it.

    pysqlite runs DDL outside any transaction, so on SQLite each statement of a migration
    would be committed by itself, and a process killed half-way would leave tables without
    the version that made them (every later start failing on "table already exists"). There
    the upgrade runs in one BEGIN IMMEDIATE … COMMIT of its own, taken only when needed: a
    start on an up-to-date ledger writes nothing and needs no lock."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
        if current == head:
            return
        config.attributes["connection"] = connection
        if connection.dialect.name != "sqlite":
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Several processes starting together: one migrates, the others wait
                    # here, then find the schema at the newest version and do nothing.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
                command.upgrade(config, "head")
            return
        _upgrade_sqlite(connection, config)


def _upgrade_sqlite(connection: Connection, config: AlembicConfig) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    previous, driver.isolation_level = driver.isolation_level, None  # no implicit BEGIN
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            command.upgrade(config, "head")
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")
    finally:
        driver.isolation_level = previous


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    with factory() as session, session.begin():
        yield session
