"""Wiring: from a Config to the objects the commands use (database, archive, mailboxes)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from intake import alerts, digests
from intake.archives.unpack import Limits
from intake.campaigns.campaign import Campaign, MailboxRef, all_mailboxes, load_campaigns
from intake.clock import Clock, SystemClock
from intake.config import Config
from intake.documents.convert import soffice
from intake.downloads import DownloadReport, download_due
from intake.flow import Intake
from intake.leases import MAILBOX, OUTBOX, Leases, mailbox_lease
from intake.mail.imap import ImapMailbox
from intake.mail.smtp import FolderTransport, SmtpTransport, Transport
from intake.outbox import SendReport, enqueue, recover_interrupted, send_due
from intake.poll import PollReport, describe, poll_all
from intake.replies import compose_notice, templates
from intake.store.archive import Archive
from intake.store.db import make_engine, session_factory, upgrade
from intake.store.models import LargeFile, Message, OutboxReply

log = logging.getLogger(__name__)


@dataclass
class App:
    config: Config
    engine: Engine
    intake: Intake
    campaigns: list[Campaign]
    refs: list[MailboxRef]
    leases: Leases
    mailboxes: dict[str, ImapMailbox] = field(default_factory=dict)
    # Set by a SIGTERM: the job in progress ends after its current message or reply, and
    # takes no lease again once close() has released them.
    stopping: threading.Event = field(default_factory=threading.Event)
    transports: dict[str, Transport] = field(default_factory=dict)

    def mailbox(self, ref: MailboxRef) -> ImapMailbox:
        """One session per mailbox, kept between polls: QQ dislikes frequent reconnects."""
        if ref.key not in self.mailboxes:
            polling = self.config.settings.polling
            self.mailboxes[ref.key] = ImapMailbox(
                ref.settings.mailbox,
                ref.account,
                polling.socket_timeout,
                polling.fetch_batch,
                self.config.settings.sizes.max_message_bytes,
            )
        return self.mailboxes[ref.key]

    def transport(self, account: str) -> Transport:
        if account not in self.transports:
            replies = self.config.settings.replies
            if replies.transport == "folder":
                self.transports[account] = FolderTransport(self.config.path(replies.folder))
            else:
                ref = next(r for r in self.refs if r.account == account)
                timeout = self.config.settings.polling.socket_timeout
                self.transports[account] = SmtpTransport(ref.settings.mailbox, timeout)
        return self.transports[account]

    def poll(self) -> PollReport:
        """Poll the mailboxes this process holds the lease of: all of them when it runs
        alone, an equal share when several processes share the database."""
        interval = timedelta(minutes=self.config.settings.polling.interval_minutes)
        try:
            self._hand_over_extras()
        except OperationalError as error:  # the leases cannot be written: nothing is polled
            log.error("leases not renewed: %s", describe(error))
            return PollReport(errors=[f"{ref.key}: {describe(error)}" for ref in self.refs])
        report = poll_all(
            self.intake, self.refs, self.mailbox, interval, self._still_ours, self._may_poll
        )
        for key in [*self.mailboxes]:  # a mailbox handed over: its session is not needed
            if mailbox_lease(key) not in self.leases.held():
                self.mailboxes.pop(key).close()
        return report

    def _still_ours(self, lease: str) -> bool:
        return not self.stopping.is_set() and self.leases.keep(lease)

    def _may_poll(self, ref: MailboxRef) -> bool:
        """Whether this process polls `ref` now: it holds the lease (renewed here), or can
        take it while it holds fewer than its fair share. Asked just before each mailbox, so
        processes that start together spread over the mailboxes from the first round."""
        if self.stopping.is_set():
            return False
        name = mailbox_lease(ref.key)
        held = self.leases.held(MAILBOX)
        if name in held:  # renewed only when a third of its time has passed: few writes
            return self.leases.keep(name)
        if len(held) >= self.leases.fair_share(len(self.refs)) or not self.leases.take(name):
            return False
        log.info("%s: polled by this process (%s)", ref.key, self.leases.holder)
        return True

    def _hand_over_extras(self) -> None:
        """Release the mailboxes held beyond this process's fair share (more processes are
        alive than when it took them), the last ones in the configuration's order."""
        share = self.leases.fair_share(len(self.refs))
        held = [ref for ref in self.refs if mailbox_lease(ref.key) in self.leases.held(MAILBOX)]
        for ref in held[share:]:
            log.info("%s: handed over to another process", ref.key)
            self.leases.release(mailbox_lease(ref.key))

    def holds_outbox(self) -> bool:
        """Take or keep the outbox (replies, digests, alerts, downloads). Taking it over from
        a process that is gone first settles what that process was sending."""
        if self.stopping.is_set():
            return False
        if self.leases.newly_taken(OUTBOX):
            recovered = recover_interrupted(self.intake.factory, self.leases.holder)
            if recovered:
                log.warning("%s reply(ies) left sending by a stopped process: unknown", recovered)
            digests.recover_interrupted(self.intake.factory)
        return OUTBOX in self.leases.held()

    def download_links(self) -> DownloadReport:
        if not self.holds_outbox():
            return DownloadReport()
        intake = self.intake
        return download_due(
            intake.factory,
            intake.archive,
            self.config.settings.large_files,
            intake.clock,
            self._ask_to_resend,
        )

    def _ask_to_resend(self, session: Session, file: LargeFile, message: Message, why: str) -> None:
        """Queue a word to the school that a 超大附件 could not be downloaded."""
        self.notify(
            session,
            message,
            "reply_download_failed.txt.j2",
            "请重新发送",
            filename=file.filename,
            error=why,
        )

    def ref_of(self, message: Message) -> MailboxRef | None:
        """The configured mailbox a recorded message came in through; None when its campaign
        or group is no longer in the configuration."""
        key = f"{message.campaign}/{message.group}"
        return next((ref for ref in self.refs if ref.key == key), None)

    def notify(
        self, session: Session, message: Message, template: str, tag: str, **details: Any
    ) -> bool:
        """Queue a later word to the sender of a recorded message, in its thread; False when
        its campaign or group is no longer configured."""
        ref = self.ref_of(message)
        if ref is None:
            log.warning("#%s: no configured mailbox to write from", message.id)
            return False
        first = session.scalar(
            select(OutboxReply).where(OutboxReply.message_pk == message.id).order_by(OutboxReply.id)
        )
        now = self.intake.clock.now()
        reply = compose_notice(
            self.intake.templates,
            ref,
            template,
            tag,
            recipient=first.recipient if first is not None else message.sender,
            original_subject=message.subject,
            thread=(message.message_id,) if message.message_id else (),
            school=message.school,
            receipt=message.receipt,
            now=now,
            **details,
        )
        midnight = ref.campaign.day_start(now)
        enqueue(session, message, ref.account, reply, self.config.settings.replies, midnight)
        return True

    def send_due_digests(self) -> list[str]:
        """Each campaign's digest that is due today and not yet sent; returns those sent."""
        if not self.holds_outbox():
            return []
        now = self.intake.clock.now()
        due = [c for c in self.campaigns if digests.is_due(self.intake.factory, c, now)]
        return [c.id for c in due if self.send_digest(c, now)]

    def send_digest(
        self, campaign: Campaign, now: datetime | None = None, again: bool = False
    ) -> bool:
        prepared = digests.prepare(
            self.intake.factory, self.intake.templates, campaign, now or self.intake.clock.now()
        )
        try:
            sender = next(iter(campaign.settings.groups.values())).mailbox.account.lower()
            transport = self.transport(sender)
            return digests.send(self.intake.factory, prepared, campaign, transport, again)
        finally:
            self.close_transports()

    def send_alerts(self) -> int:
        """Tell organizers, once, of a mailbox that cannot be read; returns alerts sent."""
        if not self.holds_outbox():
            return 0
        try:
            intake = self.intake
            now = intake.clock.now()
            return alerts.send_alerts(
                intake.factory, intake.templates, self.refs, self.transport, now
            )
        finally:
            self.close_transports()

    def send_replies(self) -> SendReport:
        if not self.holds_outbox():
            return SendReport()
        try:
            replies = self.config.settings.replies
            # Pacing protects a real SMTP account; writing files needs none.
            pause = time.sleep if replies.transport == "smtp" else _no_pause
            return send_due(
                self.intake.factory,
                self.transport,
                replies,
                self.intake.clock,
                sleep=pause,
                holder=self.leases.holder,
                still_ours=lambda: self._still_ours(OUTBOX),
            )
        finally:
            self.close_transports()

    def close_transports(self) -> None:
        # `intake run` closes the app while a job thread may still be sending: take the
        # transports out before closing them, never iterate a dict another thread changes.
        while self.transports:
            _account, transport = self.transports.popitem()
            transport.close()

    def close(self) -> None:
        while self.mailboxes:
            _key, mailbox = self.mailboxes.popitem()
            mailbox.close()
        self.close_transports()
        try:
            self.leases.release_all()
        except Exception as error:  # the database went away: the leases simply expire
            log.warning("leases not released: %s", error)
        self.engine.dispose()


