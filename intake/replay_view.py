"""How `intake replay` shows itself: a progress bar with rate and ETA, a summary table, and the
throw-away copy of the deployment a dry run records into."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy import inspect, select

from intake.config import Config, load_config
from intake.replay import ReplayReport
from intake.store.db import MIGRATIONS, make_engine
from intake.store.models import Base

DECISION_LABELS = {
    "accepted": "已受理",
    "rejected": "未受理",
    "ignored": "已忽略",
    "quarantined": "隔离（处理出错）",
}


class RateColumn(ProgressColumn):
    """Messages per second, once there is enough to measure."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} 封/秒" if speed else "– 封/秒")


def progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("剩余"),
        TimeRemainingColumn(),
        console=console,
    )


def summary(report: ReplayReport, source: str, dry_run: bool) -> Table:
    title = f"回放 {source}" + ("（试运行，未写入）" if dry_run else "")
    table = Table(title=title)
    table.add_column("项目")
    table.add_column("数量", justify="right")
    table.add_row("读到的邮件", str(report.seen))
    table.add_row("已在账本中", str(report.seen - report.new))
    table.add_row("新记录", str(report.new))
    for decision, label in DECISION_LABELS.items():
        table.add_row(f"  其中{label}", str(report.decisions.get(decision, 0)))
    table.add_row("发出的回复", str(report.released) if report.released else "0（未发送）")
    return table


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy, with what is still in the write-ahead log, via SQLite's backup."""
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)


def _copy_rows(url: str, target: Path) -> None:
    """A ledger on a database server copied into a SQLite file: the schema at the ledger's
    own revision, then every table's rows in foreign-key order, all read in one snapshot and
    written through the models' types (times in UTC, JSON, compressed replies). A ledger
    without a schema yet is not copied: the dry run starts from an empty one, as it would."""
    live = make_engine(url)
    copy = make_engine(f"sqlite:///{target}")
    try:
        with live.connect().execution_options(isolation_level="REPEATABLE READ") as source:
            revision = MigrationContext.configure(source).get_current_revision()
            if revision is None:
                return
            reading = inspect(source)
            present = {
                name: {column["name"] for column in reading.get_columns(name)}
                for name in reading.get_table_names()
            }
            alembic = AlembicConfig()
            alembic.set_main_option("script_location", str(MIGRATIONS))
            with copy.begin() as scratch:
                alembic.attributes["connection"] = scratch
                command.upgrade(alembic, revision)
                for table in Base.metadata.sorted_tables:
                    columns = [c for c in table.columns if c.name in present.get(table.name, ())]
                    if not columns:
                        continue
                    rows = source.execute(
                        select(*columns).order_by(*table.primary_key.columns)
                    ).mappings()
                    for batch in rows.partitions(1000):
                        scratch.execute(table.insert(), [dict(row) for row in batch])
    finally:
        live.dispose()
        copy.dispose()


@contextmanager
def scratch_copy(config_path: Path) -> Iterator[Config]:
    """The same configuration recording into a throw-away copy of the ledger: a dry run."""
    with tempfile.TemporaryDirectory(prefix="intake-dry-run-") as folder:
        work = Path(folder)
        real = load_config(config_path)
        url = real.database_url()
        if url.startswith("sqlite:///"):
            if Path(url[10:]).exists():
                _copy_sqlite(Path(url[10:]), work / "ledger.db")
        elif not url.startswith("sqlite"):
            _copy_rows(url, work / "ledger.db")

        def into_scratch(data: dict[str, Any]) -> None:
            data["database"] = {"url": f"sqlite:///{work / 'ledger.db'}"}
            data["storage"] = {"archive_dir": str(work / "archive")}
            data.setdefault("replies", {}).update(transport="folder", folder=str(work / "outbox"))

        yield load_config(config_path, into_scratch)
