"""Target 2, "Idle polls stay flat": a poll that finds nothing new costs the same IMAP
commands and the same time whether INBOX holds 1,000 or 50,000 processed messages.

One mailbox grows 1k → 10k → 50k with small plain messages from distinct schools, each
rejected for its missing attachment and answered. Handling a message takes intake tens of
milliseconds (five SQLite commits, an archived copy), so 50,000 of them would take most of
an hour on this machine: at each size only the newest REAL (200) messages go through
`intake poll --once`, which moves the cursor to the top itself; the older ones are recorded
in the ledger by copying the rows intake wrote for a real one (messages, locations and a
sent reply in the outbox, with the message's own SHA-256, Message-ID, UID and a send time
spread over the season), and the cursor is set below the real ones. Replies go to a folder
while building, with no daily cap; the idle polls measured afterwards send nothing anyway.

The real messages arrive by IMAP APPEND; the older ones are written straight into the
account's maildir (`cur/`, one file each, LF line ends as Dovecot stores an APPEND, the file
time being the receive time Dovecot reports as INTERNALDATE) and Dovecot is told to pick them
up with `doveadm force-resync`. APPENDing 40,000 messages keeps Dovecot's imap process busy
for over nine minutes; writing them takes seconds. Dovecot numbers new files in the order of
the time their names start with, so UIDs still equal the messages' numbers, which
`doveadm fetch` confirms for each message together with its receive time.

The polls are measured as `intake run` makes them: one App kept between polls, so its IMAP
session stays logged in (App.mailbox), and each poll is `jobs.poll_and_send` (the poll, then
the outbox, alerts and digests). The commands are what imapclient logs as "> TAG COMMAND" on
the logger "imapclient.imaplib", with the tags taken off. The query the outbox makes first
on every poll, how many replies each account sent in the last 24 hours, is also timed alone
at each size (`sent_in_a_day_query_median_*_ms`; an index keeps it to the last day's
replies), and so are the poll's EXAMINEs alone (`server_examine_median_*_ms`): the rest of a
poll is intake's own work (`client_side_median_*_ms`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bench.common import ROOT, Deployment, Figures, Servers, Stopwatch, deploy, into_maildir
from bench.scale import Scale
from intake.app import App, build
from intake.config import load_config
from intake.jobs import poll_and_send
from intake.outbox import _sent_in_a_day

CST = timezone(timedelta(hours=8))
RECEIVED = datetime(2021, 4, 25, 8, 0, tzinfo=CST)  # messages every 40 s from here: the season
REAL = 200  # messages of each step handled by intake itself
TOLERANCE = 1.2  # the largest size's median may be at most 20 % above the smallest's


def run(where: Servers, work: Path, scale: Scale) -> list[Figures]:
    figures = Figures("idle_polls")
    deployment = deploy(where, work, idle=False)
    building = _build_config(deployment)
    account = deployment.accounts["primary"]
    commands: dict[int, list[str]] = {}
    medians: dict[int, float] = {}
    client_medians: dict[int, float] = {}
    held = 0
    for size in scale.idle_sizes:
        clock = Stopwatch()
        copied, loading = _grow(where, deployment, building, held, size)
        figures.add(f"build_{size}_s", round(clock.seconds, 1))
        figures.add(f"build_{size}_handled_by_intake", size - held - copied)
        figures.add(f"build_{size}_written_to_maildir", copied)
        figures.add(f"build_{size}_maildir_load_s", round(loading, 2))
        held = size
        _check_processed(deployment, account, size)
        commands[size], times, poll_only, query, server = _idle_polls(deployment, scale.idle_polls)
        medians[size] = statistics.median(times)
        figures.add(f"commands_{size}", commands[size])
        figures.add(f"poll_and_send_median_{size}_ms", round(medians[size] * 1000, 2))
        figures.add(f"poll_and_send_min_{size}_ms", round(min(times) * 1000, 2))
        figures.add(f"poll_and_send_max_{size}_ms", round(max(times) * 1000, 2))
        figures.add(f"imap_poll_median_{size}_ms", round(statistics.median(poll_only) * 1000, 2))
        figures.add(f"sent_in_a_day_query_median_{size}_ms", round(query * 1000, 2))
        figures.add(f"server_examine_median_{size}_ms", round(server * 1000, 2))
        client = medians[size] - server
        figures.add(f"client_side_median_{size}_ms", round(client * 1000, 2))
        client_medians[size] = client
    smallest, largest = min(medians), max(medians)
    ratio = medians[largest] / medians[smallest]
    same = all(listed == commands[smallest] for listed in commands.values())
    figures.add("time_ratio_largest_to_smallest", round(ratio, 3))
    figures.add(
        "client_side_ratio_largest_to_smallest",
        round(client_medians[largest] / client_medians[smallest], 3),
    )
    figures.add("commands_identical", same)
    figures.met = same and ratio <= TOLERANCE
    figures.note = (
        f"kept session (as `intake run`), poll_and_send median {medians[smallest] * 1000:.1f} ms"
        f" at {smallest:,} → {medians[largest] * 1000:.1f} ms at {largest:,} messages"
        f" (×{ratio:.2f}, limit ×{TOLERANCE}); commands per idle poll: "
        f"{'identical' if same else 'DIFFER'}: {', '.join(commands[largest])}"
    )
    return [figures]


def _build_config(deployment: Deployment) -> Path:
    """The same deployment, with replies written to a folder and no daily cap while building."""
    outbox = deployment.work / "outbox"
    text = deployment.config.read_text(encoding="utf-8").replace(
        "[replies]\n",
        f'[replies]\ntransport = "folder"\nfolder = "{outbox}"\nmax_per_day = 100000000\n',
        1,
    )
    path = deployment.work / "building.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _grow(
    where: Servers, deployment: Deployment, building: Path, held: int, size: int
) -> tuple[int, float]:
    """Bring INBOX from `held` to `size` processed messages; how many were copied rows, and
    the seconds it took to put their messages in the maildir."""
    account = deployment.accounts["primary"]
    if held == 0:  # the first messages are all real: their rows are the ones copied later
        first = min(REAL, size)
        _append(where, account, 0, first)
        _poll_once(deployment, building)
        held = first
    copies = max(0, size - REAL - held)
    loading = 0.0
    if copies:
        clock = Stopwatch()
        _load(where, account, held, held + copies)
        loading = clock.seconds
        _record_copies(deployment, account, held, held + copies)
    if size > held + copies:
        _append(where, account, held + copies, size)
        _poll_once(deployment, building)
    return copies, loading


def _append(where: Servers, account: str, first: int, last: int) -> None:
    uids = where.dovecot.append_many(account, "INBOX", _messages(first, last))
    if uids != list(range(first + 1, last + 1)):  # UIDs are the messages' numbers below
        raise RuntimeError(f"unexpected UIDs {uids[:3]}…{uids[-3:]} for {first + 1}…{last}")


def _load(where: Servers, account: str, first: int, last: int) -> None:
    """Messages first+1 … last written into INBOX's maildir, then taken in by Dovecot; each
    UID and receive time checked."""
    dovecot = where.dovecot
    batch = list(enumerate(_messages(first, last), start=first + 1))
    lf = ((number, raw.replace(b"\r\n", b"\n"), received) for number, (raw, received, _) in batch)
    names = into_maildir(dovecot, account, lf)
    expected = {
        number: (names[number], received.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"))
        for number, (_raw, received, _flags) in batch
    }
    listing = dovecot.doveadm(
        "-f", "tab", "fetch", "-u", account, "uid guid date.received",
        "mailbox", "INBOX", "uid", f"{first + 1}:*",
    )  # fmt: skip
    found = {
        int(uid): (guid, received)
        for uid, guid, received in (line.split("\t") for line in listing.splitlines()[1:])
    }
    if found != expected:  # UIDs are the messages' numbers, receive times the season's
        wrong = sorted(set(found.items()) ^ set(expected.items()))
        raise RuntimeError(f"maildir load of {first + 1}…{last}: differ at {wrong[:3]}")


def _record_copies(deployment: Deployment, account: str, first: int, last: int) -> None:
    """Ledger rows for messages first+1 … last, copied from the first message intake handled,
    and the cursor at `last`."""
    with sqlite3.connect(deployment.work / "intake.db") as db:
        db.row_factory = sqlite3.Row
        message = dict(db.execute("select * from messages order by id limit 1").fetchone())
        location = dict(
            db.execute("select * from locations where message_pk = ?", (message["id"],)).fetchone()
        )
        reply = dict(
            db.execute("select * from outbox where message_pk = ?", (message["id"],)).fetchone()
        )
        (start,) = db.execute("select max(id) from messages").fetchone()
        messages, locations, replies = [], [], []
        for offset, (raw, received, _flags) in enumerate(_messages(first, last), start=1):
            number, pk = first + offset, start + offset
            when = _stored(received)
            sender = f"teacher{number}@school{number}.example"
            messages.append(
                {
                    **message,
                    "id": pk,
                    "sha256": hashlib.sha256(raw).hexdigest(),
                    "message_id": f"idle{number:06d}@school.example",
                    "received_at": when,
                    "recorded_at": when,
                    "size": len(raw),
                    "sender": sender,
                    "subject": f"学校{number}",
                    "receipt": f"SL21-{pk:05d}",
                }
            )
            locations.append(
                {**location, "id": None, "message_pk": pk, "uid": number, "seen_at": when}
            )
            replies.append(
                {
                    **reply,
                    "id": None,
                    "message_pk": pk,
                    "recipient": sender,
                    "reply_message_id": f"SL21-{pk:05d}.copy@example.test",
                    "created_at": when,
                    "next_attempt_at": when,
                    "sent_at": when,
                }
            )
        for table, rows in (("messages", messages), ("locations", locations), ("outbox", replies)):
            columns = ", ".join(f'"{name}"' for name in rows[0])
            marks = ", ".join(f":{name}" for name in rows[0])
            db.executemany(f"insert into {table} ({columns}) values ({marks})", rows)
        db.execute(
            "update cursors set last_uid = ? where mailbox = ? and folder = 'INBOX'",
            (last, account),
        )


def _stored(moment: datetime) -> str:
    """A time as intake's SQLite columns hold it: naive UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _poll_once(deployment: Deployment, config: Path) -> None:
    command = [sys.executable, "-m", "intake", "--config", str(config), "poll", "--once"]
    done = subprocess.run(command, capture_output=True, text=True, env=deployment.env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"intake poll --once failed:\n{done.stderr[-3000:]}")


