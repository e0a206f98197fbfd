"""What every benchmark shares: the private servers, a config that points intake at them,
and the way figures are measured and written down.

Figures are medians over repeated runs where a run is short, measured in one process so the
ratios compare like with like; nothing here asserts a time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "tests", ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from servers import Dovecot, SmtpServer, make_tls_files, require_dovecot  # noqa: E402

#: The campaign every benchmark runs: Shuangliu 2021 (deadline 2021-05-21), one mailbox per
#: group; `{mailboxes}` is filled with one GROUP block per mailbox.
CONFIG = """
[database]
url = "sqlite:///{work}/intake.db"
[storage]
archive_dir = "{work}/archive"
[polling]
interval_minutes = {interval_minutes}
idle = {idle}
[replies]
max_per_minute = {max_per_minute}
max_per_sender_per_day = 50
[sizes]
max_message_mb = 100
[campaigns.sl]
name = "双流区第四届教育质量综合评价结果解读运用展评"
organizer = "成都市双流区教育科学研究院"
receipt_prefix = "SL21"
deadline = 2021-05-21
[campaigns.sl.kinds.report]
label = "报告"
name_pattern = "{{school}}报告"
required = true
when_full = "supersede"
[campaigns.sl.kinds.case]
label = "改进案例"
name_pattern = "{{school}}改进案例"
max_per_school = 2
{mailboxes}
"""
GROUP = """
[campaigns.sl.groups.{key}]
label = "{label}"
[campaigns.sl.groups.{key}.mailbox]
account = "{account}"
display_name = "双流区教科院"
auth_env = "BENCH_CODE"
imap_host = "127.0.0.1"
imap_port = {imap_port}
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
ca_file = "{ca}"
"""


@dataclass
class Servers:
    dovecot: Dovecot
    smtp: SmtpServer


@contextmanager
def servers(work: Path) -> Iterator[Servers]:
    """A private Dovecot (IMAP as imap.qq.com answers it) and SMTP server on 127.0.0.1."""
    tls = make_tls_files(work / "tls")
    with Dovecot(tls, binary=require_dovecot()) as dovecot, SmtpServer(tls) as smtp:
        yield Servers(dovecot, smtp)


@dataclass
class Deployment:
    """One intake installation in its own folder, with one mailbox per group."""

    work: Path
    config: Path
    accounts: dict[str, str]  # group key -> account
    code: str

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "BENCH_CODE": self.code}

    def intake(self, *args: str, timeout: float = 3600) -> str:
        """Run the intake command line as a user would; its output."""
        command = [sys.executable, "-m", "intake", "--config", str(self.config), *args]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=self.env, cwd=ROOT
        )
        if done.returncode != 0:
            raise RuntimeError(f"intake {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout


def deploy(
    where: Servers,
    work: Path,
    groups: tuple[str, ...] = ("primary",),
    *,
    interval_minutes: float = 5,
    idle: bool = True,
    max_per_minute: int = 600,
) -> Deployment:
    """A config with a fresh Dovecot account (and SMTP user) per group."""
    work.mkdir(parents=True, exist_ok=True)
    labels = {"primary": "小学组", "junior": "初中组"}
    accounts = {key: where.dovecot.unique_user(key) for key in groups}
    blocks = ""
    for key, account in accounts.items():
        where.smtp.add_user(account, where.dovecot.password)
        blocks += GROUP.format(
            key=key,
            label=labels.get(key, key),
            account=account,
            imap_port=where.dovecot.port,
            smtp_port=where.smtp.port,
            ca=where.dovecot.ca_file,
        )
    text = CONFIG.format(
        work=work,
        mailboxes=blocks,
        interval_minutes=interval_minutes,
        idle="true" if idle else "false",
        max_per_minute=max_per_minute,
    )
    config = work / "intake.toml"
    config.write_text(text, encoding="utf-8")
    return Deployment(work, config, accounts, where.dovecot.password)


@dataclass
class Figures:
    """The figures of one target: name -> value, with the unit in the name (`_s`, `_mb`)."""

    target: str
    values: dict[str, Any] = field(default_factory=dict)
    met: bool | None = None
    note: str = ""

    def add(self, name: str, value: Any) -> None:
        self.values[name] = value
        print(f"  {self.target}.{name} = {value}", flush=True)


def into_maildir(
    dovecot: Dovecot, account: str, messages: Iterable[tuple[int, bytes, datetime]]
) -> dict[int, str]:
    """(number, message with LF line ends, receive time) written straight into the account's
    maildir INBOX and taken in by Dovecot (`doveadm force-resync`): APPENDing gigabytes or
    tens of thousands of messages takes far longer. Dovecot numbers new files in the order
    of their names, which start with the receive time and carry the message's number; the
    file's time is the receive time, which Dovecot reports as INTERNALDATE. Returns each
    number's file name."""
    inbox = dovecot.mail_dir / account  # mail_location maildir:…/%u:LAYOUT=fs, INBOX at the top
    if not (inbox / "cur").is_dir():
        raise RuntimeError(f"no maildir INBOX at {inbox}")
    owner = (inbox / "cur").stat()
    names = {}
    for number, stored, received in messages:
        moment = int(received.timestamp())
        # S= and W= (sizes with LF and with CRLF) spare Dovecot reading the file.
        crlf_size = len(stored) + stored.count(b"\n")
        name = f"{moment}.M{number}P{os.getpid()}.bench,S={len(stored)},W={crlf_size}"
        temporary = inbox / "tmp" / name
        temporary.write_bytes(stored)
        os.chown(temporary, owner.st_uid, owner.st_gid)
        os.utime(temporary, (moment, moment))
        temporary.rename(inbox / "cur" / f"{name}:2,")
        names[number] = name
    dovecot.doveadm("force-resync", "-u", account, "INBOX")
    return names


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started
