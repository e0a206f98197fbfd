"""What the ledger keeps of a value its engine cannot hold as it is.

SQLite keeps any text at any length. PostgreSQL refuses a NUL character in text and a value
longer than its VARCHAR(n): there the NULs are taken out and the value is cut to the column's
length, and the message is still recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from databases import ENGINE, database_url
from sqlalchemy import select

from intake.store.db import make_engine, session_factory, transaction, upgrade
from intake.store.models import Message

WHEN = datetime(2021, 5, 20, 2, 0, tzinfo=UTC)
LONG_ID = "长" * 1200 + "@school.example"  # messages.message_id is VARCHAR(998)


def _message(**fields: str) -> Message:
    values = {
        "sha256": "0" * 64,
        "message_id": "m@school.example",
        "campaign": "sl",
        "group": "primary",
        "mailbox": "box@qq.example",
        "received_at": WHEN,
        "raw_path": "raw/00.eml",
        "size": 1,
        "sender": "t@school.example",
        "decision": "rejected",
        **fields,
    }
    return Message(**values)


def test_nul_characters_and_over_long_values_are_recorded_as_the_engine_can(tmp_path: Path):
    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        session.add(
            _message(
                message_id=LONG_ID,
                sender_name="张\x00老师",
                subject="报告\x00" + "字" * 5000,
                school="甲" * 300,  # VARCHAR(255)
            )
        )
    with factory() as session:
        # A lookup by the value as it came finds the row on both engines.
        row = session.scalars(select(Message).where(Message.message_id == LONG_ID)).one()
        stored = (row.message_id, row.sender_name, row.subject, row.school)
    engine.dispose()
    if ENGINE == "sqlite":
        assert stored == (LONG_ID, "张\x00老师", "报告\x00" + "字" * 5000, "甲" * 300)
    else:
        assert stored == (LONG_ID[:998], "张老师", "报告" + "字" * 5000, "甲" * 255)