def _messages(first: int, last: int) -> Iterator[tuple[bytes, datetime, Sequence[bytes]]]:
    """Messages first+1 … last: small, plain, each from its own school and sender."""
    for number in range(first + 1, last + 1):
        raw = (
            f"From: teacher{number}@school{number}.example\r\n"
            "To: intake@qq.com\r\n"
            f"Subject: {_encoded(f'学校{number}')}\r\n"
            f"Message-ID: <idle{number:06d}@school.example>\r\n"
            "Date: Sat, 01 May 2021 10:00:00 +0800\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            f"Hello, material number {number}.\r\n"
        ).encode()
        yield raw, RECEIVED + timedelta(seconds=40 * number), ()


def _encoded(text: str) -> str:
    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


def _check_processed(deployment: Deployment, account: str, size: int) -> None:
    """Every message is in the ledger and the cursor is at the top: a poll has nothing to do."""
    with sqlite3.connect(deployment.work / "intake.db") as db:
        (recorded,) = db.execute("select count(*) from messages").fetchone()
        (top,) = db.execute(
            "select last_uid from cursors where mailbox = ? and folder = 'INBOX'", (account,)
        ).fetchone()
    if recorded != size or top != size:
        raise RuntimeError(f"after building {size}: {recorded} recorded, cursor at UID {top}")


