"""Read-only views of the ledger for people: `intake messages` and its JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from intake.store.models import Message, OutboxReply


def ledger_rows(
    factory: sessionmaker[Session], campaign: str | None = None
) -> list[dict[str, Any]]:
    """Every message, oldest first, with where it was found and what was decided."""
    with factory() as session:
        query = select(Message).options(selectinload(Message.locations)).order_by(Message.id)
        if campaign:
            query = query.where(Message.campaign == campaign)
        replies = {row.message_pk: row for row in session.scalars(select(OutboxReply))}
        return [_row(message, replies.get(message.id)) for message in session.scalars(query)]


def _row(message: Message, reply: OutboxReply | None) -> dict[str, Any]:
    first = message.locations[0] if message.locations else None
    return {
        "id": message.id,
        "receipt": message.receipt,
        "message_id": message.message_id,
        "campaign": message.campaign,
        "group": message.group,
        "mailbox": message.mailbox,
        "folder": first.folder if first else "",
        "uidvalidity": first.uidvalidity if first else 0,
        "uid": first.uid if first else 0,
        "seen_in": [f"{loc.mailbox}/{loc.folder}/{loc.uid}" for loc in message.locations],
        "received_at": message.received_at.isoformat(),
        "sender": message.sender,
        "subject": message.subject,
        "decision": message.decision,
        "reasons": list(message.reasons),
        "warnings": list(message.warnings),
        "school": message.school,
        "kind": ",".join(message.kinds),
        "kinds": list(message.kinds),
        "reply": reply.state if reply else "",
        "error": message.error.strip().splitlines()[-1] if message.error else "",
    }
