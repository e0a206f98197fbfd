"""Loading a whole inbox into the ledger: a configured mailbox from UID 1, or an export of one.

Every message goes through the same `handle` as a poll, so replaying is idempotent: the same
bytes are recorded once, and a message seen again only gains a location. Deadlines are judged
on the original receive time (INTERNALDATE; for files the newest Received: header, else
Date:). Replies are written but kept back ("suppressed") unless asked for; asking later sends
exactly those never sent.
"""

from __future__ import annotations

import mailbox as mailboxes
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from intake.app import App
from intake.campaigns.campaign import MailboxRef
from intake.domain import RawMail
from intake.flow import handle
from intake.mail.imap import FolderState
from intake.mail.mbox import Mbox
from intake.mail.sources import UnknownReceiveTime, eml_files, read_eml, receive_time
from intake.prepare import Prepared, prepared_ahead
from intake.store import ledger
from intake.store.db import transaction
from intake.store.models import Message, OutboxReply

#: Sources this long are read ahead by worker processes (starting them takes a second).
READ_AHEAD_FROM = 50


class ReplaySourceError(Exception):
    """A source that is neither a configured mailbox nor a readable mail file or folder."""


@dataclass
class ReplayReport:
    seen: int = 0
    new: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    released: int = 0  # kept-back replies now sent


@dataclass(frozen=True)
class Source:
    """Where the messages come from, how many there are, and the mailbox they stand for."""

    ref: MailboxRef
    total: int
    messages: Callable[[], Iterator[RawMail]]
    imap: bool = False
    # Files left out because nothing in them says when they were received.
    unreadable: tuple[str, ...] = ()


def open_source(app: App, name: str, mailbox: str | None) -> Source:
    """A configured mailbox ("campaign/group"), an .mbox file, a Maildir, a folder of .eml
    files or one .eml; a file source needs `mailbox` to say which group mailbox it was."""
    configured = {ref.key: ref for ref in app.refs}
    if name in configured:
        return _imap_source(app, configured[name])
    path = Path(name)
    if not path.exists():
        known = "、".join(configured)
        raise ReplaySourceError(f"找不到 {name}：既不是已配置的邮箱（{known}），也不是文件或文件夹")
    if mailbox not in configured:
        raise ReplaySourceError(f"请用 --mailbox 指明这些邮件属于哪个邮箱：{'、'.join(configured)}")
    return _file_source(configured[mailbox], path)


def replay(
    app: App,
    source: Source,
    send_replies: bool,
    on_message: Callable[[], None],
    workers: int | None = None,
) -> ReplayReport:
    """Record every message of the source; replies go out only with `send_replies`.
    `workers` processes read the next messages meanwhile (by default one per core for a
    source of more than a few dozen messages); recording stays in order, in this process."""
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if source.total >= READ_AHEAD_FROM else 1
    report = ReplayReport()
    previous, app.intake.answer = app.intake.answer, send_replies
    # A message is new when this replay made its row: rows are numbered in order, and one
    # met twice in the same source counts once.
    with app.intake.factory() as session:
        first_new = (session.scalar(select(func.max(Message.id))) or 0) + 1
    counted: set[int] = set()
    try:
        for raw, prepared in prepared_ahead(app.intake.reading, source.messages(), workers):
            _one(app, source, raw, prepared, report, first_new, counted)
            on_message()
    finally:
        app.intake.answer = previous
    return report


def _one(
    app: App,
    source: Source,
    raw: RawMail,
    prepared: Prepared | None,
    report: ReplayReport,
    first_new: int,
    counted: set[int],
) -> None:
    message = handle(app.intake, source.ref, raw, prepared)
    report.seen += 1
    if message.id >= first_new and message.id not in counted:
        counted.add(message.id)
        report.new += 1
        report.decisions[message.decision] += 1
    if app.intake.answer:
        report.released += release_replies(app, message.id)
    if source.imap:
        with transaction(app.intake.factory) as session:
            ledger.advance_cursor(session, source.ref.account, raw.folder, raw.uidvalidity, raw.uid)