class _Commands(logging.Handler):
    """The IMAP commands imapclient sends, without their tags."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sent: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = re.match(r"> b?['\"][A-Z]+\d+ (.*)['\"]$", record.getMessage())
        if match:
            self.sent.append(match.group(1))


def _idle_polls(
    deployment: Deployment, polls: int
) -> tuple[list[str], list[float], list[float], float, float]:
    """(commands of one idle poll, seconds of each poll_and_send, seconds of each bare poll,
    median seconds of the outbox's count of replies sent in a day, median seconds the server
    takes to answer the poll's EXAMINEs), with one App kept throughout as `intake run`
    keeps it."""
    os.environ["BENCH_CODE"] = deployment.code
    logging.getLogger("intake").setLevel(logging.WARNING)  # one "poll:" line per poll
    app = build(load_config(deployment.config))
    imaplib_log = logging.getLogger("imapclient.imaplib")
    capture = _Commands()
    imaplib_log.addHandler(capture)
    imaplib_log.setLevel(logging.DEBUG)
    imaplib_log.propagate = False
    try:
        poll_and_send(app)  # logs in; `intake run` does so once
        listed: list[str] | None = None
        times = []
        for _ in range(polls):
            capture.sent.clear()
            started = time.perf_counter()
            errors = poll_and_send(app)
            times.append(time.perf_counter() - started)
            if errors:
                raise RuntimeError(f"an idle poll failed: {errors}")
            if listed is None:
                listed = list(capture.sent)
            elif capture.sent != listed:
                raise RuntimeError(f"idle polls differ: {listed} then {capture.sent}")
        poll_only = [_timed(app) for _ in range(polls)]
        query = statistics.median(_timed_query(app) for _ in range(polls))
        server = statistics.median(_timed_examines(app) for _ in range(polls))
        return listed or [], times, poll_only, query, server
    finally:
        imaplib_log.removeHandler(capture)
        app.close()


def _timed(app: App) -> float:
    started = time.perf_counter()
    report = app.poll()
    seconds = time.perf_counter() - started
    if report.fetched or report.errors:
        raise RuntimeError(f"an idle poll found something: {report}")
    return seconds


def _timed_examines(app: App) -> float:
    """The round trips of the poll's own commands alone: what the server spends opening
    each folder (Dovecot reads its index of the folder, which grows with the folder)."""
    [ref] = app.refs
    box = app.mailbox(ref)
    started = time.perf_counter()
    for folder in ref.settings.mailbox.folders:
        box.select(folder)
    return time.perf_counter() - started


def _timed_query(app: App) -> float:
    started = time.perf_counter()
    _sent_in_a_day(app.intake.factory, app.intake.clock.now())
    return time.perf_counter() - started
