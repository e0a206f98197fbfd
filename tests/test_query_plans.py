"""Queries that run on every poll read an index range, not every row of a season's ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from intake.outbox import sent_in_a_day_query
from intake.store.db import make_engine, upgrade


def test_the_replies_of_the_last_day_are_found_by_index(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    upgrade(engine)
    query = sent_in_a_day_query(datetime(2021, 5, 20, tzinfo=UTC))
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = " ".join(
            str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )
    # Both conditions in the index: the state, and a range of sending times.
    assert "ix_outbox_state_sent_at (state=? AND sent_at>?)" in plan, plan
