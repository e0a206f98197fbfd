"""An organizer's word over the rules: a message accepted or rejected by hand.

The change is recorded with who made it and why (`actions`, append-only), the message's
files are counted or no longer counted as entries, and, only when asked, the school is told.
"""

from __future__ import annotations

import getpass
import os

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.app import App
from intake.domain import Decision
from intake.store import ledger
from intake.store.db import transaction
from intake.store.explain import find_message
from intake.store.models import (
    Action,
    Entry,
    Message,
    OutboxReply,
    RegistrationRow,
    StoredAttachment,
)


class OverrideError(Exception):
    """The message cannot be decided by hand: unknown, or quarantined (retry it instead)."""


def who() -> str:
    """The person at the keyboard, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def decide(app: App, key: str, accept: bool, reason: str, notify: bool) -> Message:
    with transaction(app.intake.factory) as session:
        message = find_message(session, key)
        if message is None:
            raise OverrideError(f"账本中没有 {key}（可用编号、回执号或 Message-ID）")
        if message.decision == str(Decision.QUARANTINED):
            raise OverrideError(f"#{message.id} 在隔离区：请先用 intake quarantine retry 重新处理")
        new = str(Decision.ACCEPTED if accept else Decision.REJECTED)
        old, old_reasons = message.decision, list(message.reasons)
        (admit_files if accept else withdraw_entries)(session, message)
        supersede_kept_back(session, message)
        message.decision = new
        message.reasons = [] if accept else ["organizer"]
        told = notify and app.notify(
            session,
            message,
            "reply_corrected.txt.j2",
            "更正",
            accepted=accept,
            reason=reason,
            previous=old,
        )
        session.add(
            Action(
                message_pk=message.id,
                kind="override",
                by=who(),
                at=app.intake.clock.now(),
                reason=reason,
                old_decision=old,
                new_decision=new,
                old_reasons=old_reasons,
                new_reasons=list(message.reasons),
                notified=bool(told),
            )
        )
        return message


def withdraw_entries(session: Session, message: Message) -> None:
    """The message's files and registered rows no longer count; in each slot the newest file
    of a message still accepted counts again."""
    entries = list(
        session.scalars(
            select(Entry).where(Entry.message_pk == message.id, Entry.current.is_(True))
        )
    )
    for entry in entries:
        entry.current = False
        _recount_slot(session, entry)
    for file in session.scalars(
        select(StoredAttachment).where(
            StoredAttachment.message_pk == message.id, StoredAttachment.outcome == "accepted"
        )
    ):
        file.outcome = "rejected"
    for row in session.scalars(
        select(RegistrationRow).where(
            RegistrationRow.message_pk == message.id, RegistrationRow.current.is_(True)
        )
    ):
        row.current = False


def _recount_slot(session: Session, entry: Entry) -> None:
    """Make the newest-received entry of the slot from an accepted message current."""
    newest = session.scalar(
        select(Entry)
        .join(Message, Message.id == Entry.message_pk)
        .where(
            ledger.slot_of(entry).holds(),
            Entry.id != entry.id,
            Message.decision == str(Decision.ACCEPTED),
        )
        .order_by(Entry.received_at.desc(), Entry.version.desc())
        .limit(1)
    )
    if newest is not None:
        newest.current = True


def supersede_kept_back(session: Session, message: Message) -> None:
    """Replies kept back during a replay were written for the old decision: never send them."""
    for reply in session.scalars(
        select(OutboxReply).where(
            OutboxReply.message_pk == message.id, OutboxReply.state == "suppressed"
        )
    ):
        reply.state = "superseded"


def answered(session: Session, message: Message) -> bool:
    """Whether the school was (perhaps) sent an answer: only then is a correction due."""
    states = ("sent", "unknown", "sending")
    query = select(OutboxReply.id).where(
        OutboxReply.message_pk == message.id, OutboxReply.state.in_(states)
    )
    return session.scalar(query.limit(1)) is not None


def admit_files(session: Session, message: Message) -> None:
    """Each file of the message that was named for a kind and a school counts, as the newest
    version of its slot."""
    files = session.scalars(
        select(StoredAttachment).where(
            StoredAttachment.message_pk == message.id,
            StoredAttachment.kind != "",
            StoredAttachment.school != "",
            StoredAttachment.outcome != "accepted",
        )
    )
    for file in files:
        add_newest_entry(session, message, file, file.school, file.kind, file.slot or "1")
        file.outcome = "accepted"


def add_newest_entry(
    session: Session, message: Message, file: StoredAttachment, school: str, kind: str, slot: str
) -> None:
    """The file as a new version of its slot (numbers are never reused). It counts unless a
    file received later already counts in that slot."""
    place = ledger.Slot(message.campaign, message.group, school, kind, slot)
    latest = session.scalar(select(func.max(Entry.version)).where(place.holds()))
    later = session.scalar(
        select(Entry.id).where(
            place.holds(), Entry.current.is_(True), Entry.received_at > message.received_at
        )
    )
    ledger.add_entry(session, message, file, place, (latest or 0) + 1, current=later is None)
