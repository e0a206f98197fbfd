"""Judging recorded messages again after a rule or the configuration was corrected.

First the differences are shown (message, old and new decision, reasons, warnings); only with
`apply` are they recorded, as an append-only action, and only with `notify` is the school
told. A message an organizer decided by hand, or one in quarantine, is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.app import App
from intake.domain import Decision
from intake.flow import judge
from intake.overrides import (
    add_newest_entry,
    answered,
    supersede_kept_back,
    who,
    withdraw_entries,
)
from intake.rules.chain import Verdict
from intake.store import ledger
from intake.store.db import transaction
from intake.store.models import Action, Message, StoredAttachment


@dataclass(frozen=True)
class Change:
    """One message whose decision, reasons or warnings come out differently now."""

    id: int
    receipt: str
    old_decision: str
    new_decision: str
    old_reasons: tuple[str, ...]
    new_reasons: tuple[str, ...]
    old_warnings: tuple[str, ...]
    new_warnings: tuple[str, ...]


def changes(
    app: App, campaign: str | None, since: date | None
) -> tuple[list[tuple[Change, Verdict]], list[str]]:
    """Every message whose judgement would change, with its new verdict; and the messages
    that could not be judged again, with why."""
    found, failed = [], []
    for message in _candidates(app, campaign, since):
        ref = app.ref_of(message)
        if ref is None:
            continue
        try:
            _, _, verdict = judge(app.intake, ref, message)
        except Exception as error:  # one unreadable message must not stop the others
            failed.append(f"#{message.id} {message.receipt}: {type(error).__name__}: {error}")
            continue
        change = _difference(message, verdict)
        if change is not None:
            found.append((change, verdict))
    return found, failed


def apply(app: App, found: list[tuple[Change, Verdict]], notify: bool) -> int:
    """Record the new judgements; returns how many schools were told. A school is told only
    when its decision changed and it had been answered before."""
    told = 0
    for change, verdict in found:
        with transaction(app.intake.factory) as session:
            message = session.get(Message, change.id)
            assert message is not None
            due = (
                notify and change.old_decision != change.new_decision and answered(session, message)
            )
            _record(session, message, verdict)
            sent = due and app.notify(
                session,
                message,
                "reply_corrected.txt.j2",
                "更正",
                accepted=verdict.decision is Decision.ACCEPTED,
                reason="规则或配置更正后重新判定",
                previous=change.old_decision,
            )
            told += int(bool(sent))
            session.add(_action(app, change, bool(sent)))
    return told


def _candidates(app: App, campaign: str | None, since: date | None) -> list[Message]:
    decided = (str(Decision.ACCEPTED), str(Decision.REJECTED), str(Decision.IGNORED))
    overridden = select(Action.message_pk).where(Action.kind == "override")
    query = select(Message).where(Message.decision.in_(decided), Message.id.not_in(overridden))
    if campaign is not None:
        query = query.where(Message.campaign == campaign)
    with app.intake.factory() as session:
        messages = list(session.scalars(query.order_by(Message.id)))
    if since is None:
        return messages
    return [m for m in messages if _local_day(app, m) >= since]


def _local_day(app: App, message: Message) -> date:
    ref = app.ref_of(message)
    moment: datetime = message.received_at
    return (ref.campaign.local(moment) if ref is not None else moment).date()


def _difference(message: Message, verdict: Verdict) -> Change | None:
    change = Change(
        message.id,
        message.receipt,
        message.decision,
        str(verdict.decision),
        tuple(message.reasons),
        tuple(verdict.reasons),
        tuple(message.warnings),
        tuple(verdict.warnings),
    )
    same = (change.old_decision, change.old_reasons, change.old_warnings) == (
        change.new_decision,
        change.new_reasons,
        change.new_warnings,
    )
    return None if same else change


def _record(session: Session, message: Message, verdict: Verdict) -> None:
    """The new decision; the message's files and rows counted afresh only if it changed."""
    changed = message.decision != str(verdict.decision)
    if changed:
        withdraw_entries(session, message)
        supersede_kept_back(session, message)
    if changed and verdict.decision is Decision.ACCEPTED:
        _admit(session, message, verdict)
    ledger.add_findings(session, message, verdict.findings)
    message.decision = str(verdict.decision)
    message.reasons, message.warnings = verdict.reasons, verdict.warnings
    if verdict.placements:
        message.school = verdict.placements[0].school
        message.kinds = sorted({p.kind for p in verdict.placements})


def _admit(session: Session, message: Message, verdict: Verdict) -> None:
    files = {
        row.position: row
        for row in session.scalars(
            select(StoredAttachment).where(StoredAttachment.message_pk == message.id)
        )
    }
    for position, row in files.items():
        row.outcome = verdict.outcomes.get(position, row.outcome)
    for placement in verdict.placements:
        placed = files.get(placement.position)
        if placed is not None:
            placed.kind, placed.school, placed.slot = (
                placement.kind,
                placement.school,
                placement.slot,
            )
            add_newest_entry(
                session, message, placed, placement.school, placement.kind, placement.slot
            )
    rows = [row for row in verdict.rows if row.position in files]
    tables = {(row.kind, row.submitter) for row in rows}
    stored = {position: row.id for position, row in files.items()}
    ledger.register_rows(session, message, tables, stored, rows)


def _action(app: App, change: Change, notified: bool) -> Action:
    return Action(
        message_pk=change.id,
        kind="reprocess",
        by=who(),
        at=app.intake.clock.now(),
        reason="",
        old_decision=change.old_decision,
        new_decision=change.new_decision,
        old_reasons=list(change.old_reasons),
        new_reasons=list(change.new_reasons),
        notified=notified,
    )
