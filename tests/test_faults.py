"""Faults injected into real servers and a real disk: each test proves that nothing is lost
and nothing is answered twice.

- the IMAP connection cut in the middle of a FETCH literal (a TLS-ending proxy in front of
  Dovecot, tests/servers/proxy.py);
- the IMAP server down when a poll starts;
- SMTP refusals over several polls: 451, QQ's `550 Connection frequency limited`, 535 to a
  correct code, and the connection dropped after DATA;
- the ledger locked by another writer, shorter and longer than `busy_timeout` (SQLite's
  write lock, or PostgreSQL's table locks and `lock_timeout`);
- the disk full while archiving the raw message or an attachment.

A UIDVALIDITY change while running is covered by
tests/test_poll_imap.py::test_a_uidvalidity_change_rescans_without_duplicates.
"""

from __future__ import annotations

import contextlib
import email
import errno
import os
import re
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from deployment import ON_TIME, Deployment
from imapclient.exceptions import IMAPClientAbortError
from mailmaker import make_docx, make_mail
from servers import DEFAULT_PASSWORD, DEFAULT_USER, CapturedMessage, Dovecot, SmtpServer, TlsFiles
from servers.dovecot import free_port
from servers.proxy import BODY_LITERAL, ImapProxy
from sqlalchemy import create_engine, make_url, text

from intake.app import App, build
from intake.config import load_config
from intake.jobs import poll_and_send
from intake.store.archive import Archive, sha256_of
from intake.store.models import Base

DIGITS = "一二三四五六七八九十"


def _school(number: int) -> str:
    return f"双流区第{DIGITS[number % 10]}{DIGITS[number // 10 % 10]}小学"


def _submission(number: int) -> bytes:
    """An on-time report from its own school and sender (the daily reply budget is per
    sender), with a real .docx attached: about 50 KB as IMAP sends it."""
    school = _school(number)
    return make_mail(
        f"老师{number} <teacher{number}@school.example>",
        "bot@qq.com",
        f"{school}报告",
        [(f"{school}报告.docx", make_docx(f"{school}教育质量综合评价结果解读和改进活动报告"))],
        message_id=f"<fault-{number}@school.example>",
    )


def _deliver(deployment: Deployment, group: str, count: int, first: int = 1) -> list[int]:
    """`count` submissions in one APPEND session; returns their UIDs."""
    return deployment.dovecot.append_many(
        deployment.accounts[group],
        "INBOX",
        [(_submission(n), ON_TIME + timedelta(minutes=n), ()) for n in range(first, first + count)],
    )


def _configure(
    deployment: Deployment,
    *,
    imap_ports: dict[str, int] | None = None,
    database: str = "",
    polling: str = "socket_timeout = 10\n",
) -> None:
    """Point groups' IMAP at other ports and add settings to the deployment's config."""
    text = deployment.config.read_text(encoding="utf-8")
    for group, port in (imap_ports or {}).items():
        block = re.escape(f"[campaigns.sl.groups.{group}.mailbox]")
        text, found = re.subn(rf"({block}[^\[]*?\nimap_port = )\d+", rf"\g<1>{port}", text)
        assert found == 1, group
    text = text.replace("[database]\n", f"[database]\n{database}", 1)
    text += f"\n[polling]\n{polling}"
    deployment.config.write_text(text, encoding="utf-8")


