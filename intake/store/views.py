"""Read-only views of the ledger for people: `intake messages` and its JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from intake.campaigns.campaign import Campaign
from intake.rules.registration import shortfalls
from intake.store import ledger
from intake.store.models import LargeFile, Message, OutboxReply, RegistrationRow


def ledger_rows(
    factory: sessionmaker[Session], campaign: str | None = None
) -> list[dict[str, Any]]:
    """Every message, oldest first, with where it was found and what was decided."""
    with factory() as session:
        query = select(Message).options(selectinload(Message.locations)).order_by(Message.id)
        if campaign:
            query = query.where(Message.campaign == campaign)
        replies: dict[int, OutboxReply] = {}
        for reply in session.scalars(select(OutboxReply).order_by(OutboxReply.id)):
            replies.setdefault(reply.message_pk, reply)  # the answer, not a later follow-up
        links: dict[int, list[dict[str, Any]]] = {}
        for file in session.scalars(select(LargeFile).order_by(LargeFile.id)):
            links.setdefault(file.message_pk, []).append(_large_file(file))
        return [
            {**_row(message, replies.get(message.id)), "large_files": links.get(message.id, [])}
            for message in session.scalars(query)
        ]


def _large_file(file: LargeFile) -> dict[str, Any]:
    """A 超大附件 kept as a file: until it is downloaded, its expiry is what matters."""
    return {
        "filename": file.filename,
        "size": file.size_text,
        "state": file.state,
        "expires_at": file.expires_at.isoformat() if file.expires_at else "",
        "expires_text": file.expires_text,
        "error": file.last_error,
    }


def _row(message: Message, reply: OutboxReply | None) -> dict[str, Any]:
    first = message.locations[0] if message.locations else None
    return {
        "id": message.id,
        "receipt": message.receipt,
        "message_id": message.message_id,
        "campaign": message.campaign,
        "group": message.group,
        "stage": message.stage,
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


def registrations(factory: sessionmaker[Session], campaign: Campaign) -> dict[str, Any]:
    """The registered contacts and cases of a campaign, and who is below a minimum."""
    with factory() as session:
        query = (
            select(RegistrationRow)
            .where(RegistrationRow.campaign == campaign.id, RegistrationRow.current.is_(True))
            .order_by(RegistrationRow.id)
        )
        rows = [_registration(row) for row in session.scalars(query)]
        short = shortfalls(campaign, ledger.registered(session, campaign.id))
    return {
        "campaign": campaign.id,
        "contacts": [row for row in rows if row["record"] == "contact"],
        "cases": [row for row in rows if row["record"] == "case"],
        "shortfalls": [vars(item) for item in short],
    }


def _registration(row: RegistrationRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "record": row.record,
        "submitter": row.submitter,
        "unit": row.unit,
        "district": row.district,
        "level": row.level,
        "row": row.row,
        "title": row.title,
        "values": dict(row.values),
        "registered_at": row.registered_at.isoformat(),
        "message": row.message_pk,
    }
