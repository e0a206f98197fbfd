"""The database each test's ledger lives in: a SQLite file in the test's folder, or, with
INTAKE_TEST_DATABASE set to a PostgreSQL server's URL, a new database on that server.

`python3 tasks.py test` runs the whole suite both ways; the PostgreSQL run starts a
throw-away cluster and sets the variable, e.g.
INTAKE_TEST_DATABASE=postgresql+psycopg://intake@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text

SERVER = os.environ.get("INTAKE_TEST_DATABASE", "")
ENGINE = "postgresql" if SERVER else "sqlite"
_created: list[str] = []


def database_url(folder: Path, name: str = "intake") -> str:
    """A ledger of its own for one test: `folder/name.db`, or a fresh database on the server."""
    if not SERVER:
        return f"sqlite:///{folder}/{name}.db"
    database = f"t_{name.replace('-', '_')[:20]}_{uuid.uuid4().hex[:12]}".lower()
    with _server().connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    _created.append(database)
    return make_url(SERVER).set(database=database).render_as_string(hide_password=False)


def created() -> int:
    return len(_created)


def drop_since(mark: int) -> None:
    """Drop the databases made since `created()` returned `mark`, closing their connections."""
    if not SERVER:
        return
    with _server().connect() as connection:
        while len(_created) > mark:
            name = _created.pop()
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_engines: list[Engine] = []


def _server() -> Engine:
    if not _engines:
        _engines.append(create_engine(SERVER, isolation_level="AUTOCOMMIT"))
    return _engines[0]
