"""What organizers take away: registrations, the daily digest and the exports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from intake import digests as digests_module
from intake.cli.base import chosen_campaigns, main, open_app
from intake.replies import LEVEL_LABELS, RECORD_LABELS
from intake.reports import exports
from intake.store import views


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per campaign.")
@click.option("--campaign", default=None, help="Only this campaign.")
@click.pass_context
def registrations(ctx: click.Context, as_json: bool, campaign: str | None) -> None:
    """Registered contacts and cases, and the counties or schools below a minimum."""
    app = open_app(ctx)
    try:
        reports = [
            views.registrations(app.intake.factory, c) for c in chosen_campaigns(app, campaign)
        ]
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
    app = open_app(ctx)
    try:
        chosen = chosen_campaigns(app, campaign)
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
                if not app.send_digest(item, again=True):
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
    app = open_app(ctx)
    try:
        with app.intake.factory() as session:
            if bundle:
                report = exports.export_bundle(session, chosen_campaigns(app, campaign), output)
                click.echo(f"{output}: {report.files} 个文件")
                for missing in report.missing:
                    click.echo(f"  缺少文件（未下载或已丢失）：{missing}")
                return
            if campaign is None:
                raise click.UsageError("请用 --campaign 指定活动")
            [chosen] = chosen_campaigns(app, campaign)
            (exports.export_xlsx if fmt == "xlsx" else exports.export_csv)(session, chosen, output)
            click.echo(f"{output}: 已导出")
    finally:
        app.close()
