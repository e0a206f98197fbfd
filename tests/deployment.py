"""A deployment for integration tests: two group mailboxes on the private Dovecot, their
SMTP accounts on the private SMTP server, and a config file that points intake at both."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from databases import database_url
from servers import Dovecot, SmtpServer
from sqlalchemy import create_engine, text

CST = timezone(timedelta(hours=8))
EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
ON_TIME = datetime(2021, 5, 20, 10, 0, tzinfo=CST)

CONFIG = """
[database]
url = "{database}"
[storage]
archive_dir = "{tmp}/archive"
[replies]
max_per_minute = 600
max_per_sender_per_day = {budget}
[campaigns.sl]
name = "双流区第四届教育质量综合评价结果解读运用展评"
organizer = "成都市双流区教育科学研究院"
receipt_prefix = "SL21"
deadline = 2021-05-21
roster = "{roster}"
[campaigns.sl.kinds.report]
label = "报告"
name_pattern = "{{school}}报告"
required = true
when_full = "supersede"
[campaigns.sl.kinds.case]
label = "改进案例"
name_pattern = "{{school}}改进案例"
max_per_school = 2
{groups}
"""
GROUP = """
[campaigns.sl.groups.{key}]
label = "{label}"
[campaigns.sl.groups.{key}.mailbox]
account = "{account}"
display_name = "双流区教科院"
auth_env = "TEST_CODE_{key}"
imap_host = "127.0.0.1"
imap_port = {imap_port}
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
ca_file = "{ca}"
"""


@dataclass
class Deployment:
    dovecot: Dovecot
    smtp: SmtpServer
    tmp: Path
    accounts: dict[str, str]
    config: Path
    database: str  # the ledger's URL: a SQLite file in tmp, or a PostgreSQL database

    def deliver(
        self, group: str, raw: bytes, when: datetime = ON_TIME, folder: str = "INBOX"
    ) -> int:
        return self.dovecot.append(self.accounts[group], folder, raw, when)

    def intake(self, *args: str) -> str:
        command = [sys.executable, "-m", "intake", "--config", str(self.config), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=self.env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def poll(self) -> None:
        self.intake("poll", "--once")

    def ledger(self) -> list[dict]:
        return json.loads(self.intake("messages", "--json"))

    def sql(self, query: str) -> list[tuple]:
        engine = create_engine(self.database)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(query))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            engine.dispose()

    @property
    def env(self) -> dict[str, str]:
        codes = {f"TEST_CODE_{key}": self.dovecot.password for key in self.accounts}
        return {**os.environ, **codes}


def shipped_campaign(
    key: str, dovecot: Dovecot, smtp: SmtpServer, accounts: dict[str, str], roster: str = ""
) -> str:
    """One campaign's tables exactly as config.example.toml ships them, its mailboxes pointed
    at the private servers (each group's account in `accounts`, by group key)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index(f"[campaigns.{key}]")
    following = re.search(r"^\[campaigns\.(?!" + re.escape(key) + r"[.\]])", text[start:], re.M)
    section = text[start : start + following.start()] if following else text[start:]
    for group, account in accounts.items():
        smtp.add_user(account, dovecot.password)
        mailbox = f"[campaigns.{key}.groups.{group}.mailbox]"
        head, _, rest = section.partition(mailbox)
        block, tail = re.match(r"(.*?)(\n\[.*|\Z)", rest, re.S).groups()  # type: ignore[union-attr]
        for setting, value in (
            ("account", f'"{account}"'),
            ("auth_env", f'"TEST_CODE_{group}"'),
            ("imap_host", '"127.0.0.1"'),
            ("imap_port", str(dovecot.port)),
            ("smtp_host", '"127.0.0.1"'),
            ("smtp_port", str(smtp.port)),
            ("ca_file", f'"{dovecot.ca_file}"'),
        ):
            block = re.sub(rf"^{setting} = .*$", f"{setting} = {value}", block, flags=re.M)
        section = head + mailbox + block + tail
    return re.sub(r'^roster = ""', f'roster = "{roster}"', section, count=1, flags=re.M)


def deploy(
    dovecot: Dovecot,
    smtp: SmtpServer,
    tmp: Path,
    budget: int = 5,
    roster: str = "",
    suzhou_roster: str | None = None,
) -> Deployment:
    """Shuangliu's two group mailboxes; with `suzhou_roster`, the shipped Suzhou campaign too."""
    accounts = {"primary": dovecot.unique_user("primary"), "junior": dovecot.unique_user("junior")}
    groups = ""
    for key, label in (("primary", "小学组"), ("junior", "初中组")):
        smtp.add_user(accounts[key], dovecot.password)
        groups += GROUP.format(
            key=key,
            label=label,
            account=accounts[key],
            imap_port=dovecot.port,
            smtp_port=smtp.port,
            ca=dovecot.ca_file,
        )
    database = database_url(tmp)
    text = CONFIG.format(tmp=tmp, database=database, budget=budget, groups=groups, roster=roster)
    if suzhou_roster is not None:
        accounts["city"] = dovecot.unique_user("city")
        text += shipped_campaign(
            "suzhou-2022", dovecot, smtp, {"city": accounts["city"]}, suzhou_roster
        )
    config = tmp / "config.toml"
    config.write_text(text, encoding="utf-8")
    return Deployment(dovecot, smtp, tmp, accounts, config, database)
