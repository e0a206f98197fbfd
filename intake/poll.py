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

from intake.campaigns.campaign import MailboxRef
from intake.config import ConfigError
from intake.flow import Intake, handle
from intake.mail.imap import IMAP_ERRORS, ImapMailbox
from intake.store import ledger
from intake.store.db import transaction

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    fetched: int = 0
    errors: list[str] = field(default_factory=list)


def poll_mailbox(intake: Intake, ref: MailboxRef, mailbox: ImapMailbox, report: PollReport) -> None:
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
            handle(intake, ref, raw)
            report.fetched += 1
            with transaction(intake.factory) as session:
                ledger.advance_cursor(session, ref.account, folder, raw.uidvalidity, raw.uid)


def poll_all(
    intake: Intake,
    refs: list[MailboxRef],
    open_mailbox: Callable[[MailboxRef], ImapMailbox],
) -> PollReport:
    """Poll each mailbox in turn; one that fails is reported and the others go on."""
    report = PollReport()
    for ref in refs:
        mailbox = open_mailbox(ref)
        try:
            poll_mailbox(intake, ref, mailbox, report)
            _note(intake, ref)
        except Exception as error:
            # A server or config problem is reported plainly; anything else (e.g. the database
            # stayed locked) with its traceback. Either way the message that failed was not
            # recorded and its UID not passed, so the next poll fetches it again.
            expected = isinstance(error, (*IMAP_ERRORS, ConfigError))
            log.error(
                "%s (%s): poll failed: %s", ref.key, ref.account, error, exc_info=not expected
            )
            report.errors.append(f"{ref.key}: {error}")
            mailbox.close()  # reconnect next time rather than reuse a broken session
            _note(intake, ref, str(error) or type(error).__name__)
    return report


def _note(intake: Intake, ref: MailboxRef, error: str = "") -> None:
    """Keep the mailbox's last success or error for the digest; never fails the poll."""
    try:
        with transaction(intake.factory) as session:
            ledger.note_poll(session, ref.key, ref.account, intake.clock.now(), error)
    except Exception:
        log.exception("%s: could not record the poll's outcome", ref.key)
