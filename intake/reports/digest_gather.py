"""The digest's facts, read from the ledger: new messages, holdings, links, replies, polls."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.campaigns.campaign import Campaign
from intake.domain import Decision
from intake.reports.digest_holdings import (
    Held,
    kind_totals,
    missing_kinds,
    quota_issues,
    schools_at_limit,
    unregistered_cases,
)
from intake.reports.digest_model import (
    ActionLine,
    DayCount,
    DeadlineLeft,
    Digest,
    GroupDigest,
    LinkLine,
    MailboxHealth,
    MessageLine,
    ReplyLine,
)
from intake.rules.base import RegisteredRow
from intake.store import ledger
from intake.store.models import (
    Action,
    Entry,
    LargeFile,
    MailboxStatus,
    Message,
    OutboxReply,
)

#: Days shown in the chart of accepted submissions, ending with the digest's day.
CHART_DAYS = 14
#: Reply states that mean the school did not (knowingly) get its answer.
UNSENT_REPLY_STATES = ("failed", "unknown", "held")


def gather(session: Session, campaign: Campaign, since: datetime | None, now: datetime) -> Digest:
    """The digest of `campaign` at `now`: new is what was recorded after `since`."""
    with _no_collection():
        return _gather(session, campaign, since, now)


@contextmanager
def _no_collection() -> Iterator[None]:
    """Python's cycle collector paused while a season's rows are read: tens of thousands of
    objects that all stay alive until the digest is rendered made it run over and over,
    for a third of the time of the whole gather. Nothing here makes cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _gather(session: Session, campaign: Campaign, since: datetime | None, now: datetime) -> Digest:
    local_now = campaign.local(now)
    new = _new_messages(session, campaign, since, now)
    entries = _held(session, campaign)
    registered = ledger.registered(session, campaign.id)
    # The receipts of the messages that made the current entries: joined, not listed as
    # parameters (a season's thousands of ids would pass SQLite's limit of variables).
    receipts = {
        pk: receipt
        for pk, receipt in session.execute(
            select(Message.id, Message.receipt)
            .join(Entry, Entry.message_pk == Message.id)
            .where(Entry.campaign == campaign.id, Entry.current.is_(True))
            .distinct()
        )
    }
    links = _links(session, campaign, since, now)
    replies = _replies(session, campaign)
    groups = tuple(
        _group(campaign, key, new, entries, receipts, registered, links, replies, now)
        for key in campaign.settings.groups
    )
    mailboxes = _mailboxes(session, campaign)
    actions = _actions(session, campaign, since, now)
    empty = (
        not any(g.new_count or g.attention_count for g in groups)
        and not any(box.failing for box in mailboxes)
        and not actions
    )
    return Digest(
        campaign_id=campaign.id,
        campaign_name=campaign.settings.name,
        organizer=campaign.settings.organizer,
        day=local_now.date(),
        since=campaign.local(since) if since is not None else None,
        now=local_now,
        groups=groups,
        quotas=quota_issues(campaign, registered),
        deadlines=_deadlines(campaign, now),
        mailboxes=mailboxes,
        per_day=_per_day(session, campaign, now),
        actions=actions,
        empty=empty,
        unit_word=_unit_word(campaign),
    )


def _unit_word(campaign: Campaign) -> str:
    counties = campaign.settings.limits or any(
        unit.level != "school" for unit in campaign.roster.schools
    )
    return "单位" if counties else "学校"


class NewMessage(NamedTuple):
    """The columns of a new message the digest lists: a season's thousands are read as rows,
    not as ORM objects, in a fraction of the time."""

    group: str
    decision: str
    receipt: str
    received_at: datetime
    sender: str
    school: str
    subject: str
    kinds: list[str]
    reasons: list[str]
    warnings: list[str]
    error: str


def _new_messages(
    session: Session, campaign: Campaign, since: datetime | None, now: datetime
) -> list[NewMessage]:
    query = select(*(getattr(Message, name) for name in NewMessage._fields)).where(
        Message.campaign == campaign.id, Message.recorded_at <= now
    )
    if since is not None:
        query = query.where(Message.recorded_at > since)
    rows = session.execute(query.order_by(Message.received_at, Message.id))
    return [NewMessage._make(row) for row in rows]


