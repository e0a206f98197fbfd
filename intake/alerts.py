"""Telling organizers once that a mailbox cannot be read: at once when its login is refused
(a wrong or expired 授权码 needs a person), after a few failed polls otherwise.

The alert goes to the campaign's digest recipients through another configured account when
there is one (the failing account may not be able to send either), and is marked sent so
it is not repeated every poll; a poll that succeeds again makes the next failure alert anew.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from intake.campaigns.campaign import MailboxRef
from intake.mail.outgoing import organizer_mail
from intake.mail.smtp import SendError, Transport
from intake.store.db import transaction
from intake.store.models import MailboxStatus

log = logging.getLogger(__name__)

# Polls in a row that may fail (a server restarting, a network hiccup) before anyone is told.
FAILURES_BEFORE_ALERT = 3
TEMPLATE = "alert_mailbox.txt.j2"


@dataclass(frozen=True)
class Alert:
    status_id: int
    ref: MailboxRef
    subject: str
    body: str


def send_alerts(
    factory: sessionmaker[Session],
    env: Environment,
    refs: list[MailboxRef],
    transports: Callable[[str], Transport],
    now: datetime,
) -> int:
    """Send each alert that is due; returns how many were sent."""
    sent = 0
    for alert in _due(factory, env, refs):
        recipients = alert.ref.campaign.settings.digest.recipients
        if not recipients:
            log.error(
                "%s cannot be read and no digest recipient is configured to tell: %s",
                alert.ref.key,
                alert.subject,
            )
            _mark(factory, alert.status_id, now)
            continue
        if _deliver(alert, recipients, refs, transports, now):
            _mark(factory, alert.status_id, now)
            sent += 1
    return sent


def _due(factory: sessionmaker[Session], env: Environment, refs: list[MailboxRef]) -> list[Alert]:
    by_key = {ref.key: ref for ref in refs}
    with factory() as session:
        query = select(MailboxStatus).where(
            MailboxStatus.last_error != "",
            MailboxStatus.alerted_at.is_(None),
            or_(MailboxStatus.login_failed, MailboxStatus.failures >= FAILURES_BEFORE_ALERT),
        )
        rows = [row for row in session.scalars(query) if row.mailbox in by_key]
    return [_compose(env, by_key[row.mailbox], row) for row in rows]


def _compose(env: Environment, ref: MailboxRef, status: MailboxStatus) -> Alert:
    settings = ref.campaign.settings
    since = status.last_success_at or status.last_error_at
    body = env.get_template(TEMPLATE).render(
        organizer=settings.organizer,
        campaign_name=settings.name,
        group_label=ref.settings.label,
        account=ref.account,
        since=_local(ref, since) if since else "首次运行",
        failures=status.failures,
        error=status.last_error,
        login=status.login_failed,
    )
    problem = "无法登录" if status.login_failed else "无法连接"
    return Alert(status.id, ref, f"【请处理】收件邮箱 {ref.account} {problem}", body)


def _local(ref: MailboxRef, moment: datetime) -> str:
    return moment.astimezone(ref.campaign.zone).strftime("%Y-%m-%d %H:%M")


def _deliver(
    alert: Alert,
    recipients: tuple[str, ...],
    refs: list[MailboxRef],
    transports: Callable[[str], Transport],
    now: datetime,
) -> bool:
    """Through the campaign's other accounts first, then any other, the failing one last."""
    accounts = [r.account for r in refs if r.campaign is alert.ref.campaign] + [
        r.account for r in refs
    ]
    ordered = [a for a in dict.fromkeys(accounts) if a != alert.ref.account] + [alert.ref.account]
    for account in ordered:
        try:
            for recipient in recipients:
                raw, message_id = _mail(alert, account, recipient, now)
                transports(account).send(account, recipient, raw, message_id)
        except SendError as error:
            log.warning("alert for %s not sent through %s: %s", alert.ref.key, account, error)
            continue
        log.error("%s cannot be read; organizers told through %s", alert.ref.key, account)
        return True
    return False


def _mark(factory: sessionmaker[Session], status_id: int, now: datetime) -> None:
    with transaction(factory) as session:
        row = session.get_one(MailboxStatus, status_id)
        row.alerted_at = now


def _mail(alert: Alert, sender: str, recipient: str, now: datetime) -> tuple[bytes, str]:
    settings = alert.ref.campaign.settings
    display = settings.organizer or settings.name
    message, message_id = organizer_mail(
        display, sender, recipient, alert.subject, now, "alert", alert.body
    )
    return message.as_bytes(), message_id
