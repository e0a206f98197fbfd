"""`intake run`: the same poll and send as `intake poll --once`, on an APScheduler timer and
as soon as IMAP IDLE announces new mail, and each campaign's daily digest at its configured
local time.

Only wiring lives here; the jobs call the functions the commands call. SIGTERM and Ctrl-C
stop the scheduler after the job in progress has finished its current message.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from intake.app import App
from intake.campaigns.campaign import MailboxRef
from intake.leases import mailbox_lease
from intake.mail.idle import IdleWatcher
from intake.mail.imap import ImapMailbox

log = logging.getLogger(__name__)

# How long a stop waits for the message or reply in progress (deploy/intake.service gives
# systemd's TimeoutStopSec=300 before it kills).
STOP_WAIT_SECONDS = 240


def poll_and_send(app: App) -> list[str]:
    """One poll of every mailbox, the 超大附件 downloads due, then the replies due; returns
    the mailboxes' errors."""
    report = app.poll()
    if app.config.settings.large_files.mode == "download":
        try:
            fetched = app.download_links()
            log.info(
                "downloads: %s done, %s retrying, %s given up",
                fetched.downloaded,
                fetched.retrying,
                fetched.failed,
            )
        except Exception:  # the replies below must go out whatever happened here
            log.exception("downloads failed")
    sent = app.send_replies()
    try:
        app.send_alerts()
    except Exception:  # telling organizers must never stop the polling itself
        log.exception("alerts failed")
    # A digest whose time passed while intake was stopped goes out now, once.
    for campaign in app.send_due_digests():
        log.info("%s: daily digest sent", campaign)
    log.info(
        "poll: %s new message(s), %s reply(ies) sent, %s retrying, %s failed; %s error(s)",
        report.fetched,
        sent.sent,
        sent.retried,
        sent.failed,
        len(report.errors),
    )
    return report.errors


class PollRequests:
    """The poll job, and polls asked for between its runs (IDLE announced new mail): one
    asked for while a poll runs makes that poll go round again, since it may have looked
    at the mailbox just before the message arrived."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.scheduler: BlockingScheduler | None = None
        self.wanted = threading.Event()
        self.running = threading.Event()
        self.idle = threading.Event()  # no poll running: set between runs
        self.idle.set()

    def run(self) -> None:
        self.running.set()
        self.idle.clear()
        try:
            while not self.app.stopping.is_set():
                self.wanted.clear()
                poll_and_send(self.app)
                if not self.wanted.is_set():
                    return
        finally:
            self.running.clear()
            self.idle.set()
            if self.wanted.is_set() and not self.app.stopping.is_set():
                self._wake()  # asked for just as this poll was ending

    def ask(self) -> None:
        self.wanted.set()
        if not self.running.is_set():
            self._wake()

    def _wake(self) -> None:
        if self.scheduler is not None:
            self.scheduler.modify_job("poll", next_run_time=datetime.now(UTC))


def _idle_watchers(app: App, on_new: Callable[[], None]) -> list[IdleWatcher]:
    polling = app.config.settings.polling

    def opener(ref: MailboxRef) -> Callable[[], ImapMailbox]:
        return lambda: ImapMailbox(ref.settings.mailbox, ref.account, polling.socket_timeout)

    def holds(ref: MailboxRef) -> Callable[[], bool]:
        return lambda: mailbox_lease(ref.key) in app.leases.held()

    return [IdleWatcher(ref, opener(ref), on_new, holds(ref)) for ref in app.refs]


def _add_digest_jobs(scheduler: BlockingScheduler, app: App) -> None:
    """Each campaign's digest at its configured local time, where someone is to receive it."""
    for campaign in app.campaigns:
        digest = campaign.settings.digest
        if not digest.recipients:
            continue
        hour, minute = (int(part) for part in digest.time.split(":"))
        scheduler.add_job(
            app.send_due_digests,
            "cron",
            hour=hour,
            minute=minute,
            timezone=campaign.zone,
            id=f"digest-{campaign.id}",
            max_instances=1,
            coalesce=True,
        )


def _add_lease_job(scheduler: BlockingScheduler, app: App) -> None:
    """The leases renewed four times in their lifetime, on a worker of their own."""
    scheduler.add_job(
        _renew_leases,
        "interval",
        args=[app],
        seconds=app.config.settings.database.lease_seconds / 4,
        id="leases",
        executor="leases",
        max_instances=1,
        coalesce=True,
    )


def _renew_leases(app: App) -> None:
    try:
        app.leases.renew()
    except Exception as error:  # the database is away: the next renewal tries again
        log.warning("leases not renewed: %s", error)


def run_forever(app: App) -> None:
    minutes = app.config.settings.polling.interval_minutes
    # One worker: the poll and the digest share the mail sessions, so they take turns; the
    # leases have a worker of their own, so a long poll never lets them lapse.
    scheduler = BlockingScheduler(
        timezone="UTC",
        executors={
            "default": ThreadPoolExecutor(max_workers=1),
            "leases": ThreadPoolExecutor(max_workers=1),
        },
    )
    polls = PollRequests(app)
    # One poll at a time: a slow poll is never overlapped by the next one.
    scheduler.add_job(
        polls.run,
        "interval",
        minutes=minutes,
        id="poll",
        max_instances=1,
        coalesce=True,
        next_run_time=app.intake.clock.now(),
    )
    polls.scheduler = scheduler
    watchers = _idle_watchers(app, polls.ask) if app.config.settings.polling.idle else []

    _add_digest_jobs(scheduler, app)
    _add_lease_job(scheduler, app)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current message", signum)
        app.stopping.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("running: polling %d mailbox(es) every %s minute(s)", len(app.refs), minutes)
    for watcher in watchers:
        watcher.start()
    try:
        scheduler.start()
    finally:
        for watcher in watchers:
            watcher.stop()
        # The job in progress sees `stopping` after its current message; its leases are
        # released only once it has finished, so none is taken again after the release.
        if not polls.idle.wait(timeout=STOP_WAIT_SECONDS):
            log.warning("the job in progress did not end in %s s", STOP_WAIT_SECONDS)
        app.close()
        log.info("stopped")
