"""Reading a message before it is judged: parsing, unpacking its archives, and opening its
documents. None of it needs the ledger, so a long replay does it for the next messages in
other processes while this one records the current message.

`prepare` is what every message goes through; `prepared_ahead` runs it for a stream of
messages in worker processes, a few messages ahead and in order. A message that fails there
is simply read again in the recording process, where a failure is quarantined as always.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from intake.archives.expand import Opened, expand_archives
from intake.archives.unpack import Limits
from intake.campaigns.naming import split_ending
from intake.config import LargeFileSettings, SizeSettings
from intake.documents.convert import CONVERTIBLE
from intake.documents.inspect import Inspection, inspect
from intake.domain import Attachment, ParsedMail, RawMail
from intake.mail.large_files import links_as_files
from intake.mail.parse import parse_mail
from intake.mail.sources import header_of

log = logging.getLogger(__name__)

#: Messages read ahead of the one being recorded, per worker.
AHEAD_PER_WORKER = 3
#: Larger messages are read in the recording process: copying one to a worker and back
#: would hold it in memory three times.
MAX_SHIPPED_BYTES = 16 * 1024 * 1024
_DOCUMENT_ENDINGS = frozenset({".docx", ".pdf", *CONVERTIBLE})


@dataclass(frozen=True)
class Reading:
    """The settings reading a message depends on (sent to worker processes as they are)."""

    sizes: SizeSettings = field(default_factory=SizeSettings)
    large_files: LargeFileSettings = field(default_factory=LargeFileSettings)
    archive_limits: Limits = field(default_factory=Limits)
    soffice: str | None = None  # LibreOffice, to read .doc and .wps


@dataclass(frozen=True)
class Prepared:
    """A message read: parsed, its archives opened, and its documents inspected."""

    mail: ParsedMail
    opened: dict[int, Opened]
    # By attachment position, for every file that is a document by its name; the rules
    # decide later which of them are submissions, and use these instead of opening it again.
    inspections: dict[int, Inspection]


def parsed(reading: Reading, raw: RawMail) -> ParsedMail:
    """The parsed message; of one over the size limit only its header, which is all the
    refusal needs (and all that was fetched of it over IMAP)."""
    if raw.full_size > reading.sizes.max_message_bytes:
        return parse_mail(header_of(raw.raw))
    return parse_mail(raw.raw)


def unpacked(reading: Reading, mail: ParsedMail) -> tuple[ParsedMail, dict[int, Opened]]:
    """The message with its 超大附件 (by config) and its archives' files as files of its own."""
    if reading.large_files.mode == "download":
        mail = links_as_files(mail)
    return expand_archives(mail, reading.archive_limits)


def openable(reading: Reading, attachment: Attachment) -> bool:
    """A file that can be opened now: downloaded, and within the size limit."""
    return attachment.link is None and len(attachment.payload) <= reading.sizes.max_attachment_bytes


def prepare(reading: Reading, raw: RawMail) -> Prepared:
    mail, opened = unpacked(reading, parsed(reading, raw))
    inspections = {
        position: inspect(attachment.filename, attachment.payload, reading.soffice)
        for position, attachment in enumerate(mail.attachments)
        if openable(reading, attachment)
        and split_ending(attachment.filename)[1] in _DOCUMENT_ENDINGS
    }
    return Prepared(mail, opened, inspections)


def prepared_ahead(
    reading: Reading, messages: Iterable[RawMail], workers: int
) -> Iterator[tuple[RawMail, Prepared | None]]:
    """Each message with what workers prepared of it (None: read it in this process), in
    the order given. With fewer than two workers nothing is read ahead."""
    if workers < 2:
        yield from ((raw, None) for raw in messages)
        return
    # Workers start from a fresh interpreter: a forked copy would inherit open database
    # connections, which SQLite forbids using across a fork.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        waiting: deque[tuple[RawMail, Future[Prepared] | None]] = deque()
        for raw in messages:
            waiting.append((raw, _submitted(pool, reading, raw)))
            if len(waiting) > workers * AHEAD_PER_WORKER:
                yield _collected(*waiting.popleft())
        while waiting:
            yield _collected(*waiting.popleft())


def _submitted(
    pool: ProcessPoolExecutor, reading: Reading, raw: RawMail
) -> Future[Prepared] | None:
    if len(raw.raw) > MAX_SHIPPED_BYTES:
        return None
    try:
        return pool.submit(prepare, reading, raw)
    except BrokenProcessPool:
        return None  # a worker died (killed, out of memory): the rest is read here


def _collected(raw: RawMail, future: Future[Prepared] | None) -> tuple[RawMail, Prepared | None]:
    if future is None:
        return raw, None
    try:
        return raw, future.result()
    except Exception:
        # Read it again here: an error then is the message's own and is quarantined.
        log.warning("uid %s: reading ahead failed; read again", raw.uid, exc_info=True)
        return raw, None
