"""The `intake` command. Each subcommand calls one function of the layers below."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from intake import demo as demo_module
from intake import digests as digests_module
from intake import overrides, replay_view
from intake import quarantine as quarantine_module
from intake import replay as replay_module
from intake import reprocess as reprocess_module
from intake.app import App, build
from intake.campaigns.campaign import Campaign, load_campaigns
from intake.config import Config, ConfigError, load_config
from intake.jobs import poll_and_send, run_forever
from intake.replies import LEVEL_LABELS, RECORD_LABELS
from intake.reports import exports
from intake.store import explain as explain_module
from intake.store import views
from intake.store.views import ledger_rows

CONFIG_HELP = "配置文件 (configuration file); default: $INTAKE_CONFIG or ./config.toml"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library chatter (imaplib commands, SQL) could carry private data; keep it out.
    for noisy in ("imapclient", "apscheduler", "sqlalchemy", "mailparser", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _load(path: str) -> Config:
    try:
        return load_config(Path(path))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def _app(ctx: click.Context) -> App:
    try:
        return build(_load(ctx.obj["config"]))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="INTAKE_CONFIG",
    default="config.toml",
    show_default=True,
    help=CONFIG_HELP,
)
@click.option("-v", "--verbose", is_flag=True, help="More detail in the log.")
@click.pass_context
def main(ctx: click.Context, config_path: str, verbose: bool) -> None:
    """intake: 接收、核对、登记并回复学校通过QQ邮箱提交的参赛材料。"""
    _setup_logging(verbose)
    ctx.obj = {"config": config_path}


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the configuration and say what it describes."""
    config = _load(ctx.obj["config"])
    for campaign in load_campaigns(config):
        settings = campaign.settings
        click.echo(f"{campaign.id}: {settings.name}, {settings.timezone}")
        for stage in campaign.stages():
            click.echo(f"  stage {stage.key} {stage.label}: until {stage.deadline} inclusive")
        for group_key, group in settings.groups.items():
            click.echo(
                f"  {group_key} {group.label}: {group.mailbox.account} "
                f"(code in ${group.mailbox.auth_env}), folders {list(group.mailbox.folders)}"
            )
    click.echo("配置有效 (configuration is valid)")


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create the database or bring it to the newest schema."""
    app = _app(ctx)
    app.close()
    click.echo(f"database is up to date: {app.config.database_url()}")


@main.command()
@click.option("--once", is_flag=True, help="Poll every mailbox and send the outbox, then exit.")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Poll the mailboxes once (--once), or keep polling like `intake run`."""
    app = _app(ctx)
    if not once:
        run_forever(app)
        return
    try:
        errors = poll_and_send(app)
    finally:
        app.close()
    if errors:
        # A mailbox that could not be read is worth a failing exit code for cron and systemd.
        raise click.ClickException("；".join(errors))


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Poll and answer on a schedule until stopped (SIGTERM or Ctrl-C)."""
    run_forever(_app(ctx))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array with every message.")
@click.option("--campaign", default=None, help="Only this campaign.")
@click.pass_context
def messages(ctx: click.Context, as_json: bool, campaign: str | None) -> None:
    """Every message in the ledger with its decision."""
    app = _app(ctx)
    try:
        rows = ledger_rows(app.intake.factory, campaign)
    finally:
        app.close()
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        click.echo()
        return
    _print_table(rows)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per campaign.")
@click.option("--campaign", default=None, help="Only this campaign.")
@click.pass_context
def registrations(ctx: click.Context, as_json: bool, campaign: str | None) -> None:
    """Registered contacts and cases, and the counties or schools below a minimum."""
    app = _app(ctx)
    try:
        reports = [views.registrations(app.intake.factory, c) for c in _campaigns(app, campaign)]
    finally:
        app.close()
    if as_json:
        payload: Any = reports[0] if campaign else reports
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
        click.echo()
        return
    for report in reports:
        _print_registrations(report)


def _print_registrations(report: dict[str, Any]) -> None:
    click.echo(
        f"== {report['campaign']}: {len(report['contacts'])} 位联络人，"
        f"{len(report['cases'])} 个已申报案例"
    )
    for case in report["cases"]:
        click.echo(f"  {case['district'] or '-':<6} {case['unit']:<12} {case['title']}")
    for short in report["shortfalls"]:
        level = LEVEL_LABELS.get(short["level"], "")
        click.echo(
            f"  未达下限：{short['holder']} {level}{RECORD_LABELS.get(short['record'], '')} "
            f"{short['count']} 个（至少 {short['min']} 个）"
        )


@main.command()
@click.option("--campaign", default=None, help="Only this campaign.")
@click.option("--send", "send_now", is_flag=True, help="Send it now to the configured recipients.")
@click.option(
    "--preview",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the HTML to this file (the text version is printed).",
)
@click.pass_context
def digest(ctx: click.Context, campaign: str | None, send_now: bool, preview: Path | None) -> None:
    """The organizers' daily digest: preview it, or send it now."""
    app = _app(ctx)
    try:
        chosen = _campaigns(app, campaign)
        for item in chosen:
            prepared = digests_module.prepare(
                app.intake.factory, app.intake.templates, item, app.intake.clock.now()
            )
            click.echo(prepared.text)
            if preview is not None:
                target = (
                    preview if len(chosen) == 1 else preview.with_stem(f"{preview.stem}-{item.id}")
                )
                target.write_text(prepared.html, encoding="utf-8")
                click.echo(f"HTML: {target}")
            if send_now:
                if not item.settings.digest.recipients:
                    raise click.ClickException(
                        f"{item.id}: 未配置汇总收件人（campaigns.{item.id}.digest.recipients）"
                    )
                if not app.send_digest(item):
                    raise click.ClickException(f"{item.id}: 汇总未能发出，详见日志")
                click.echo(f"{item.id}: 已发送给 {', '.join(item.settings.digest.recipients)}")
    finally:
        app.close()


