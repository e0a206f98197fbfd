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
from intake.store.models import Action, Entry, Message, StoredAttachment


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
    """The message's files no longer count; the versions they replaced count again."""
    entries = session.scalars(
        select(Entry).where(Entry.message_pk == message.id, Entry.current.is_(True))
    )
    for entry in entries:
        entry.current = False
        earlier = session.scalar(
            select(Entry)
            .where(
                Entry.campaign == entry.campaign,
                Entry.group == entry.group,
                Entry.school == entry.school,
                Entry.kind == entry.kind,
                Entry.slot == entry.slot,
                Entry.version < entry.version,
                Entry.message_pk != message.id,
            )
            .order_by(Entry.version.desc())
            .limit(1)
        )
        if earlier is not None:
            earlier.current = True


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
    """The file as the newest version of its slot; earlier versions' numbers are never reused."""
    latest = session.scalar(
        select(func.max(Entry.version)).where(
            Entry.campaign == message.campaign,
            Entry.group == message.group,
            Entry.school == school,
            Entry.kind == kind,
            Entry.slot == slot,
        )
    )
    entry = Entry(
        campaign=message.campaign,
        group=message.group,
        school=school,
        kind=kind,
        slot=slot,
        version=(latest or 0) + 1,
        filename=file.filename,
        received_at=message.received_at,
        message_pk=message.id,
        attachment_pk=file.id,
    )
    session.add(entry)
    session.flush()
    ledger.retire_previous(session, entry)