def _no_pause(_seconds: float) -> None:
    return None


def build(config: Config, clock: Clock | None = None) -> App:
    """Open the database (creating or upgrading it) and everything else a command needs."""
    settings = config.settings
    engine = make_engine(config.database_url(), settings.database.busy_timeout)
    upgrade(engine)
    factory = session_factory(engine)
    archive = Archive(config.path(settings.storage.archive_dir))
    if archive.remove_leftovers():
        log.info("removed half-written files left by an interrupted run")
    campaigns = load_campaigns(config)
    refs = all_mailboxes(campaigns)
    intake = Intake(
        factory=factory,
        archive=archive,
        replies=settings.replies,
        templates=templates(
            str(config.path(settings.replies.templates_dir))
            if settings.replies.templates_dir
            else ""
        ),
        clock=clock or SystemClock(),
        own_accounts=frozenset(ref.account for ref in refs),
        large_files=settings.large_files,
        archive_limits=Limits(
            max_members=settings.archives.max_members,
            max_total_bytes=settings.archives.max_total_mb * 1024 * 1024,
            max_ratio=settings.archives.max_ratio,
            max_depth=settings.archives.max_depth,
        ),
        soffice=soffice(),
        sizes=settings.sizes,
    )
    ttl = timedelta(seconds=settings.database.lease_seconds)
    leases = Leases(factory, intake.clock, ttl)
    return App(config, engine, intake, campaigns, refs, leases)


def repo_path(*parts: str) -> Path:
    """A file shipped beside the package (config.example.toml, samples/)."""
    return Path(__file__).resolve().parents[1].joinpath(*parts)
