"""The migrations build exactly the models' schema, and upgrade a database that holds data."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from databases import database_url
from sqlalchemy import inspect, text

from intake.store.db import MIGRATIONS, make_engine, upgrade
from intake.store.models import Base

_ONE_MESSAGE = (
    'insert into messages (sha256, message_id, campaign, "group", mailbox,'
    " received_at, recorded_at, raw_path, size, sender, sender_name, subject,"
    " decision, reasons, warnings, school, kinds, receipt, error) values"
    " ('x', 'm@x', 'sl', 'primary', 'box', '2021-05-20 02:00:00',"
    " '2021-05-20 02:00:00', 'p', 1, 's@x', '', '报告', 'accepted', '[]', '[]',"
    " '甲小学', '[\"report\"]', 'SL21-00001', '')"
)


def _alembic(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def test_the_newest_migration_matches_the_models(tmp_path: Path):
    engine = make_engine(database_url(tmp_path, "ledger"))
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_a_first_edition_database_gains_stages_and_registrations(tmp_path: Path):
    engine = make_engine(database_url(tmp_path, "ledger"))
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0001")
        connection.execute(text(_ONE_MESSAGE))
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("select stage from messages")).scalar_one() == "submission"
        assert connection.execute(text("select count(*) from registrations")).scalar_one() == 0


def test_the_newest_migration_can_be_undone_on_a_database_with_data(tmp_path: Path):
    engine = make_engine(database_url(tmp_path, "ledger"))
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0001")
        connection.execute(text(_ONE_MESSAGE))
        connection.execute(
            text(
                "insert into locations (message_pk, mailbox, folder, uidvalidity, uid, seen_at)"
                " values (1, 'box', 'INBOX', 1, 1, '2021-05-20 02:00:00')"
            )
        )
    upgrade(engine)
    with engine.begin() as connection:
        command.downgrade(_alembic(connection), "0001")
    with engine.connect() as connection:
        columns = [column["name"] for column in inspect(connection).get_columns("messages")]
        assert "stage" not in columns
        assert connection.execute(text("select count(*) from locations")).scalar_one() == 1


def test_an_upgrade_that_stops_half_way_leaves_nothing_behind(tmp_path: Path, monkeypatch):
    """A process killed in the middle of creating the schema must not leave tables without
    their version: the next start would fail on "table already exists" forever."""
    from alembic.operations import Operations

    engine = make_engine(database_url(tmp_path, "ledger"))
    real, calls = Operations.create_table, []

    def create_then_die(self, *args, **kwargs):
        calls.append(args[0])
        if len(calls) == 4:
            raise KeyboardInterrupt("killed while creating the schema")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Operations, "create_table", create_then_die)
    with pytest.raises(KeyboardInterrupt):
        upgrade(engine)
    monkeypatch.undo()
    assert len(calls) == 4
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    upgrade(engine)  # the next start builds it whole
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
