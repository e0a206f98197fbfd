"""The outbox: replies are queued with their decision and sent later, at most once each.

A reply is marked `sending` (and committed) before the server sees it and `sent` after the
server's 250. A reply found still `sending` at start belongs to a process that died in
between: the server may have accepted it, so it becomes `unknown` and is never sent again;
the organizers see it in the ledger instead of the school receiving it twice.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from intake.clock import Clock
from intake.config import ConfigError, ReplySettings
from intake.mail.smtp import SendError, Transport
from intake.replies import Reply
from intake.store.db import transaction
from intake.store.ledger import replies_since
from intake.store.models import Message, OutboxReply

log = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def enqueue(
    session: Session,
    message: Message,
    account: str,
    reply: Reply,
    settings: ReplySettings,
    day_start: datetime,
    answer: bool = True,
) -> OutboxReply:
    """Queue a reply in the caller's transaction; held once the sender's daily budget is spent.

    With `answer` False (an inbox being replayed) it is kept back as "suppressed": written,
    never sent unless released later."""
    used = replies_since(session, reply.recipient, day_start)
    state = "pending" if used < settings.max_per_sender_per_day else "held"
    state = state if answer else "suppressed"
    row = OutboxReply(
        message_pk=message.id,
        campaign=message.campaign,
        account=account,
        recipient=reply.recipient,
        reply_message_id=reply.message_id,
        subject=reply.subject,
        raw=reply.raw,
        state=state,
        last_error="daily reply budget reached" if state == "held" else "",
    )
    session.add(row)
    return row


def recover_interrupted(factory: sessionmaker[Session], holder: str) -> int:
    """Replies another process left in `sending` become `unknown`: never sent twice.

    Called by `holder` when it has just taken the outbox over, so that process is gone."""
    interrupted = (OutboxReply.state == "sending", OutboxReply.claimed_by != holder)
    with transaction(factory) as session:
        # Only write when there is something to recover: a start must not need the lock.
        if session.scalar(select(OutboxReply.id).where(*interrupted).limit(1)) is None:
            return 0
        result = session.execute(
            update(OutboxReply)
            .where(*interrupted)
            .values(state="unknown", last_error="process stopped while sending; not resent")
        )
        return int(getattr(result, "rowcount", 0) or 0)


def send_due(
    factory: sessionmaker[Session],
    transports: Callable[[str], Transport],
    settings: ReplySettings,
    clock: Clock,
    *,
    sleep: Callable[[float], None] = time.sleep,
    holder: str = "",
    still_ours: Callable[[], bool] = lambda: True,
) -> SendReport:
    """Send every reply that is due, paced to settings.max_per_minute, as `holder` (the
    process holding the outbox), for as long as `still_ours()`."""
    report = SendReport()
    pause = 60.0 / settings.max_per_minute
    # Accounts whose server refused us this round, or that used their day's budget: QQ stops
    # an account for the rest of the day, so their replies wait for tomorrow.
    used = _sent_in_a_day(factory, clock.now())
    blocked = {account for account, count in used.items() if count >= settings.max_per_day}
    while still_ours() and (row_id := _claim_next(factory, clock.now(), blocked, holder)):
        if report.sent:
            sleep(pause)
        account = _send_one(factory, row_id, transports, settings, clock, report, blocked)
        if account:
            used[account] += 1
            if used[account] >= settings.max_per_day:
                log.warning(
                    "%s: %s replies sent in 24 hours; the others wait", account, used[account]
                )
                blocked.add(account)
    return report


def _sent_in_a_day(factory: sessionmaker[Session], now: datetime) -> Counter[str]:
    """Replies each account sent in the last 24 hours."""
    with factory() as session:
        rows = session.execute(sent_in_a_day_query(now))
        return Counter({account: int(count) for account, count in rows})


def sent_in_a_day_query(now: datetime) -> Select[str, int]:
    """Run before every send: it reads only the last day's replies (ix_outbox_state_sent_at)."""
    return (
        select(OutboxReply.account, func.count())
        .where(OutboxReply.state == "sent", OutboxReply.sent_at > now - timedelta(hours=24))
        .group_by(OutboxReply.account)
    )


def _claim_next(
    factory: sessionmaker[Session], now: datetime, blocked: set[str], holder: str
) -> int | None:
    """The next reply due, marked `sending` by `holder` and committed before it is sent.

    On PostgreSQL the row is locked and rows another process has locked are skipped. The
    update is conditional on the reply still being `pending` besides: SQLite reads the
    candidate before it takes the write lock, and another process may have claimed it in
    between; then the next one is tried."""
    query = (
        select(OutboxReply.id)
        .where(OutboxReply.state == "pending", OutboxReply.next_attempt_at <= now)
        .where(OutboxReply.account.not_in(blocked))
        .order_by(OutboxReply.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    while True:
        with transaction(factory) as session:
            row_id = session.scalar(query)
            if row_id is None:
                return None
            claimed = session.execute(
                update(OutboxReply)
                .where(OutboxReply.id == row_id, OutboxReply.state == "pending")
                .values(state="sending", attempts=OutboxReply.attempts + 1, claimed_by=holder)
            )
            if int(getattr(claimed, "rowcount", 0) or 0) == 1:
                return row_id


def _send_one(
    factory: sessionmaker[Session],
    row_id: int,
    transports: Callable[[str], Transport],
    settings: ReplySettings,
    clock: Clock,
    report: SendReport,
    blocked: set[str],
) -> str:
    """Send one claimed reply; returns its account when the server took it, else ""."""
    with factory() as session:
        row = session.get_one(OutboxReply, row_id)
        account, recipient, raw, reply_id = (
            row.account,
            row.recipient,
            row.raw,
            row.reply_message_id,
        )
    failure: SendError | None = None
    try:
        answer = transports(account).send(account, recipient, raw, reply_id)
    except SendError as error:
        failure = error
    except ConfigError as error:  # the account's code is not set: retry once a human sets it
        failure = SendError(str(error), transient=True)
    except Exception as error:  # e.g. an address smtplib cannot write: this reply cannot go
        log.exception("reply %s cannot be sent", reply_id)
        failure = SendError(f"{type(error).__name__}: {error}", transient=False)
    if failure is not None:
        if failure.transient:
            blocked.add(account)  # a throttled or unreachable server: stop for this round
        _record_failure(factory, row_id, failure, settings, clock, report)
        return ""
    with transaction(factory) as session:
        row = session.get_one(OutboxReply, row_id)
        row.state, row.sent_at, row.smtp_response = "sent", clock.now(), answer
    report.sent += 1
    log.info("reply %s to %s sent: %s", reply_id, recipient, answer)
    return account


def _record_failure(
    factory: sessionmaker[Session],
    row_id: int,
    error: SendError,
    settings: ReplySettings,
    clock: Clock,
    report: SendReport,
) -> None:
    with transaction(factory) as session:
        row = session.get_one(OutboxReply, row_id)
        row.last_error = str(error)
        if error.maybe_sent:
            row.state = "unknown"
            report.failed += 1
        elif error.transient and row.attempts < settings.max_attempts:
            row.state = "pending"
            row.next_attempt_at = clock.now() + timedelta(minutes=2 ** (row.attempts - 1))
            report.retried += 1
        else:
            row.state = "failed"
            report.failed += 1
    log.warning("reply %s not sent (%s): %s", row_id, row.state, error)
