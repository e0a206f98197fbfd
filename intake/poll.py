"""Polling: every configured mailbox, every configured folder, only what is new.

Per folder the ledger keeps UIDVALIDITY and the highest UID recorded. The cursor moves only
after the message's own transaction has committed, so a crash in between means the message
is fetched again and found by its SHA-256: recorded once, answered once. A new UIDVALIDITY
restarts the folder from UID 1 and relies on the same deduplication.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError

from intake.campaigns.campaign import MailboxRef
from intake.config import ConfigError
from intake.flow import Intake, handle
from intake.leases import mailbox_lease
from intake.mail.imap import IMAP_ERRORS, ImapMailbox, LoginFailed
from intake.store import ledger
from intake.store.db import transaction

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    fetched: int = 0
    errors: list[str] = field(default_factory=list)


def poll_mailbox(
    intake: Intake,
    ref: MailboxRef,
    mailbox: ImapMailbox,
    report: PollReport,
    still_ours: Callable[[str], bool] = lambda _lease: True,
) -> None:
    """Record what is new in each folder, for as long as this process holds the mailbox's
    lease (renewed between messages by `still_ours`)."""
    for folder in ref.settings.mailbox.folders:
        state = mailbox.select(folder)
        if state is None:
            continue
        with transaction(intake.factory) as session:
            row = ledger.cursor(session, ref.account, folder)
            after = row.last_uid if row is not None and row.uidvalidity == state.uidvalidity else 0
            if row is not None and row.uidvalidity != state.uidvalidity:
                log.warning(
                    "%s/%s: UIDVALIDITY changed %s → %s; rescanning",
                    ref.key,
                    folder,
                    row.uidvalidity,
                    state.uidvalidity,
                )
        for raw in mailbox.fetch(state, mailbox.new_uids(state, after)):
            if not still_ours(mailbox_lease(ref.key)):
                log.warning("%s: handed to another process; stopping this poll", ref.key)
                return
            handle(intake, ref, raw)
            report.fetched += 1
            with transaction(intake.factory) as session:
                ledger.advance_cursor(session, ref.account, folder, raw.uidvalidity, raw.uid)


def poll_all(
    intake: Intake,
    refs: list[MailboxRef],
    open_mailbox: Callable[[MailboxRef], ImapMailbox],
    interval: timedelta = timedelta(minutes=5),
    still_ours: Callable[[str], bool] = lambda _lease: True,
    may_poll: Callable[[MailboxRef], bool] = lambda _ref: True,
) -> PollReport:
    """Poll each mailbox in turn; one that fails is reported and the others go on. One that
    failed several polls in a row is tried less and less often (QQ refuses clients that
    keep reconnecting, and repeated wrong logins can lock the account)."""
    report = PollReport()
    for ref in refs:
        try:
            # Another process may poll it (several share the database); its lease is taken
            # here, inside the try, so a database that cannot be written fails this mailbox.
            if not may_poll(ref):
                log.debug("%s: polled by another process", ref.key)
                continue
        except OperationalError as error:
            log.error("%s (%s): poll failed: %s", ref.key, ref.account, describe(error))
            report.errors.append(f"{ref.key}: {describe(error)}")
            continue
        waiting = _waiting_until(intake, ref, interval)
        if waiting is not None:
            log.info("%s: failing; next attempt after %s", ref.key, waiting.isoformat())
            report.errors.append(f"{ref.key}: 连续失败，{waiting:%H:%M} (UTC) 后再试")
            continue
        mailbox = open_mailbox(ref)
        try:
            poll_mailbox(intake, ref, mailbox, report, still_ours)
            _note(intake, ref)
        except Exception as error:
            # A server, config, disk or database problem is reported plainly; anything else
            # with its traceback. Either way the message that failed was not recorded and its
            # UID not passed, so the next poll fetches it again.
            expected = isinstance(error, (*IMAP_ERRORS, ConfigError, OperationalError))
            text = describe(error)
            log.error("%s (%s): poll failed: %s", ref.key, ref.account, text, exc_info=not expected)
            report.errors.append(f"{ref.key}: {text}")
            mailbox.close()  # reconnect next time rather than reuse a broken session
            _note(intake, ref, text, isinstance(error, LoginFailed))
    return report


def describe(error: Exception) -> str:
    if isinstance(error, OperationalError):
        # SQLAlchemy's text carries the SQL statement, and so do the lines PostgreSQL adds
        # after its message ("LINE 1: …"); what helps a person is the cause, in one line.
        cause = str(error.orig).strip().partition("\n")[0]
        return f"数据库暂时无法写入，下次轮询会重试（{cause}）"
    return str(error) or type(error).__name__


def _note(intake: Intake, ref: MailboxRef, error: str = "", login: bool = False) -> None:
    """Keep the mailbox's last success or error for the digest; never fails the poll."""
    try:
        with transaction(intake.factory) as session:
            ledger.note_poll(session, ref.key, ref.account, intake.clock.now(), error, login)
    except OperationalError as error:  # the same locked database the poll met
        log.warning("%s: could not record the poll's outcome: %s", ref.key, describe(error))
    except Exception:
        log.exception("%s: could not record the poll's outcome", ref.key)


# After this many failures in a row the mailbox waits 1, 3, 7 … poll intervals, at most an hour.
MAX_WAIT = timedelta(hours=1)


def _waiting_until(intake: Intake, ref: MailboxRef, interval: timedelta) -> datetime | None:
    """When a mailbox that keeps failing may be tried again; None when it may be now."""
    with intake.factory() as session:
        status = ledger.mailbox_status(session, ref.key)
    if status is None or not status.failures or status.last_error_at is None:
        return None
    wait = min(interval * (2 ** min(status.failures - 1, 10) - 1), MAX_WAIT)
    until = status.last_error_at + wait
    return until if intake.clock.now() < until else None
