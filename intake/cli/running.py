"""Setting up and running: check, db upgrade, poll, run, messages and the demo."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from intake import demo as demo_module
from intake.campaigns.campaign import load_campaigns
from intake.cli.base import busy, load, main, open_app
from intake.jobs import poll_and_send, run_forever
from intake.store.copy import ARCHIVE_NOTE, CopyRefused, copy_ledger, shown, summary
from intake.store.views import ledger_rows


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the configuration and say what it describes."""
    config = load(ctx.obj["config"])
    for campaign in load_campaigns(config):
        settings = campaign.settings
        click.echo(f"{campaign.id}: {settings.name}, {settings.timezone}")
        for stage in campaign.stages():
            click.echo(f"  stage {stage.key} {stage.label}: until {stage.deadline} inclusive")
        for group_key, group in settings.groups.items():
            click.echo(
                f"  {group_key} {group.label}: {group.mailbox.account} "
                f"(code in {group.mailbox.code_source}), folders {list(group.mailbox.folders)}"
            )
    click.echo("配置有效 (configuration is valid)")


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create the database or bring it to the newest schema."""
    app = open_app(ctx)
    app.close()
    click.echo(f"database is up to date: {app.config.database_url()}")


@db.command("copy")
@click.option("--from", "source", required=True, metavar="URL", help="The ledger to copy.")
@click.option("--to", "target", required=True, metavar="URL", help="A new, empty database.")
def db_copy(source: str, target: str) -> None:
    """Copy the whole ledger into a new, empty database and verify every row.

    \b
    For example, from SQLite to the PostgreSQL shared by several machines:
      intake db copy --from sqlite:///var/intake.db \\
                     --to postgresql+psycopg://intake@db.example/intake

    Uses only the two URLs, no configuration file. Stop every `intake run` first. The source
    must be at the newest schema (`intake db upgrade` with its configuration); the target is
    given the schema and must hold no rows. Afterwards both are compared table by table, by
    row count and checksum. The archive (raw .eml files and attachments) is not copied: the
    rows name its files by absolute path, so keep the folder where it is, or copy it to the
    same path on the new machine. Then point `[database] url` at the target.
    """
    click.echo(f"copying the ledger {shown(source)} → {shown(target)}")
    try:
        report = copy_ledger(source, target)
    except CopyRefused as error:
        raise click.ClickException(str(error)) from error
    table = Table("table", "rows", "checksum")
    for name, rows, status in summary(report.checks):
        table.add_row(name, rows, status, style=None if status == "same" else "bold red")
    Console().print(table)
    click.echo(
        f"{sum(report.copied.values())} rows copied in {report.copy_seconds:.1f} s, "
        f"verified in {report.verify_seconds:.1f} s"
    )
    click.echo(ARCHIVE_NOTE)
    if not report.same:
        for table_name, where in report.differences.items():
            click.echo(f"{table_name}: first difference at {where}", err=True)
        differing = ", ".join(report.differences)
        raise click.ClickException(
            f"the copy differs from the source in: {differing}. Do not use {shown(target)}; "
            "drop it, stop every intake process, and copy again into a new, empty database"
        )


@main.command()
@click.option("--once", is_flag=True, help="Poll every mailbox and send the outbox, then exit.")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Poll the mailboxes once (--once), or keep polling like `intake run`."""
    app = open_app(ctx)
    if not once:
        run_forever(app)
        return
    try:
        errors = poll_and_send(app)
    except OperationalError as error:
        raise busy(error) from error
    finally:
        app.close()
    if errors:
        # A mailbox that could not be read is worth a failing exit code for cron and systemd.
        raise click.ClickException("；".join(errors))


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Poll and answer on a schedule until stopped (SIGTERM or Ctrl-C)."""
    run_forever(open_app(ctx))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array with every message.")
@click.option("--campaign", default=None, help="Only this campaign.")
@click.pass_context
def messages(ctx: click.Context, as_json: bool, campaign: str | None) -> None:
    """Every message in the ledger with its decision."""
    app = open_app(ctx)
    try:
        rows = ledger_rows(app.intake.factory, campaign)
    finally:
        app.close()
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        click.echo()
        return
    _print_table(rows)


def _print_table(rows: list[dict[str, Any]]) -> None:
    click.echo(
        f"{'回执号':<10} {'活动/组别':<18} {'阶段':<9} {'决定':<11} {'原因/提示':<28} 单位  主题"
    )
    for row in rows:
        notes = ",".join(row["reasons"] + row["warnings"]) or "-"
        where = f"{row['campaign']}/{row['group']}"
        click.echo(
            f"{row['receipt']:<13} {where:<22} {row['stage']:<11} {row['decision']:<13} "
            f"{notes:<32} {row['school'] or '-'}  {row['subject'][:40]}"
        )


@main.command()
@click.option("--out", default="var/demo", show_default=True, help="Folder for the demo.")
@click.pass_context
def demo(ctx: click.Context, out: str) -> None:
    """Replay the sample inbox into a local SQLite database; write replies as .eml files."""
    if not ctx.find_root().params.get("verbose"):
        logging.getLogger("intake").setLevel(logging.WARNING)  # the table says it all
    rows = demo_module.run_demo(Path(out))
    _print_table(rows)
    click.echo(
        f"\n{len(rows)} messages recorded in {Path(out) / 'demo.db'}; "
        f"replies written to {Path(out) / 'outbox'}"
    )