@main.command()
@click.option("--campaign", default=None, help="The campaign (required for xlsx and csv).")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True
)
@click.option("--bundle", is_flag=True, help="A zip of every accepted file, named for judges.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_context
def export(ctx: click.Context, campaign: str | None, fmt: str, bundle: bool, output: Path) -> None:
    """Files for organizers: the entries and schools as Excel or CSV, or the files as a zip."""
    app = _app(ctx)
    try:
        with app.intake.factory() as session:
            if bundle:
                report = exports.export_bundle(session, _campaigns(app, campaign), output)
                click.echo(f"{output}: {report.files} 个文件")
                for missing in report.missing:
                    click.echo(f"  缺少文件（未下载或已丢失）：{missing}")
                return
            if campaign is None:
                raise click.UsageError("请用 --campaign 指定活动")
            [chosen] = _campaigns(app, campaign)
            (exports.export_xlsx if fmt == "xlsx" else exports.export_csv)(session, chosen, output)
            click.echo(f"{output}: 已导出")
    finally:
        app.close()


@main.command("replay")
@click.argument("source")
@click.option("--mailbox", default=None, help="For a file source: which mailbox (campaign/group).")
@click.option("--send-replies", is_flag=True, help="Send the replies never sent before.")
@click.option("--dry-run", is_flag=True, help="Record into a throw-away copy; print what it did.")
@click.pass_context
def replay_command(
    ctx: click.Context, source: str, mailbox: str | None, send_replies: bool, dry_run: bool
) -> None:
    """Load a whole inbox: a configured mailbox from UID 1, an .mbox, a Maildir, .eml files."""
    config_path = Path(ctx.obj["config"])
    console = Console(stderr=True)
    with ExitStack() as stack:
        config = (
            stack.enter_context(replay_view.scratch_copy(config_path))
            if dry_run
            else _load(str(config_path))
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
                app, found, send_replies and not dry_run, lambda: bar.advance(task)
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
    app = _app(ctx)
    try:
        with app.intake.factory() as session:
            message = explain_module.find_message(session, key)
            if message is None:
                raise click.ClickException(f"账本中没有 {key}（可用编号、回执号或 Message-ID）")
            campaign = next((c for c in app.campaigns if c.id == message.campaign), None)
            zone = campaign.zone if campaign is not None else None
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
    app = _app(ctx)
    try:
        if campaign is not None:
            _campaigns(app, campaign)
        found, failed = reprocess_module.changes(app, campaign, since.date() if since else None)
        for line in failed:
            click.echo(f"无法重新判定：{line}", err=True)
        for change, _ in found:
            click.echo(
                f"#{change.id} {change.receipt}: {change.old_decision} → {change.new_decision}"
                f"  原因 {_codes(change.old_reasons)} → {_codes(change.new_reasons)}"
                f"  提示 {_codes(change.old_warnings)} → {_codes(change.new_warnings)}"
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
    app = _app(ctx)
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
    app = _app(ctx.find_root())
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
    app = _app(ctx.find_root())
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


def _codes(codes: tuple[str, ...]) -> str:
    return ",".join(codes) or "-"


def _campaigns(app: App, key: str | None) -> list[Campaign]:
    chosen = [c for c in app.campaigns if key in (None, c.id)]
    if not chosen:
        known = ", ".join(c.id for c in app.campaigns)
        raise click.UsageError(f"没有活动 {key}；可选：{known}")
    return chosen


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
