"""IMAP IDLE: being told of new mail within a second instead of at the next poll.

One extra session per mailbox waits in IDLE on INBOX. It never fetches anything: when the
server announces a new message it only asks for a poll now, so every message still goes
through the one poller and its cursor. IDLE is re-issued before the 29 minutes after which
servers may drop it (RFC 2177); a server without IDLE, or a session that keeps failing,
leaves intake polling on its schedule, as it always does anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from intake.campaigns.campaign import MailboxRef
from intake.mail.imap import IMAP_ERRORS, ImapMailbox, LoginFailed

log = logging.getLogger(__name__)

RENEW_SECONDS = 25 * 60  # re-issue IDLE well before the 29-minute limit
CHECK_SECONDS = 30.0  # how often the wait wakes up to see whether it should stop
INACTIVE_CHECK_SECONDS = 1.0  # how soon a watcher starts once its mailbox is this process's
RETRY_SECONDS = (30.0, 60.0, 120.0, 300.0, 600.0)  # after failures, then every 10 minutes


class IdleWatcher(threading.Thread):
    """Waits in IDLE on one mailbox's INBOX and calls `on_new` when a message arrives."""

    def __init__(
        self,
        ref: MailboxRef,
        open_session: Callable[[], ImapMailbox],
        on_new: Callable[[], None],
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(name=f"idle-{ref.key}", daemon=True)
        self.ref = ref
        self.open_session = open_session
        self.on_new = on_new
        # False while another process polls this mailbox: no session is kept open for it.
        self.active = active
        self.stopping = threading.Event()
        self.supported = True  # False once the server is found not to offer IDLE

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set() and self.supported:
            if not self.active():  # a local look at the leases held: cheap, so often
                self.stopping.wait(INACTIVE_CHECK_SECONDS)
                continue
            try:
                self._watch()
                failures = 0
            except IMAP_ERRORS as error:
                # A refused login is retried rarely: repeated wrong logins can lock the account.
                step = len(RETRY_SECONDS) - 1 if isinstance(error, LoginFailed) else failures
                wait = RETRY_SECONDS[min(step, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.info("%s: IDLE interrupted (%s); polling meanwhile", self.ref.key, error)
                self.stopping.wait(wait)

    def _watch(self) -> None:
        session = self.open_session()
        try:
            client = session.client
            if "IDLE" not in session.capabilities:
                log.info("%s: the server does not offer IDLE; polling only", self.ref.key)
                self.supported = False
                return
            client.select_folder("INBOX", readonly=True)
            while not self.stopping.is_set() and self.active():
                self._one_idle(session)
        finally:
            session.close()

    def _one_idle(self, session: ImapMailbox) -> None:
        """One IDLE command, ended when new mail is announced or before it grows too old."""
        client = session.client
        client.idle()
        started, announced = time.monotonic(), False
        try:
            while not announced and not self.stopping.is_set() and self.active():
                if time.monotonic() - started > RENEW_SECONDS:
                    break
                responses = client.idle_check(timeout=CHECK_SECONDS)
                announced = any(_announces_mail(response) for response in responses)
        finally:
            client.idle_done()
        if announced:
            log.info("%s: new mail announced; polling now", self.ref.key)
            self.on_new()


def _announces_mail(response: object) -> bool:
    """`* 12 EXISTS` (and `* 12 RECENT`) say a message arrived."""
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and response[1]
        in (
            b"EXISTS",
            b"RECENT",
        )
    )
