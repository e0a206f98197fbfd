"""What admins do to the ledger: replay an inbox, judge again, explain, decide, retry."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from intake import overrides, replay_view
from intake import quarantine as quarantine_module
from intake import replay as replay_module
from intake import reprocess as reprocess_module
from intake.app import build
from intake.cli.base import chosen_campaigns, codes, load, main, open_app
from intake.store import explain as explain_module


@main.command("replay")
@click.argument("source")
@click.option("--mailbox", default=None, help="For a file source: which mailbox (campaign/group).")
@click.option("--send-replies", is_flag=True, help="Send the replies never sent before.")
@click.option("--dry-run", is_flag=True, help="Record into a throw-away copy; print what it did.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes reading messages ahead (default: one per core; 1: none).",
)
@click.pass_context
def replay_command(
    ctx: click.Context,
    source: str,
    mailbox: str | None,
    send_replies: bool,
    dry_run: bool,
    workers: int | None,
) -> None:
    """Load a whole inbox: a configured mailbox from UID 1, an .mbox, a Maildir, .eml files."""
    config_path = Path(ctx.obj["config"])
    console = Console(stderr=True)
    with ExitStack() as stack:
        config = (
            stack.enter_context(replay_view.scratch_copy(config_path))
            if dry_run
            else load(str(config_path))
        )
        app = build(config)
        stack.callback(app.close)
        try:
            found = replay_module.open_source(app, source, mailbox)
        except replay_module.ReplaySourceError as error:
            raise click.ClickException(str(error)) from error
        for name in found.unreadable:
            console.print(f"未处理：{name} 没有 Received: 或 Date:，无法确定收到时间")
        with replay_view.progress(console) as bar:
            task = bar.add_task("回放", total=found.total)
            report = replay_module.replay(
                app, found, send_replies and not dry_run, lambda: bar.advance(task), workers
            )
        if send_replies and not dry_run:
            app.send_replies()
    Console().print(replay_view.summary(report, source, dry_run))


@main.command("explain")
@click.argument("key")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def explain_command(ctx: click.Context, key: str, lang: str) -> None:
    """The whole story of one message (ledger id, receipt number or Message-ID)."""
    app = open_app(ctx)
    try:
        with app.intake.factory() as session:
            message = explain_module.find_message(session, key)
            if message is None:
                raise click.ClickException(f"账本中没有 {key}（可用编号、回执号或 Message-ID）")
            ref = app.ref_of(message)
            zone = ref.campaign.zone if ref is not None else None
            click.echo(
                explain_module.explain(session, message, "en" if lang == "en" else "zh", zone),
                nl=False,
            )
    finally:
        app.close()


@main.command("reprocess")
@click.option("--campaign", default=None, help="Only this campaign.")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Received on or after."
)
@click.option("--apply", "do_apply", is_flag=True, help="Record the new judgements.")
@click.option("--notify", is_flag=True, help="With --apply: tell schools whose decision changed.")
@click.pass_context
def reprocess_command(
    ctx: click.Context, campaign: str | None, since: Any, do_apply: bool, notify: bool
) -> None:
    """Judge recorded messages again with the current configuration; show what changes."""
    app = open_app(ctx)
    try:
        if campaign is not None:
            chosen_campaigns(app, campaign)
        found, failed = reprocess_module.changes(app, campaign, since.date() if since else None)
        for line in failed:
            click.echo(f"无法重新判定：{line}", err=True)
        for change, _ in found:
            click.echo(
                f"#{change.id} {change.receipt}: {change.old_decision} → {change.new_decision}"
                f"  原因 {codes(change.old_reasons)} → {codes(change.new_reasons)}"
                f"  提示 {codes(change.old_warnings)} → {codes(change.new_warnings)}"
            )
        if not do_apply:
            click.echo(f"{len(found)} 封邮件的判定会改变；加 --apply 记录" if found else "没有变化")
            return
        told = reprocess_module.apply(app, found, notify)
        if told:
            app.send_replies()
        click.echo(f"已记录 {len(found)} 封，通知学校 {told} 封")
    finally:
        app.close()


@main.command("decide")
@click.argument("key")
@click.option("--accept", "verdict", flag_value="accept", help="Accept it.")
@click.option("--reject", "verdict", flag_value="reject", help="Reject it.")
@click.option("--reason", required=True, help="Why; kept with the decision and told the school.")
@click.option("--notify", is_flag=True, help="Write to the school that the decision changed.")
@click.pass_context
def decide_command(
    ctx: click.Context, key: str, verdict: str | None, reason: str, notify: bool
) -> None:
    """An organizer's decision over the rules, recorded with who and why."""
    if verdict is None:
        raise click.UsageError("请用 --accept 或 --reject 给出决定")
    app = open_app(ctx)
    try:
        message = overrides.decide(app, key, verdict == "accept", reason, notify)
        if notify:
            app.send_replies()
    except overrides.OverrideError as error:
        raise click.ClickException(str(error)) from error
    finally:
        app.close()
    click.echo(
        f"#{message.id} {message.receipt}: {message.decision}（{overrides.who()}：{reason}）"
    )


@main.group()
def quarantine() -> None:
    """Messages whose handling failed: list them, or handle them again."""


@quarantine.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_context
def quarantine_list(ctx: click.Context, as_json: bool) -> None:
    """Every quarantined message with the last line of its error."""
    app = open_app(ctx.find_root())
    try:
        rows = quarantine_module.quarantined(app)
    finally:
        app.close()
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        click.echo()
        return
    for row in rows:
        click.echo(f"#{row['id']} {row['receipt']} {row['campaign']}/{row['group']} {row['error']}")
    click.echo(f"隔离区共 {len(rows)} 封")


@quarantine.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every quarantined message.")
@click.pass_context
def quarantine_retry(ctx: click.Context, ids: tuple[int, ...], every: bool) -> None:
    """Handle quarantined messages again (after fixing the cause), then send the replies due."""
    if not ids and not every:
        raise click.UsageError("请给出要重试的编号，或用 --all")
    app = open_app(ctx.find_root())
    try:
        results = quarantine_module.retry_quarantined(app, None if every else list(ids))
        app.send_replies()
    finally:
        app.close()
    for result in results:
        click.echo(
            f"#{result.id} {result.receipt} → {result.decision or '-'} {result.note}".rstrip()
        )
    if any(r.decision in ("", "quarantined") for r in results):
        raise click.ClickException("有邮件仍未能处理，详见上方")
