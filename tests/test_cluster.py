"""Three `intake run` processes share one ledger and six mailboxes; one is killed mid-run.

Every message must be recorded once, every reply sent once, and each campaign's digest sent
once for the day, whichever process holds what when. On PostgreSQL (INTAKE_TEST_DATABASE)
this is the deployment of several machines; on SQLite it shows the same code is safe there.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bulk_inbox import Letter, build_inbox, deliver
from databases import database_url
from servers import CapturedMessage, Dovecot, SmtpServer
from sqlalchemy import create_engine, text

CAMPAIGNS = ("east", "west", "north")
GROUPS = (("primary", "小学组"), ("junior", "初中组"))
ORGANIZER = "organizer-{campaign}@example.test"

CAMPAIGN = """
[campaigns.{key}]
name = "双流区第四届教育质量综合评价结果解读运用展评（{key}）"
organizer = "成都市双流区教育科学研究院"
receipt_prefix = "{prefix}"
deadline = 2021-05-21
[campaigns.{key}.digest]
recipients = ["{organizer}"]
time = "00:00"
[campaigns.{key}.kinds.report]
label = "报告"
name_pattern = "{{school}}报告"
required = true
when_full = "supersede"
[campaigns.{key}.kinds.case]
label = "改进案例"
name_pattern = "{{school}}改进案例"
max_per_school = 2
"""
GROUP = """
[campaigns.{key}.groups.{group}]
label = "{label}"
[campaigns.{key}.groups.{group}.mailbox]
account = "{account}"
display_name = "双流区教科院"
auth_env = "CLUSTER_CODE"
imap_host = "127.0.0.1"
imap_port = {imap_port}
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
ca_file = "{ca}"
"""
SETTINGS = """
[database]
url = "{database}"
lease_seconds = 10
[storage]
archive_dir = "{tmp}/archive"
[polling]
interval_minutes = 0.05
[replies]
max_per_minute = 100000
max_per_sender_per_day = 100000
"""


@dataclass
class Cluster:
    """The shared configuration, its six mailboxes and the ledger every process uses."""

    config: Path
    database: str
    accounts: dict[tuple[str, str], str]  # (campaign, group) → account
    env: dict[str, str]
    tmp: Path

    def sql(self, query: str) -> list[tuple]:
        engine = create_engine(self.database)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(query))]
        finally:
            engine.dispose()

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        command = [sys.executable, "-m", "intake", "--config", str(self.config), "-v", "run"]
        return subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def _cluster(dovecot: Dovecot, smtp: SmtpServer, tmp: Path) -> Cluster:
    accounts: dict[tuple[str, str], str] = {}
    database = database_url(tmp)
    text_ = SETTINGS.format(database=database, tmp=tmp)
    for number, key in enumerate(CAMPAIGNS):
        organizer = ORGANIZER.format(campaign=key)
        text_ += CAMPAIGN.format(key=key, prefix=f"C{number}", organizer=organizer)
        for group, label in GROUPS:
            account = dovecot.unique_user(f"{key}-{group}")
            smtp.add_user(account, dovecot.password)
            accounts[key, group] = account
            text_ += GROUP.format(
                key=key,
                group=group,
                label=label,
                account=account,
                imap_port=dovecot.port,
                smtp_port=smtp.port,
                ca=dovecot.ca_file,
            )
    config = tmp / "config.toml"
    config.write_text(text_, encoding="utf-8")
    env = {**os.environ, "CLUSTER_CODE": dovecot.password}
    return Cluster(config, database, accounts, env, tmp)


def _deliver_batch(
    dovecot: Dovecot, cluster: Cluster, seed: int, per_campaign: int
) -> list[Letter]:
    """A season's mix of messages for each campaign (60 % primary, 40 % junior)."""
    letters: list[Letter] = []
    for number, key in enumerate(CAMPAIGNS):
        batch = build_inbox(per_campaign, seed=seed + number)
        groups = {group: cluster.accounts[key, group] for group, _ in GROUPS}
        deliver(dovecot, groups, batch)
        letters += batch
    return letters