def _held(session: Session, campaign: Campaign) -> list[Held]:
    """The current entries of the campaign, in the order they were made."""
    query = (
        select(*(getattr(Entry, name) for name in Held._fields))
        .where(Entry.campaign == campaign.id, Entry.current.is_(True))
        .order_by(Entry.id)
    )
    return [Held._make(row) for row in session.execute(query)]


def _line(campaign: Campaign, message: NewMessage) -> MessageLine:
    kinds = campaign.kinds
    return MessageLine(
        receipt=message.receipt,
        received_at=campaign.local(message.received_at),
        sender=message.sender,
        school=message.school,
        subject=message.subject,
        kinds=tuple(kinds[k].label if k in kinds else k for k in message.kinds),
        reasons=tuple(message.reasons),
        warnings=tuple(message.warnings),
        error=message.error.strip().splitlines()[-1] if message.error.strip() else "",
    )


def _group(
    campaign: Campaign,
    key: str,
    new: list[NewMessage],
    entries: list[Held],
    receipts: dict[int, str],
    registered: tuple[RegisteredRow, ...],
    links: list[tuple[LargeFile, Message]],
    replies: list[UnsentReply],
    now: datetime,
) -> GroupDigest:
    settings = campaign.group(key)
    mine = [message for message in new if message.group == key]

    def decided(decision: Decision) -> tuple[MessageLine, ...]:
        return tuple(_line(campaign, m) for m in mine if m.decision == decision)

    held = [entry for entry in entries if entry.group == key]
    link_lines = sorted(
        (_link(campaign, file, message, now) for file, message in links if message.group == key),
        key=lambda line: line.expires_at.timestamp() if line.expires_at else float("inf"),
    )
    return GroupDigest(
        key=key,
        label=settings.label,
        contact=settings.contact,
        new_accepted=decided(Decision.ACCEPTED),
        new_rejected=decided(Decision.REJECTED),
        new_ignored=decided(Decision.IGNORED),
        new_quarantined=decided(Decision.QUARANTINED),
        warnings=tuple(_line(campaign, m) for m in mine if m.warnings),
        totals=kind_totals(campaign, key, held, entries),
        missing_required=missing_kinds(campaign, key, entries),
        at_case_limit=schools_at_limit(campaign, held),
        unregistered_cases=unregistered_cases(campaign, held, registered, receipts),
        links_pending=tuple(link_lines),
        replies_failed=tuple(_reply(campaign, reply) for reply in replies if reply.group == key),
    )


def _links(
    session: Session, campaign: Campaign, since: datetime | None, now: datetime
) -> list[tuple[LargeFile, Message]]:
    """Links whose file intake does not hold and that still matter: every pending download;
    a failed or asked one while its link has not expired, or when it is new."""
    query = (
        select(LargeFile, Message)
        .join(Message, LargeFile.message_pk == Message.id)
        .where(
            LargeFile.campaign == campaign.id, LargeFile.state.in_(("pending", "failed", "asked"))
        )
        .order_by(LargeFile.id)
    )
    kept = []
    for file, message in session.execute(query):
        is_new = message.recorded_at <= now and (since is None or message.recorded_at > since)
        alive = file.expires_at is not None and file.expires_at > now
        if file.state == "pending" or alive or is_new:
            kept.append((file, message))
    return kept


def _link(campaign: Campaign, file: LargeFile, message: Message, now: datetime) -> LinkLine:
    expires = campaign.local(file.expires_at) if file.expires_at is not None else None
    return LinkLine(
        receipt=message.receipt,
        school=message.school,
        filename=file.filename,
        size=file.size_text,
        state=file.state,
        expires_at=expires,
        expires_text=file.expires_text,
        expired=file.expires_at is not None and file.expires_at <= now,
        error=file.last_error,
    )


