"""Messages whose handling failed: listed for an admin, and handled again once fixed.

A retry reads the archived raw bytes, so nothing needs to be fetched again; the message keeps
its ledger id and receipt number. One that fails again stays in quarantine with its new error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from intake.app import App
from intake.domain import Decision
from intake.flow import retry
from intake.overrides import who
from intake.store.db import transaction
from intake.store.models import Action, Message


@dataclass(frozen=True)
class Retried:
    id: int
    receipt: str
    decision: str  # what it is now
    note: str = ""  # why it could not be retried at all


def quarantined(app: App) -> list[dict[str, Any]]:
    """Every quarantined message, oldest first, with the last line of its error."""
    with app.intake.factory() as session:
        query = select(Message).where(Message.decision == str(Decision.QUARANTINED))
        return [
            {
                "id": m.id,
                "receipt": m.receipt,
                "campaign": m.campaign,
                "group": m.group,
                "received_at": m.received_at.isoformat(),
                "raw_path": m.raw_path,
                "error": m.error.strip().splitlines()[-1] if m.error.strip() else "",
            }
            for m in session.scalars(query.order_by(Message.id))
        ]


def retry_quarantined(app: App, ids: list[int] | None) -> list[Retried]:
    """Handle the given quarantined messages (all of them for None) again."""
    wanted = [row["id"] for row in quarantined(app)] if ids is None else ids
    return [_retry_one(app, message_id) for message_id in wanted]


def _retry_one(app: App, message_id: int) -> Retried:
    with app.intake.factory() as session:
        query = (
            select(Message).options(selectinload(Message.locations)).where(Message.id == message_id)
        )
        message = session.scalar(query)
    if message is None:
        return Retried(message_id, "", "", "没有这条记录")
    if message.decision != str(Decision.QUARANTINED):
        return Retried(message_id, message.receipt, message.decision, "不在隔离区")
    ref = app.ref_of(message)
    if ref is None or not message.locations:
        return Retried(message_id, message.receipt, message.decision, "其活动或组别已不在配置中")
    done = retry(app.intake, ref, message, message.locations[0])
    with transaction(app.intake.factory) as session:
        session.add(
            Action(
                message_pk=message_id,
                kind="retry",
                by=who(),
                at=app.intake.clock.now(),
                old_decision=str(Decision.QUARANTINED),
                new_decision=done.decision,
                old_reasons=["processing_error"],
                new_reasons=list(done.reasons),
            )
        )
    return Retried(message_id, done.receipt, done.decision)
