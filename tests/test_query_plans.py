"""Queries that run on every poll read an index range, not every row of a season's ledger."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from databases import database_url
from sqlalchemy import text

from intake.outbox import sent_in_a_day_query
from intake.store.db import make_engine, upgrade


def test_the_replies_of_the_last_day_are_found_by_index(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    query = sent_in_a_day_query(datetime(2021, 5, 20, tzinfo=UTC))
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            plan = " ".join(str(row[-1]) for row in rows)
        else:
            # An empty table is read whole whatever its indexes: the planner is told a
            # sequential scan costs too much, as it does on a season's ledger.
            connection.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(str(row[0]) for row in connection.execute(text(f"EXPLAIN {compiled}")))
    engine.dispose()
    # Both conditions in the index: the state, and a range of sending times.
    if engine.dialect.name == "sqlite":
        assert "ix_outbox_state_sent_at (state=? AND sent_at>?)" in plan, plan
    else:
        assert re.search(r"Index (Only )?Scan (using|on) ix_outbox_state_sent_at\b", plan), plan
        condition = re.search(r"Index Cond: (.*)", plan)
        assert condition and "state" in condition[1] and "sent_at >" in condition[1], plan
