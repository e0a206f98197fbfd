"""Fetching the 超大附件 links kept as files, after the poll, a few at a time.

Each download runs outside any transaction (it may take minutes); its outcome is then
recorded in one. A passing failure (timeout, network, server error) is tried again later with
a growing pause (at most an hour) while the link is valid, or `max_attempts` times when its
expiry is unknown; a lasting one (a web page instead of the file, a wrong size, an expired
link) gives up at once and asks the school to send the file as an attachment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.clock import Clock
from intake.config import LargeFileSettings
from intake.domain import LargeFileLink
from intake.mail.large_files import Download, DownloadError, download, redact
from intake.store.archive import Archive
from intake.store.db import transaction
from intake.store.models import LargeFile, Message, StoredAttachment

log = logging.getLogger(__name__)

PASSING = ("timeout", "network", "http_error")
MAX_PAUSE_MINUTES = 60
BATCH = 20  # downloads per run, so a poll is never held up for long


@dataclass
class DownloadReport:
    downloaded: int = 0
    retrying: int = 0
    failed: int = 0


# Called in the transaction that gives a file up: (session, the file, its message, why).
OnFailure = Callable[[Session, LargeFile, Message, str], None]


def download_due(
    factory: sessionmaker[Session],
    archive: Archive,
    settings: LargeFileSettings,
    clock: Clock,
    on_failure: OnFailure,
) -> DownloadReport:
    report = DownloadReport()
    for file_id in _due(factory, clock.now()):
        _one(factory, archive, settings, clock, on_failure, file_id, report)
    return report


def _due(factory: sessionmaker[Session], now: datetime) -> list[int]:
    with factory() as session:
        query = (
            select(LargeFile.id)
            .where(LargeFile.state == "pending", LargeFile.next_attempt_at <= now)
            .order_by(LargeFile.next_attempt_at)
            .limit(BATCH)
        )
        return list(session.scalars(query))


def _one(
    factory: sessionmaker[Session],
    archive: Archive,
    settings: LargeFileSettings,
    clock: Clock,
    on_failure: OnFailure,
    file_id: int,
    report: DownloadReport,
) -> None:
    with factory() as session:
        row = session.get(LargeFile, file_id)
        if row is None:
            return
        link = LargeFileLink(row.filename, row.size_text, row.expires_text, row.url)
        expires_at = row.expires_at
    try:
        fetched = download(
            link,
            archive.incoming(),
            timeout=settings.timeout,
            max_bytes=settings.max_mb * 1024 * 1024,
            now=clock.now(),
            expires_at=expires_at,
        )
    except DownloadError as error:
        _failed(factory, settings, clock, on_failure, file_id, error, report)
        return
    except Exception as error:  # a full disk and the like: try again later, like a timeout
        log.exception("#%s: 超大附件 download failed", file_id)
        failure = DownloadError("network", f"下载时出错：{type(error).__name__}")
        _failed(factory, settings, clock, on_failure, file_id, failure, report)
        return
    _stored(factory, archive, clock, file_id, fetched)
    report.downloaded += 1


def _may_retry(row: LargeFile, settings: LargeFileSettings, now: datetime) -> bool:
    """A link keeps being tried while it is valid: an outage of an hour must not cost a
    school its file. Without a known expiry, `max_attempts` bounds the tries."""
    if row.expires_at is not None:
        return now < row.expires_at
    return row.attempts < settings.max_attempts


def _stored(
    factory: sessionmaker[Session], archive: Archive, clock: Clock, file_id: int, got: Download
) -> None:
    with transaction(factory) as session:
        row = session.get(LargeFile, file_id)
        assert row is not None
        path = archive.store_download(got.path, got.sha256, row.filename)
        assert row.attachment_pk is not None  # only kept links are pending
        attachment = session.get(StoredAttachment, row.attachment_pk)
        assert attachment is not None
        attachment.stored_path, attachment.sha256, attachment.size = str(path), got.sha256, got.size
        row.state, row.downloaded_at, row.last_error = "downloaded", clock.now(), ""
        log.info("#%s: 超大附件 %s downloaded (%s bytes)", row.message_pk, row.filename, got.size)


def _failed(
    factory: sessionmaker[Session],
    settings: LargeFileSettings,
    clock: Clock,
    on_failure: OnFailure,
    file_id: int,
    error: DownloadError,
    report: DownloadReport,
) -> None:
    with transaction(factory) as session:
        row = session.get(LargeFile, file_id)
        assert row is not None
        row.attempts += 1
        row.last_error = f"{error.code}: {error.message}"
        if error.code in PASSING and _may_retry(row, settings, clock.now()):
            pause = min(2 ** (row.attempts - 1), MAX_PAUSE_MINUTES)
            row.next_attempt_at = clock.now() + timedelta(minutes=pause)
            report.retrying += 1
        else:
            row.state = "failed"
            message = session.get(Message, row.message_pk)
            assert message is not None
            on_failure(session, row, message, error.message)
            report.failed += 1
        log.warning(
            "#%s: 超大附件 %s from %s: %s (attempt %s)",
            row.message_pk,
            row.filename,
            redact(row.url),
            error.code,
            row.attempts,
        )