def _intake(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command in its own process; unlike Deployment.intake, a failure is returned."""
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=deployment.env, check=False
    )


def _recorded(deployment: Deployment) -> list[str]:
    """Message-IDs of every ledger row, in ledger order (a duplicate would show twice)."""
    return [row[0] for row in deployment.sql("select message_id from messages order by id")]


def _uids_recorded(deployment: Deployment, group: str) -> list[int]:
    account = deployment.accounts[group]
    rows = deployment.sql(f"select uid from locations where mailbox = '{account}' order by uid")
    return [row[0] for row in rows]


def _cursor(deployment: Deployment, group: str) -> int | None:
    account = deployment.accounts[group]
    rows = deployment.sql(
        f"select last_uid from cursors where mailbox = '{account}' and folder = 'INBOX'"
    )
    return rows[0][0] if rows else None


def _answered(captured: list[CapturedMessage]) -> Counter[str]:
    """How many replies the SMTP server took in for each original Message-ID."""
    return Counter(email.message_from_bytes(m.raw)["In-Reply-To"].strip("<>") for m in captured)


def _ids(numbers: range) -> list[str]:
    """The Message-IDs of those submissions, as the ledger keeps them (without <>)."""
    return [f"fault-{n}@school.example" for n in numbers]


def _assert_each_recorded_and_answered_once(deployment: Deployment, numbers: range) -> None:
    expected = _ids(numbers)
    recorded = _recorded(deployment)
    assert sorted(recorded) == sorted(expected)  # every message, none twice
    decisions = deployment.sql("select decision, count(*) from messages group by decision")
    assert decisions == [("accepted", len(expected))]  # none quarantined
    assert deployment.sql("select count(*) from locations") == [(len(expected),)]
    assert deployment.sql("select state, count(*) from outbox group by state") == [
        ("sent", len(expected))
    ]
    answered = _answered(deployment.smtp.wait_for_messages(len(expected)))
    assert answered == Counter(expected)


@contextlib.contextmanager
def _app(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The application in this process, as `intake poll` builds it."""
    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    app = build(load_config(deployment.config))
    try:
        yield app
    finally:
        app.close()


# ---------------------------------------------------------------------- IMAP cut mid-FETCH


def _fetch_responses(transcript: bytes) -> list[tuple[int, int, int]]:
    """(UID, literal start, literal end) of each message the client was sent."""
    found = []
    for marker in re.finditer(re.escape(BODY_LITERAL), transcript):
        start = transcript.rfind(b"\n", 0, marker.start()) + 1
        line_end = transcript.find(b"\r\n", marker.start())
        line = transcript[start:line_end]
        uid = re.search(rb"UID (\d+)", line)
        size = re.search(rb"\{(\d+)\}$", line)
        assert uid is not None and size is not None, line
        found.append((int(uid.group(1)), line_end + 2, line_end + 2 + int(size.group(1))))
    return found


MESSAGES = 12
BATCH = 4


@pytest.mark.parametrize(
    ("marker", "after"),
    [
        pytest.param(None, 40_000, id="after-40kB"),
        pytest.param(6, 2_000, id="2kB-into-the-6th-message"),
        *(
            pytest.param(k, 10_000, id=f"10kB-into-message-{k}", marks=pytest.mark.long)
            for k in range(1, MESSAGES + 1)
        ),
    ],
)
def test_an_imap_connection_cut_mid_fetch_loses_nothing_and_repeats_nothing(
    deployment: Deployment, tls_files: TlsFiles, marker: int | None, after: int
) -> None:
    uids = _deliver(deployment, "primary", MESSAGES)
    with ImapProxy("127.0.0.1", deployment.dovecot.port, tls=tls_files) as proxy:
        _configure(
            deployment,
            imap_ports={"primary": proxy.port},
            polling=f"socket_timeout = 10\nfetch_batch = {BATCH}\n",
        )
        if marker is None:
            proxy.cut_after(after)
        else:
            proxy.cut_after(after, marker=BODY_LITERAL, occurrence=marker)

        cut_poll = _intake(deployment, "poll", "--once")
        assert cut_poll.returncode != 0
        assert "sl/primary" in cut_poll.stderr and "poll failed" in cut_poll.stderr

        [cut] = proxy.cuts
        responses = _fetch_responses(cut.transcript)
        cut_uid, literal_start, literal_end = responses[-1]
        assert literal_start < cut.offset < literal_end  # the cut fell inside a message's text
        # Only whole batches before the cut were handed over; nothing past the cut counts.
        whole = uids[: uids.index(cut_uid) // BATCH * BATCH]
        assert _uids_recorded(deployment, "primary") == whole
        cursor = _cursor(deployment, "primary")
        assert cursor == (whole[-1] if whole else None)
        assert cursor is None or cursor < cut_uid
        assert len(deployment.smtp.wait_for_messages(len(whole))) == len(whole)

        _intake(deployment, "poll", "--once").check_returncode()
        _intake(deployment, "poll", "--once").check_returncode()
        assert not proxy.cuts[1:]  # the later polls ran undisturbed

    _assert_each_recorded_and_answered_once(deployment, range(1, MESSAGES + 1))
    assert _cursor(deployment, "primary") == uids[-1]


def test_the_proxy_relays_whole_sessions_and_cuts_exactly_where_told(
    dovecot: Dovecot, tls_files: TlsFiles
) -> None:
    user = dovecot.unique_user()
    dovecot.append(user, "INBOX", _submission(1), ON_TIME)
    [direct] = dovecot.fetch(user)
    with ImapProxy("127.0.0.1", dovecot.port, tls=tls_files) as proxy:
        port, dovecot.port = dovecot.port, proxy.port  # dovecot.client() now goes through it
        try:
            [relayed] = dovecot.fetch(user)
            # What the client receives is exactly what the proxy says it let through.
            proxy.cut_after(100, marker=BODY_LITERAL)
            commands = f'a LOGIN "{user}" "{dovecot.password}"\r\nb EXAMINE INBOX\r\n'
            received = bytearray()
            with (
                socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as plain,
                dovecot.ssl_context().wrap_socket(plain, server_hostname="127.0.0.1") as tls,
            ):
                tls.sendall(f"{commands}c FETCH 1 (BODY.PEEK[])\r\n".encode())
                while chunk := tls.recv(65536):
                    received += chunk
            # And IMAPClient takes it for a broken connection.
            proxy.cut_after(100, marker=BODY_LITERAL)
            imap = dovecot.client(user)
            imap.select_folder("INBOX", readonly=True)
            with pytest.raises(IMAPClientAbortError):
                imap.fetch([1], ["BODY.PEEK[]"])
            imap.shutdown()
        finally:
            dovecot.port = port
    assert relayed == direct
    raw_cut, client_cut = proxy.cuts
    assert bytes(received) == raw_cut.transcript
    assert raw_cut.offset == raw_cut.transcript.rfind(b"* 1 FETCH (") + 100 == len(received)
    assert (raw_cut.connection, client_cut.connection) == (2, 3)
    assert proxy.accepted == 3 and proxy.planned == 0


# ---------------------------------------------------------------------- IMAP server down


@pytest.mark.parametrize("how", ["refused", "hung-up"])
def test_a_poll_while_the_imap_server_is_down_fails_naming_it_and_records_nothing(
    deployment: Deployment, tls_files: TlsFiles, how: str
) -> None:
    """Nothing listening (connection refused), or a server that takes the connection and
    hangs up before its greeting."""
    _deliver(deployment, "primary", 3)
    _deliver(deployment, "junior", 1, first=4)
    with ImapProxy("127.0.0.1", deployment.dovecot.port, tls=tls_files) as proxy:
        _configure(deployment, imap_ports={"primary": proxy.port, "junior": proxy.port})
        if how == "refused":
            proxy.refuse()
        else:
            proxy.upstream_port = free_port()  # the proxy accepts, finds no server, hangs up

        down = _intake(deployment, "poll", "--once")
        assert down.returncode == 1
        assert "Traceback" not in down.stderr
        assert "sl/primary: " in down.stderr and "sl/junior: " in down.stderr
        named = all(
            re.search(rf"sl/{group}: 无法连接收信服务器 127\.0\.0\.1:{proxy.port}\b", down.stderr)
            for group in ("primary", "junior")
        )
        assert named, down.stderr
        assert _recorded(deployment) == []
        assert deployment.sql("select count(*) from cursors") == [(0,)]
        assert deployment.smtp.messages == []
        assert proxy.accepted == (0 if how == "refused" else 2)

        proxy.resume()
        proxy.upstream_port = deployment.dovecot.port
        _intake(deployment, "poll", "--once").check_returncode()
        _intake(deployment, "poll", "--once").check_returncode()

    _assert_each_recorded_and_answered_once(deployment, range(1, 5))


# ---------------------------------------------------------------------- SMTP faults


def test_smtp_server_refuses_a_correct_code_when_told(smtp_server: SmtpServer) -> None:
    """tests/servers/smtp.py's fail_auth_next: QQ's sporadic 535 to a right code."""
    smtp_server.fail_auth_next(1)
    context = ssl.create_default_context(cafile=str(smtp_server.ca_file))
    for expected_ok in (False, True):  # one connection refused (PLAIN, then LOGIN), then fine
        with smtplib.SMTP_SSL(smtp_server.host, smtp_server.port, context=context) as client:
            if expected_ok:
                assert client.login(DEFAULT_USER, DEFAULT_PASSWORD)[0] == 235
            else:
                with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                    client.login(DEFAULT_USER, DEFAULT_PASSWORD)
                assert refused.value.smtp_code == 535
    assert smtp_server.auth_failures_left == 0


def _due_now(deployment: Deployment) -> None:
    """Let the retry time pass for every reply waiting for it."""
    deployment.sql(
        "update outbox set next_attempt_at = '2000-01-01 00:00:00' where state = 'pending'"
    )


def test_smtp_refusals_over_several_polls_send_each_reply_exactly_once(
    deployment: Deployment,
) -> None:
    smtp = deployment.smtp
    smtp.fail_auth_next(1)  # 535 to the right code: retry later
    smtp.fail_next(1, code=550, text="Connection frequency limited", stage="MAIL")  # throttled
    smtp.fail_next(1, code=451, text="Requested action aborted: try again later", stage="DATA")
    smtp.drop_after_data_next(1)  # the server took the text but never said so
    _deliver(deployment, "primary", 4)
    _deliver(deployment, "junior", 2, first=5)

    deployment.poll()
    polls = 1
    while deployment.sql("select count(*) from outbox where state = 'pending'") != [(0,)]:
        assert polls < 6, deployment.sql("select id, state, last_error from outbox")
        _due_now(deployment)
        deployment.poll()
        polls += 1
    assert smtp.auth_failures_left == smtp.plans_left == 0  # every planned fault was met
    # Six replies, one attempt each, plus one more for each of the 535, the 550 and the 451.
    assert deployment.sql("select sum(attempts) from outbox") == [(6 + 3,)]

    # Two more polls after the retry time: nothing is sent again, above all not the reply whose
    # fate is unknown.
    for _ in range(2):
        _due_now(deployment)
        deployment.poll()
    states = Counter(row[0] for row in deployment.sql("select state from outbox"))
    assert states == {"sent": 5, "unknown": 1}
    captured = smtp.messages
    assert _answered(captured) == Counter(_ids(range(1, 7)))  # six replies, each taken once
    [dropped] = [m for m in captured if m.dropped]
    unknown = deployment.sql("select reply_message_id from outbox where state = 'unknown'")
    assert email.message_from_bytes(dropped.raw)["Message-ID"].strip("<>") == unknown[0][0]
    assert sorted(_recorded(deployment)) == sorted(_ids(range(1, 7)))


# ---------------------------------------------------------------------- database locked


# What the engine says when a writer waited longer than busy_timeout.
LOCKED = {"sqlite": "database is locked", "postgresql": "canceling statement due to lock timeout"}


def _engine_name(database: str) -> str:
    return make_url(database).get_backend_name()


@contextlib.contextmanager
def _locked(database: str) -> Iterator[threading.Event]:
    """Another connection holds the write lock until the event is set (or the block ends).

    On SQLite, the database's one write lock. On PostgreSQL, every ledger table locked IN
    EXCLUSIVE MODE: every write (and SELECT … FOR UPDATE) waits, plain reads go on, as with
    SQLite's WAL."""
    if _engine_name(database) == "sqlite":
        holder = sqlite3.connect(
            make_url(database).database, isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN EXCLUSIVE")

        def unlock() -> None:
            holder.execute("COMMIT")
            holder.close()
    else:
        engine = create_engine(database)
        connection = engine.connect()
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"LOCK TABLE {tables} IN EXCLUSIVE MODE"))

        def unlock() -> None:
            connection.commit()
            connection.close()
            engine.dispose()

    release = threading.Event()

    def wait_then_release() -> None:
        release.wait()
        unlock()

    thread = threading.Thread(target=wait_then_release)
    thread.start()
    try:
        yield release
    finally:
        release.set()
        thread.join()


def test_a_poll_waits_for_a_writer_shorter_than_busy_timeout(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(deployment, database="busy_timeout = 5\n")
    _deliver(deployment, "primary", 1)
    held = 1.0
    with _app(deployment, monkeypatch) as app, _locked(deployment.database) as release:
        began = time.monotonic()
        threading.Timer(held, release.set).start()
        report = app.poll()
        waited = time.monotonic() - began
        assert report.errors == [] and report.fetched == 1
        assert waited >= held  # it could not write before the other writer let go
        assert app.send_replies().sent == 1
    _assert_each_recorded_and_answered_once(deployment, range(1, 2))


def test_a_writer_longer_than_busy_timeout_fails_the_poll_and_the_next_one_records(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(deployment, database="busy_timeout = 1\n")
    [uid] = _deliver(deployment, "primary", 1)
    deployment.intake("db", "upgrade")
    with _app(deployment, monkeypatch) as app, _locked(deployment.database):
        report = app.poll()
        # Each mailbox's lease needs a write: every mailbox reports the lock.
        assert [error.split(": ")[0] for error in report.errors] == ["sl/primary", "sl/junior"]
        locked_words = LOCKED[_engine_name(deployment.database)]
        assert all(locked_words in error for error in report.errors)
        assert all("\n" not in error for error in report.errors)  # the cause, not the SQL
        assert report.fetched == 0
        # Readers still see the ledger (WAL, or reads passing PostgreSQL's EXCLUSIVE lock):
        # nothing recorded, the cursor not past the UID.
        assert _recorded(deployment) == []
        assert (_cursor(deployment, "primary") or 0) < uid

        locked = _intake(deployment, "poll", "--once")
        assert locked.returncode != 0
        assert locked_words in locked.stderr and "数据库暂时无法写入" in locked.stderr
        assert "Traceback" not in locked.stderr
        assert _recorded(deployment) == []
        assert (_cursor(deployment, "primary") or 0) < uid
    assert deployment.smtp.messages == []

    _intake(deployment, "poll", "--once").check_returncode()
    _intake(deployment, "poll", "--once").check_returncode()
    _assert_each_recorded_and_answered_once(deployment, range(1, 2))
    assert _cursor(deployment, "primary") == uid


# ---------------------------------------------------------------------- disk full


@pytest.mark.parametrize("write", ["store_raw", "store_file"])
def test_a_full_disk_while_archiving_fails_the_poll_without_quarantining(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """The disk fills up after the first message: the second's raw copy (`store_raw`) or its
    attachment (`store_file`) cannot be written."""
    uids = _deliver(deployment, "primary", 3)
    real_write = getattr(Archive, write)
    calls: list[str] = []
    full = True

    def write_on_a_disk_that_fills(archive: Archive, data: bytes, *args: Any) -> Any:
        calls.append(sha256_of(data))
        if full and len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(archive.root))
        return real_write(archive, data, *args)

    monkeypatch.setattr(Archive, write, write_on_a_disk_that_fills)
    with _app(deployment, monkeypatch) as app:
        [error] = poll_and_send(app)
        assert len(calls) == 2  # the second message met the full disk; the third was not tried
        assert error.startswith("sl/primary: ") and "No space left on device" in error
        assert _recorded(deployment) == _ids(range(1, 2))  # not the second, not quarantined
        assert _cursor(deployment, "primary") == uids[0]
        assert len(deployment.smtp.wait_for_messages(1)) == 1

        full = False
        assert poll_and_send(app) == []
        assert calls[2] == calls[1]  # the second message again, first thing after the fault
        assert poll_and_send(app) == []
    _assert_each_recorded_and_answered_once(deployment, range(1, 4))
    assert _cursor(deployment, "primary") == uids[-1]


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny file system needs root")
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_really_full_file_system_fails_the_poll_until_there_is_room(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 64 KB tmpfs as the archive: the raw message (about 50 KB) fits, its attachment does
    not. Growing the file system lets the next poll record and answer it."""
    [uid] = _deliver(deployment, "primary", 1)
    archive = deployment.tmp / "archive"
    with _tmpfs(archive, "64k"), _app(deployment, monkeypatch) as app:
        [error] = poll_and_send(app)
        assert error.startswith("sl/primary: ") and "No space left on device" in error
        assert list((archive / "raw").rglob("*.eml"))  # the raw copy was written
        assert _recorded(deployment) == []
        assert _cursor(deployment, "primary") is None
        assert [path.name for path in archive.rglob("*.part")] == []  # no half copy kept

        subprocess.run(["mount", "-o", "remount,size=8m", str(archive)], check=True)
        assert poll_and_send(app) == []
        assert poll_and_send(app) == []
        _assert_each_recorded_and_answered_once(deployment, range(1, 2))
        assert _cursor(deployment, "primary") == uid


def test_half_written_copies_of_a_killed_run_are_removed_at_the_next_start(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed while writing leaves `.PID.name.part`; the next start removes the
    old ones and leaves a fresh one (another process may be writing it)."""
    folder = deployment.tmp / "archive" / "raw" / "ab"
    folder.mkdir(parents=True)
    old, fresh = folder / ".123.ab12.eml.part", folder / ".124.ab34.eml.part"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    with _app(deployment, monkeypatch):
        assert not old.exists() and fresh.exists()