def release_replies(app: App, message_id: int) -> int:
    """A reply kept back during an earlier replay is sent now: it was never sent before."""
    with transaction(app.intake.factory) as session:
        result = session.execute(
            update(OutboxReply)
            .where(OutboxReply.message_pk == message_id, OutboxReply.state == "suppressed")
            .values(state="pending", next_attempt_at=app.intake.clock.now())
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _imap_source(app: App, ref: MailboxRef) -> Source:
    box = app.mailbox(ref)
    found: list[tuple[FolderState, list[int]]] = []
    for folder in ref.settings.mailbox.folders:
        state = box.select(folder)
        if state is not None:  # SEARCH reads the folder selected now: take its UIDs here
            found.append((state, box.new_uids(state, 0)))

    def messages() -> Iterator[RawMail]:
        for state, uids in found:
            box.select(state.name)
            yield from box.fetch(state, uids)

    return Source(ref, sum(len(uids) for _, uids in found), messages, imap=True)


def _file_source(ref: MailboxRef, path: Path) -> Source:
    if path.is_dir() and (path / "cur").is_dir():
        return _maildir(ref, path)
    if path.is_dir():
        files = list(enumerate(eml_files(path), start=1))
        return _in_order(ref, [_eml_entry(ref, number, file) for number, file in files])
    if path.suffix.lower() == ".eml":
        return Source(ref, 1, lambda: iter([read_eml(path, ref.key, 1)]))
    with path.open("rb") as handle:
        if not handle.read(5) == b"From ":
            raise ReplaySourceError(f"{path} 不是 .mbox 邮箱文件（应以“From ”开头），也不是 .eml")
    return _mbox(ref, path)


@dataclass(frozen=True)
class _Entry:
    """One file's message before its body is read: where it is, and how to read it."""

    name: str  # how a person finds it: "a.eml", "mbox:inbox.mbox#12"
    place: str  # the folder recorded as its location
    number: int
    head: Callable[[], bytes]  # the header block, enough to know when it was received
    read: Callable[[], bytes]  # the whole message


def _in_order(ref: MailboxRef, entries: list[_Entry]) -> Source:
    """Files in the order the server received them, as a poll would have met them: the order
    decides which version of a file is the newest. Only headers are read to sort them, and
    each message is read when its turn comes, so memory does not grow with the inbox. A file
    that says nowhere when it was received is left out and named."""
    timed, unreadable = [], []
    for entry in entries:
        try:
            timed.append((receive_time(entry.head()), entry.number, entry))
        except UnknownReceiveTime:
            unreadable.append(entry.name)
    timed.sort(key=lambda item: (item[0], item[1]))

    def messages() -> Iterator[RawMail]:
        for received, number, entry in timed:
            yield RawMail(ref.key, entry.place, 0, number, received, entry.read())

    return Source(ref, len(timed), messages, unreadable=tuple(unreadable))


def _eml_entry(ref: MailboxRef, number: int, file: Path) -> _Entry:
    # A single .eml is taken as it is, line ends and all, as it always has been.
    head = partial(_head_of_file, file)
    return _Entry(file.name, f"file:{file.name}", number, head, file.read_bytes)


def _head_of_file(file: Path) -> bytes:
    with file.open("rb") as handle:
        return _head(handle.read)


def _mbox(ref: MailboxRef, path: Path) -> Source:
    box = Mbox(path, create=False)
    return _in_order(ref, _entries(box, f"mbox:{path.name}"))


def _maildir(ref: MailboxRef, path: Path) -> Source:
    box = mailboxes.Maildir(path, factory=None, create=False)
    return _in_order(ref, _entries(box, f"maildir:{path.name}"))


def _entries(box: mailboxes.Mailbox[Any], place: str) -> list[_Entry]:
    keys = enumerate(sorted(box.keys()), start=1)
    return [
        _Entry(f"{place}#{n}", place, n, partial(_head_in_box, box, key), _reader(box, key))
        for n, key in keys
    ]


def _reader(box: mailboxes.Mailbox[Any], key: str) -> Callable[[], bytes]:
    return lambda: _file_bytes(box.get_bytes(key))


def _head_in_box(box: mailboxes.Mailbox[Any], key: str) -> bytes:
    with box.get_file(key) as handle:
        return _head(handle.read)


_CHUNK = 64 * 1024


def _head(read: Callable[[int], bytes]) -> bytes:
    """The bytes up to and including the first empty line (the whole file if none)."""
    data = b""
    while True:
        chunk = read(_CHUNK)
        data += chunk
        if not chunk or b"\n\n" in data or b"\n\r\n" in data:
            return data


def _file_bytes(data: bytes) -> bytes:
    """The message as the IMAP server would have given it: mail files keep lines with LF
    and quote body lines "From …" as ">From …"; the server sends CRLF and no quoting. The
    same bytes make the same SHA-256, so a message replayed from an export of a mailbox
    already polled is recognised, not recorded twice. Copies are made only when needed
    (a message can be tens of megabytes)."""
    if b">From " in data:
        data = re.sub(rb"(?m)^>(>*From )", rb"\1", data)
    if b"\r" not in data:
        return data.replace(b"\n", b"\r\n")
    if data.count(b"\n") == data.count(b"\r\n"):
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
