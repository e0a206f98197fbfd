"""Target 5, database growth: what each message costs in the SQLite ledger, and how long the
daily digest takes to read a ledger of a whole season.

A realistic inbox (bench/corpus.py) is replayed from an .mbox into a fresh ledger. The raw
mail and its files live in the archive folder, not in the database, so they are not counted:
the figure is the database file's size (WAL checkpointed into it, and again after VACUUM)
less the size of a freshly migrated empty ledger, per message. SQLite's dbstat table says
which table (or index) holds the bytes. The digest is timed in this process as the daily job
runs it (`reports.digest_gather.gather`, then gather and render together), median of five,
and once end to end through `intake digest --preview`.

Target: under 4 KB per message, and the digest's gather under 1 s over 10,000 messages.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from bench import corpus
from bench.common import ROOT, Deployment, Figures, Servers, Stopwatch, deploy
from bench.scale import Scale

TARGET_BYTES_PER_MESSAGE = 4096
TARGET_GATHER_S = 1.0
PDF_DIR = ROOT / "var" / "bench" / "pdfs"
RUNS = 5


def run(where: Servers, work: Path, scale: Scale) -> list[Figures]:
    figures = Figures("database")
    total = scale.replay_messages
    deployment = deploy(where, work)
    database = work / "intake.db"
    deployment.intake("db", "upgrade")
    empty = checkpointed_size(database)
    figures.add("messages", total)
    figures.add("empty_ledger_bytes", empty)

    # The replay benchmark's ledger of the same inbox, when it ran first in this run.
    replayed = work.parent / "replay" / "mbox"
    if (replayed / "intake.db").exists():
        deployment = Deployment(replayed, replayed / "intake.toml", {}, deployment.code)
        database = replayed / "intake.db"
        figures.add("ledger", "the replay benchmark's")
    else:
        clock = Stopwatch()
        mbox = cached_mbox(total)
        deployment.intake("replay", str(mbox), "--mailbox", "sl/primary", timeout=6 * 3600)
        figures.add("replay_s", round(clock.seconds, 1))
    recorded = count(database, "messages")
    figures.add("messages_recorded", recorded)
    attachments = count(database, "attachments")
    figures.add("attachments_recorded", attachments)

    size = checkpointed_size(database)
    figures.add("db_bytes", size)
    per_message = (size - empty) / max(1, recorded)
    figures.add("bytes_per_message", round(per_message))
    per_table, indexes = table_bytes(database)
    empty_tables, empty_indexes = table_bytes(work / "empty.db")
    grown = {name: used - empty_tables.get(name, 0) for name, used in per_table.items()}
    figures.add(
        "bytes_per_message_by_table",
        {name: round(used / max(1, recorded)) for name, used in grown.items() if used > 0},
    )
    figures.add("index_bytes_per_message", round((indexes - empty_indexes) / max(1, recorded)))

    gather_s, prepare_s, lines = time_digest(deployment)
    figures.add("digest_messages_listed", lines)
    figures.add("digest_gather_s", round(gather_s, 3))
    figures.add("digest_gather_and_render_s", round(prepare_s, 3))
    clock = Stopwatch()
    deployment.intake("digest", "--preview", str(work / "digest.html"))
    figures.add("digest_preview_command_s", round(clock.seconds, 2))

    vacuumed = work / "vacuumed.db"
    vacuum_into(database, vacuumed)
    empty_vacuumed = work / "empty-vacuumed.db"
    vacuum_into(work / "empty.db", empty_vacuumed)
    after_vacuum = (vacuumed.stat().st_size - empty_vacuumed.stat().st_size) / max(1, recorded)
    figures.add("db_bytes_after_vacuum", vacuumed.stat().st_size)
    figures.add("bytes_per_message_after_vacuum", round(after_vacuum))

    figures.met = per_message < TARGET_BYTES_PER_MESSAGE and gather_s < TARGET_GATHER_S
    figures.note = (
        f"{per_message / 1024:.1f} KB/message in SQLite ({after_vacuum / 1024:.1f} after VACUUM), "
        f"digest gather {gather_s:.2f} s over {recorded} messages"
    )
    return [figures]


def cached_mbox(total: int) -> Path:
    """The realistic inbox of `total` messages as an .mbox, written once and kept."""
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"inbox-{total}.mbox"
    if not path.exists():
        partial = path.with_suffix(".partial")
        corpus.write_mbox(partial, corpus.plan(total), PDF_DIR)
        partial.replace(path)
    return path


def checkpointed_size(database: Path) -> int:
    """The database file's size once the WAL is written back into it; an empty ledger's
    copy is kept next to it as empty.db the first time."""
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    empty = database.with_name("empty.db")
    if not empty.exists():
        shutil.copyfile(database, empty)
    return database.stat().st_size


def vacuum_into(database: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("VACUUM INTO ?", (str(target),))


def count(database: Path, table: str) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def table_bytes(database: Path) -> tuple[dict[str, int], int]:
    """Bytes of pages held by each table, its indexes counted with it, largest first, and by
    all indexes together (from dbstat; without it, the lengths of each table's values)."""
    with closing(sqlite3.connect(database)) as connection:
        kinds = {
            name: (kind, table)
            for kind, name, table in connection.execute(
                "SELECT type, name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index')"
            )
        }
        used: dict[str, int] = {}
        indexes = 0
        try:
            rows = connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
            for name, size in rows.fetchall():
                kind, owner = kinds.get(name, ("table", name))
                used[owner] = used.get(owner, 0) + int(size)
                indexes += int(size) if kind == "index" else 0
        except sqlite3.OperationalError:
            used = _value_lengths(connection, {table for _, table in kinds.values()})
    return dict(sorted(used.items(), key=lambda item: -item[1])), indexes


def _value_lengths(connection: sqlite3.Connection, tables: set[str]) -> dict[str, int]:
    used = {}
    for table in sorted(tables):
        columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
        total = " + ".join(f'coalesce(length(CAST("{c}" AS BLOB)), 0)' for c in columns)
        if total:
            query = f'SELECT sum({total}) FROM "{table}"'
            used[table] = int(connection.execute(query).fetchone()[0] or 0)
    return used


def time_digest(deployment: Deployment) -> tuple[float, float, int]:
    """Median seconds of the digest's gather, and of gather and render together, as the
    daily job runs them in the service's process; and how many new messages it lists."""
    os.environ.setdefault("BENCH_CODE", deployment.code)
    from intake.app import build
    from intake.config import load_config
    from intake.digests import prepare
    from intake.reports.digest_gather import gather

    app = build(load_config(deployment.config))
    try:
        [campaign] = app.campaigns
        factory = app.intake.factory
        now = app.intake.clock.now()

        def gathered() -> float:
            with factory() as session:
                started = time.perf_counter()
                gather(session, campaign, None, now)
                return time.perf_counter() - started

        def prepared() -> float:
            started = time.perf_counter()
            prepare(factory, app.intake.templates, campaign, now)
            return time.perf_counter() - started

        with factory() as session:
            digest = gather(session, campaign, None, now)
        lines = sum(
            len(group.new_accepted)
            + len(group.new_rejected)
            + len(group.new_ignored)
            + len(group.new_quarantined)
            for group in digest.groups
        )
        return _median(gathered), _median(prepared), lines
    finally:
        app.close()


def _median(measure: Callable[[], float]) -> float:
    measure()  # the first run warms SQLite's page cache and the imports
    return statistics.median(measure() for _ in range(RUNS))