def _wait(what: str, done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def cluster(dovecot: Dovecot, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Cluster]:
    yield _cluster(dovecot, smtp_server, tmp_path)


def _replies(captured: list[CapturedMessage]) -> list[email.message.Message]:
    organizers = {ORGANIZER.format(campaign=key) for key in CAMPAIGNS}
    return [
        email.message_from_bytes(message.raw)
        for message in captured
        if not organizers & set(message.rcpt_tos)
    ]


def test_three_processes_one_killed_record_and_answer_each_message_once(
    cluster: Cluster, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    first = _deliver_batch(dovecot, cluster, seed=100, per_campaign=100)
    names = ("one", "two", "three")
    processes = {name: cluster.start(name) for name in names}
    try:
        # Mid-run: the day's digests and some replies are out, half the mail is still to
        # come, and the outbox holder is killed (so replies and digests change hands).
        _wait("the digests", lambda: len(_digests(smtp_server.messages)) == 3, timeout=120)
        _wait("the first replies", lambda: len(smtp_server.messages) >= 40, timeout=120)
        [(holder,)] = cluster.sql("select holder from leases where name = 'outbox'")
        victim = next(n for n, p in processes.items() if f":{p.pid}:" in holder)
        processes[victim].send_signal(signal.SIGKILL)
        processes[victim].wait()
        killed_at = len(smtp_server.messages)
        second = _deliver_batch(dovecot, cluster, seed=200, per_campaign=100)
        letters = first + second

        def settled() -> bool:
            [(recorded, open_replies)] = cluster.sql(
                "select (select count(*) from messages),"
                " (select count(*) from outbox where state in ('pending', 'sending'))"
            )
            return recorded == len(letters) and open_replies == 0

        _wait("every message recorded and answered", settled, timeout=300)
        time.sleep(3)  # a further round of each survivor: nothing more may happen
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=60)
    survivors = [name for name in names if name != victim]
    for name in survivors:
        assert processes[name].returncode == 0, cluster.log(name)
        assert "Traceback" not in cluster.log(name)
        assert "poll failed" not in cluster.log(name)

    # Every message recorded once, each at one place in one mailbox.
    ids = Counter(row[0] for row in cluster.sql("select message_id from messages"))
    assert sorted(ids) == sorted(letter.message_id.strip("<>") for letter in letters)
    assert set(ids.values()) == {1}
    [(locations,)] = cluster.sql("select count(*) from locations")
    assert locations == len(letters)

    # Every reply sent once: one queued per answered message, none captured twice.
    answered = [letter for letter in letters if letter.answered]
    per_message = cluster.sql("select message_pk, count(*) from outbox group by message_pk")
    assert len(per_message) == len(answered) and {count for _, count in per_message} == {1}
    states = Counter(state for (state,) in cluster.sql("select state from outbox"))
    assert set(states) <= {"sent", "unknown"}, states
    captured = Counter(
        message["Message-ID"].strip("<>") for message in _replies(smtp_server.messages)
    )
    assert set(captured.values()) == {1}
    sent = {
        row[0] for row in cluster.sql("select reply_message_id from outbox where state = 'sent'")
    }
    unknown = {
        row[0] for row in cluster.sql("select reply_message_id from outbox where state = 'unknown'")
    }
    assert sent <= set(captured) and set(captured) <= sent | unknown
    assert len(unknown) <= 1  # at most the reply the killed process was sending

    # One digest per campaign for the day, whoever sent it.
    assert _digests(smtp_server.messages) == Counter(
        {ORGANIZER.format(campaign=key): 1 for key in CAMPAIGNS}
    )
    rows = cluster.sql("select campaign, day, state from digests order by campaign")
    assert [(campaign, state) for campaign, _, state in rows] == [
        (key, "sent") for key in sorted(CAMPAIGNS)
    ]

    # The work was shared, and the killed process's part was taken over.
    polled_by = {name: _polled(cluster.log(name)) for name in names}
    assert sum(1 for keys in polled_by.values() if keys) >= 2, polled_by
    assert polled_by[victim] <= polled_by[survivors[0]] | polled_by[survivors[1]], polled_by
    assert killed_at < len(smtp_server.messages)
    [(leases,)] = cluster.sql("select count(*) from leases")
    assert leases == 0  # the survivors stopped cleanly and released theirs


def _digests(captured: list[CapturedMessage]) -> Counter[str]:
    return Counter(
        recipient
        for message in captured
        for recipient in message.rcpt_tos
        if recipient.startswith("organizer-")
    )


def _polled(log: str) -> set[str]:
    """The mailboxes a process's log says it took on."""
    return {
        line.split(": polled by this process")[0].rsplit(" ", 1)[-1]
        for line in log.splitlines()
        if ": polled by this process" in line
    }


def test_a_database_that_cannot_be_reached_is_named_in_one_line(tmp_path: Path) -> None:
    """A wrong URL, a server not running or a missing password is not "locked": the message
    says what to check, and never shows the password."""
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    unreachable = "postgresql+psycopg://intake:s3cret-pw@127.0.0.1:1/intake"
    config = tmp_path / "config.toml"
    config.write_text(
        example.read_text(encoding="utf-8").replace(
            'url = "sqlite:///var/intake.db"', f'url = "{unreachable}"', 1
        ),
        encoding="utf-8",
    )
    assert unreachable in config.read_text(encoding="utf-8")
    command = [sys.executable, "-m", "intake", "--config", str(config), "messages"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "无法打开数据库" in done.stderr and "PGPASSWORD" in done.stderr
    assert "正在写入" not in done.stderr and "Traceback" not in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