class UnsentReply(NamedTuple):
    """A reply that did not go out, with its message's group, receipt and school (and not
    its whole mail, which the digest does not show)."""

    group: str
    receipt: str
    school: str
    recipient: str
    subject: str
    state: str
    last_error: str
    created_at: datetime


def _replies(session: Session, campaign: Campaign) -> list[UnsentReply]:
    """Every reply of the campaign that did not go out: the ledger has no mark for one an
    organizer has dealt with, so each stays listed."""
    query = (
        select(
            Message.group,
            Message.receipt,
            Message.school,
            OutboxReply.recipient,
            OutboxReply.subject,
            OutboxReply.state,
            OutboxReply.last_error,
            OutboxReply.created_at,
        )
        .join(Message, OutboxReply.message_pk == Message.id)
        .where(OutboxReply.campaign == campaign.id, OutboxReply.state.in_(UNSENT_REPLY_STATES))
        .order_by(OutboxReply.id)
    )
    return [UnsentReply._make(row) for row in session.execute(query)]


def _reply(campaign: Campaign, reply: UnsentReply) -> ReplyLine:
    return ReplyLine(
        receipt=reply.receipt,
        school=reply.school,
        recipient=reply.recipient,
        subject=reply.subject,
        state=reply.state,
        error=reply.last_error,
        created_at=campaign.local(reply.created_at),
    )


def _mailboxes(session: Session, campaign: Campaign) -> tuple[MailboxHealth, ...]:
    keys = {f"{campaign.id}/{group}": group for group in campaign.settings.groups}
    rows = {
        row.mailbox: row
        for row in session.scalars(select(MailboxStatus).where(MailboxStatus.mailbox.in_(keys)))
    }
    found = []
    for key, group in keys.items():
        settings = campaign.group(group)
        row = rows.get(key)
        found.append(
            MailboxHealth(
                key=key,
                group_label=settings.label,
                account=settings.mailbox.account,
                last_poll_at=_local(campaign, row.last_poll_at if row else None),
                last_success_at=_local(campaign, row.last_success_at if row else None),
                last_error_at=_local(campaign, row.last_error_at if row else None),
                last_error=row.last_error if row else "",
            )
        )
    return tuple(found)


def _local(campaign: Campaign, moment: datetime | None) -> datetime | None:
    return campaign.local(moment) if moment is not None else None


def _deadlines(campaign: Campaign, now: datetime) -> tuple[DeadlineLeft, ...]:
    today = campaign.local(now).date()
    return tuple(
        DeadlineLeft(
            stage=stage.key,
            label=stage.label,
            deadline=stage.deadline,
            days_left=(stage.deadline - today).days,
            closed=not stage.is_open(now),
        )
        for stage in campaign.stages()
    )


def _per_day(session: Session, campaign: Campaign, now: datetime) -> tuple[DayCount, ...]:
    today = campaign.local(now).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    start = datetime.combine(first, time(0), tzinfo=campaign.zone)
    received = session.scalars(
        select(Message.received_at).where(
            Message.campaign == campaign.id,
            Message.decision == str(Decision.ACCEPTED),
            Message.received_at >= start,
            Message.received_at <= now,
        )
    )
    counts = Counter(campaign.local(moment).date() for moment in received)
    days = (first + timedelta(days=n) for n in range(CHART_DAYS))
    return tuple(DayCount(day, counts.get(day, 0)) for day in days)


def _actions(
    session: Session, campaign: Campaign, since: datetime | None, now: datetime
) -> tuple[ActionLine, ...]:
    """Decisions people made or reprocessing changed, in the digest's span."""
    query = (
        select(Action, Message)
        .join(Message, Message.id == Action.message_pk)
        .where(Message.campaign == campaign.id, Action.at <= now)
        .order_by(Action.id)
    )
    if since is not None:
        query = query.where(Action.at > since)
    return tuple(
        ActionLine(
            message.receipt,
            message.school,
            action.kind,
            action.by,
            action.reason,
            action.old_decision,
            action.new_decision,
            campaign.local(action.at),
        )
        for action, message in session.execute(query)
    )
