"""Sending the organizers' daily digest: once a day per campaign, whatever restarts.

Each day's digest is noted in `digests` with the span it covers; the next one starts where the
last sent one ended, so nothing is reported twice or skipped. A digest that could not be sent
is noted as failed and tried again at the next chance the same day.

Where several processes share the database, only the one holding the outbox sends digests,
and each day's row is claimed (`sending`) before the first recipient is written to: a digest
is sent at most once, and one whose process died while sending is marked `unknown`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from jinja2 import Environment
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.campaigns.campaign import Campaign
from intake.mail.outgoing import organizer_mail
from intake.mail.smtp import SendError, Transport
from intake.reports.digest import gather, render
from intake.store.db import transaction
from intake.store.models import DigestRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """One campaign's digest for one day, rendered and ready to send."""

    campaign: str
    day: date
    since: datetime | None
    now: datetime
    subject: str
    html: str
    text: str


def prepare(
    factory: sessionmaker[Session], env: Environment, campaign: Campaign, now: datetime
) -> Prepared:
    """The digest of everything since the last one sent."""
    day = campaign.local(now).date()
    with factory() as session:
        since = _last_sent(session, campaign.id)
        digest = gather(session, campaign, since, now)
    html, text = render(env, digest)
    subject = f"【每日汇总】{campaign.settings.name} {day.month}月{day.day}日"
    return Prepared(campaign.id, day, since, now, subject, html, text)


def is_due(factory: sessionmaker[Session], campaign: Campaign, now: datetime) -> bool:
    """Past the campaign's digest time today, with recipients, and not yet sent today."""
    settings = campaign.settings.digest
    if not settings.recipients:
        return False
    local = campaign.local(now)
    hour, minute = (int(part) for part in settings.time.split(":"))
    if local.time() < time(hour, minute):
        return False
    with factory() as session:
        return not _sent_on(session, campaign.id, local.date())


def send(
    factory: sessionmaker[Session],
    prepared: Prepared,
    campaign: Campaign,
    transport: Transport,
    again: bool = False,
) -> bool:
    """Send a prepared digest to the campaign's recipients and note the outcome; False when
    it could not be sent, or another process has it. `again` (a person asked for it) sends
    even a day already sent."""
    if not again and not _claim(factory, prepared):
        log.info("%s: the digest of %s is sent by another process", campaign.id, prepared.day)
        return False
    sender = _sender(campaign)
    recipients = list(campaign.settings.digest.recipients)
    error = ""
    for recipient in recipients:
        raw, message_id = _mail(prepared, campaign, sender, recipient)
        try:
            transport.send(sender, recipient, raw, message_id)
        except SendError as failure:
            error = f"{recipient}: {failure}"
            log.error("%s: digest to %s not sent: %s", campaign.id, recipient, failure)
    _note(factory, prepared, recipients, error)
    return not error


def recover_interrupted(factory: sessionmaker[Session]) -> None:
    """Digests another process left in `sending` (it died while writing to the recipients)
    become `unknown`: never sent twice; the next day's covers from the last one sent."""
    with transaction(factory) as session:
        session.execute(
            update(DigestRun)
            .where(DigestRun.state == "sending")
            .values(state="unknown", last_error="process stopped while sending; not resent")
        )


def _claim(factory: sessionmaker[Session], prepared: Prepared) -> bool:
    """Mark the day's digest `sending`, unless it is already sent or being sent."""
    span = {"state": "sending", "covers_from": prepared.since, "covers_to": prepared.now}
    try:
        with transaction(factory) as session:
            row = session.scalar(_day_row(prepared.campaign, prepared.day))
            if row is None:
                session.add(
                    DigestRun(campaign=prepared.campaign, day=prepared.day.isoformat(), **span)
                )
                session.flush()
                return True
            # Conditional on the state as read: of two processes, one claims it.
            claimed = session.execute(
                update(DigestRun)
                .where(DigestRun.id == row.id, DigestRun.state.not_in(SETTLED))
                .values(**span)
            )
            return int(getattr(claimed, "rowcount", 0) or 0) == 1
    except IntegrityError:  # another process inserted the day's row at the same moment
        return False


# A day whose digest is in one of these states is not sent again.
SETTLED = ("sent", "sending", "unknown")


def _day_row(campaign: str, day: date) -> Select[DigestRun]:
    return select(DigestRun).where(DigestRun.campaign == campaign, DigestRun.day == day.isoformat())


def _sender(campaign: Campaign) -> str:
    first = next(iter(campaign.settings.groups.values()))
    return first.mailbox.account.lower()


def _mail(prepared: Prepared, campaign: Campaign, sender: str, recipient: str) -> tuple[bytes, str]:
    display = campaign.settings.organizer or campaign.settings.name
    message, message_id = organizer_mail(
        display,
        sender,
        recipient,
        prepared.subject,
        prepared.now,
        f"digest.{prepared.campaign}",
        prepared.text,
    )
    message.add_alternative(prepared.html, subtype="html", charset="utf-8", cte="base64")
    return message.as_bytes(), message_id


def _note(
    factory: sessionmaker[Session], prepared: Prepared, recipients: list[str], error: str
) -> None:
    with transaction(factory) as session:
        row = session.scalar(_day_row(prepared.campaign, prepared.day))
        if row is None:
            row = DigestRun(campaign=prepared.campaign, day=prepared.day.isoformat())
            session.add(row)
        row.covers_from, row.covers_to = prepared.since, prepared.now
        row.recipients, row.last_error = recipients, error
        row.state = "failed" if error else "sent"
        row.sent_at = None if error else prepared.now


def _last_sent(session: Session, campaign: str) -> datetime | None:
    query = (
        select(DigestRun.covers_to)
        .where(DigestRun.campaign == campaign, DigestRun.state == "sent")
        .order_by(DigestRun.covers_to.desc())
        .limit(1)
    )
    return session.scalar(query)


def _sent_on(session: Session, campaign: str, day: date) -> bool:
    row = session.scalar(_day_row(campaign, day))
    return row is not None and row.state in SETTLED
