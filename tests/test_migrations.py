"""The migrations build exactly the models' schema, and upgrade a database that holds data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

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
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_a_first_edition_database_gains_stages_and_registrations(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0001")
        connection.execute(text(_ONE_MESSAGE))
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("select stage from messages")).scalar_one() == "submission"
        assert connection.execute(text("select count(*) from registrations")).scalar_one() == 0


def test_the_newest_migration_can_be_undone_on_a_database_with_data(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
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
        columns = [row[1] for row in connection.execute(text("pragma table_info(messages)"))]
        assert "stage" not in columns
        assert connection.execute(text("select count(*) from locations")).scalar_one() == 1
