"""The `intake` command group and what every subcommand shares: the configuration it
reads, the application it builds, and how a campaign is chosen."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from intake.app import App, build
from intake.campaigns.campaign import Campaign
from intake.config import Config, ConfigError, load_config

CONFIG_HELP = "配置文件 (configuration file); default: $INTAKE_CONFIG or ./config.toml"


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Library chatter (imaplib commands, SQL) could carry private data; keep it out.
    for noisy in ("imapclient", "apscheduler", "sqlalchemy", "mailparser", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def load(path: str) -> Config:
    try:
        return load_config(Path(path))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def busy(error: OperationalError) -> click.ClickException:
    """The database stayed locked by another process, or cannot be reached: one line that
    says which, and what to do."""
    cause = str(error.orig).strip().partition("\n")[0]
    if _locked(cause):
        return click.ClickException(
            f"数据库暂时无法写入（{cause}）：可能另一个 intake 进程正在写入，请稍后再试"
        )
    return click.ClickException(
        f"无法打开数据库（{cause}）：请检查 [database] url、数据库服务是否在运行，"
        "PostgreSQL 的密码是否已在 PGPASSWORD 或 ~/.pgpass 中设置"
    )


def _locked(cause: str) -> bool:
    """SQLite's "database is locked", PostgreSQL's lock timeout."""
    return "locked" in cause or "lock timeout" in cause


def open_app(ctx: click.Context) -> App:
    try:
        return build(load(ctx.obj["config"]))
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    except OperationalError as error:
        raise busy(error) from error


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
    setup_logging(verbose)
    # The ledger, the archive, exports and converted files hold pupils' and teachers' names
    # and contact details: whatever intake creates is for its own user only.
    os.umask(0o077)
    ctx.obj = {"config": config_path}


def chosen_campaigns(app: App, key: str | None) -> list[Campaign]:
    chosen = [c for c in app.campaigns if key in (None, c.id)]
    if not chosen:
        known = ", ".join(c.id for c in app.campaigns)
        raise click.UsageError(f"没有活动 {key}；可选：{known}")
    return chosen


def codes(items: tuple[str, ...]) -> str:
    return ",".join(items) or "-"
