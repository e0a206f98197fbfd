"""Reading and writing the ledger: the queries the flow needs, each in the caller's session.

Nothing here commits; the caller's transaction decides, so a message, its files, findings,
entries and reply are recorded together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from intake.campaigns.campaign import Campaign
from intake.campaigns.roster import RosterSchool
from intake.domain import LargeFileLink, RawMail
from intake.mail.large_files import parse_expiry
from intake.rules.base import Finding, HeldFile, RegisteredRow
from intake.rules.registration import NewRow
from intake.store.models import (
    Cursor,
    Entry,
    FindingRow,
    LargeFile,
    Location,
    MailboxStatus,
    Message,
    OutboxReply,
    RegistrationRow,
    StoredAttachment,
)


def message_by_sha(session: Session, sha: str) -> Message | None:
    return session.scalar(select(Message).where(Message.sha256 == sha))


def message_by_message_id(
    session: Session, message_id: str, before: int | None = None
) -> Message | None:
    """The first message recorded with this Message-ID (before ledger id `before`, if given)."""
    if not message_id:
        return None
    query = select(Message).where(Message.message_id == message_id).order_by(Message.id)
    if before is not None:
        query = query.where(Message.id < before)
    return session.scalars(query).first()


def add_location(session: Session, message: Message, raw: RawMail) -> bool:
    """Note where the message was seen; False when this exact place is already known."""
    known = session.scalar(
        select(Location.id).where(
            Location.mailbox == raw.mailbox,
            Location.folder == raw.folder,
            Location.uidvalidity == raw.uidvalidity,
            Location.uid == raw.uid,
        )
    )
    if known is not None:
        return False
    session.add(
        Location(
            message=message,
            mailbox=raw.mailbox,
            folder=raw.folder,
            uidvalidity=raw.uidvalidity,
            uid=raw.uid,
        )
    )
    return True


def holdings(
    session: Session,
    campaign: str,
    group: str,
    schools: Iterable[str],
    leaving_out: int | None = None,
) -> dict[str, tuple[HeldFile, ...]]:
    """The current version of every file each school holds, apart from the files of message
    `leaving_out` (a message being judged again)."""
    wanted = sorted(set(schools))
    if not wanted:
        return {}
    query = select(Entry).where(
        Entry.campaign == campaign,
        Entry.group == group,
        Entry.school.in_(wanted),
        Entry.current.is_(True),
    )
    if leaving_out is not None:
        query = query.where(Entry.message_pk != leaving_out)
    rows = session.scalars(query)
    held: dict[str, list[HeldFile]] = {}
    for row in rows:
        file = HeldFile(row.kind, row.slot, row.version, row.filename, row.received_at)
        held.setdefault(row.school, []).append(file)
    return {school: tuple(files) for school, files in held.items()}


@dataclass(frozen=True)
class Slot:
    """One place a school holds files in: a kind, and its number for kinds with several."""

    campaign: str
    group: str
    school: str
    kind: str
    slot: str

    def holds(self) -> ColumnElement[bool]:
        """The condition selecting the entries of this slot, every version."""
        return and_(
            Entry.campaign == self.campaign,
            Entry.group == self.group,
            Entry.school == self.school,
            Entry.kind == self.kind,
            Entry.slot == self.slot,
        )


def slot_of(entry: Entry) -> Slot:
    return Slot(entry.campaign, entry.group, entry.school, entry.kind, entry.slot)


def add_entry(
    session: Session,
    message: Message,
    attachment: StoredAttachment,
    slot: Slot,
    version: int,
    current: bool = True,
) -> Entry:
    """Record a file as a version of a slot; a current one retires the slot's others."""
    entry = Entry(
        campaign=slot.campaign,
        group=slot.group,
        school=slot.school,
        kind=slot.kind,
        slot=slot.slot,
        version=version,
        current=current,
        filename=attachment.filename,
        received_at=message.received_at,
        message_pk=message.id,
        attachment_pk=attachment.id,
    )
    session.add(entry)
    session.flush()
    if current:
        retire_previous(session, entry)
    return entry


def retire_previous(session: Session, entry: Entry) -> None:
    """A new version makes the earlier versions of the same slot no longer current."""
    earlier = session.scalars(
        select(Entry).where(slot_of(entry).holds(), Entry.current.is_(True), Entry.id != entry.id)
    )
    for row in earlier:
        row.current = False


def registered(
    session: Session, campaign: str, leaving_out: int | None = None
) -> tuple[RegisteredRow, ...]:
    """The current rows of every registration table of a campaign, apart from those of
    message `leaving_out` (a message being judged again)."""
    query = select(RegistrationRow).where(
        RegistrationRow.campaign == campaign, RegistrationRow.current.is_(True)
    )
    if leaving_out is not None:
        query = query.where(RegistrationRow.message_pk != leaving_out)
    rows = session.scalars(query.order_by(RegistrationRow.id))
    return tuple(
        RegisteredRow(r.kind, r.submitter, r.unit, r.district, r.level, r.row, r.title)
        for r in rows
    )


def contact_senders(session: Session, campaign: Campaign) -> dict[str, RosterSchool]:
    """The QQ addresses of registered contacts (Annex 1's QQ号), each with the contact's unit:
    mail from a county's registered contact is known to be the county's."""
    columns = {
        key: [column.name for column in kind.columns if column.format == "qq"]
        for key, kind in campaign.kinds.items()
        if kind.records == "contact"
    }
    if not any(columns.values()):
        return {}
    rows = session.scalars(
        select(RegistrationRow).where(
            RegistrationRow.campaign == campaign.id,
            RegistrationRow.kind.in_(list(columns)),
            RegistrationRow.current.is_(True),
        )
    )
    senders = {}
    for row in rows:
        for column in columns[row.kind]:
            number = "".join(ch for ch in str(row.values.get(column, "")) if ch.isdigit())
            if number:
                unit = RosterSchool(row.unit, "", frozenset(), row.level, row.district)
                senders[f"{number}@qq.com"] = unit
    return senders


def add_large_file(
    session: Session,
    message: Message,
    attachment: StoredAttachment | None,
    link: LargeFileLink,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    """Note a 超大附件 with its expiry as the school's mail gave it: to download when it was
    kept as a file, else as asked for (the school was asked to send an attachment)."""
    session.add(
        LargeFile(
            message_pk=message.id,
            attachment_pk=attachment.id if attachment is not None else None,
            state="pending" if attachment is not None else "asked",
            campaign=message.campaign,
            filename=link.filename,
            size_text=link.size_text,
            expires_text=link.expires_text,
            expires_at=parse_expiry(link.expires_text, zone, message.received_at),
            url=link.url,
            next_attempt_at=now,
        )
    )


def register_rows(
    session: Session,
    message: Message,
    tables: Iterable[tuple[str, str]],
    attachment_pk: dict[int, int],
    rows: list[NewRow],
) -> None:
    """Record the rows of accepted tables, given as (kind, submitter); each retires the rows
    its sender registered with an earlier table of that kind."""
    for kind, submitter in sorted(set(tables)):
        earlier = session.scalars(
            select(RegistrationRow).where(
                RegistrationRow.campaign == message.campaign,
                RegistrationRow.kind == kind,
                RegistrationRow.submitter == submitter,
                RegistrationRow.current.is_(True),
            )
        )
        for row in earlier:
            row.current = False
    for new in rows:
        session.add(
            RegistrationRow(
                campaign=message.campaign,
                kind=new.kind,
                record=new.record,
                submitter=new.submitter,
                unit=new.unit,
                district=new.district,
                level=new.level,
                row=new.row,
                title=new.title,
                values=new.values,
                registered_at=message.received_at,
                message_pk=message.id,
                attachment_pk=attachment_pk[new.position],
            )
        )


def add_findings(session: Session, message: Message, findings: Iterable[Finding]) -> None:
    for finding in findings:
        session.add(
            FindingRow(
                message=message,
                attachment_position=finding.position,
                rule=finding.rule,
                code=finding.code,
                severity=str(finding.severity),
                params=dict(asdict(finding)["params"]),
            )
        )


def cursor(session: Session, mailbox: str, folder: str) -> Cursor | None:
    return session.scalar(select(Cursor).where(Cursor.mailbox == mailbox, Cursor.folder == folder))


def advance_cursor(session: Session, mailbox: str, folder: str, uidvalidity: int, uid: int) -> None:
    """Move the cursor forward (never back), or restart it under a new UIDVALIDITY."""
    row = cursor(session, mailbox, folder)
    if row is None:
        session.add(Cursor(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, last_uid=uid))
    elif row.uidvalidity != uidvalidity:
        row.uidvalidity, row.last_uid = uidvalidity, uid
    elif uid > row.last_uid:
        row.last_uid = uid


def replies_since(session: Session, recipient: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count(OutboxReply.id)).where(
                OutboxReply.recipient == recipient,
                OutboxReply.created_at >= since,
                OutboxReply.state.not_in(("held", "suppressed")),
            )
        )
        or 0
    )


def note_poll(
    session: Session, mailbox: str, account: str, at: datetime, error: str = "", login: bool = False
) -> MailboxStatus:
    """Record how a poll of a mailbox went: its last success, or its error (`login`: the
    server refused the login) and how many polls in a row have failed."""
    row = mailbox_status(session, mailbox)
    if row is None:
        row = MailboxStatus(mailbox=mailbox, account=account, last_error="", failures=0)
        session.add(row)
    row.last_poll_at = at
    if error:
        row.last_error, row.last_error_at = error, at
        row.failures, row.login_failed = (row.failures or 0) + 1, login
    else:
        row.last_success_at, row.last_error = at, ""
        row.failures, row.login_failed, row.alerted_at = 0, False, None
    return row


def mailbox_status(session: Session, mailbox: str) -> MailboxStatus | None:
    return session.scalar(select(MailboxStatus).where(MailboxStatus.mailbox == mailbox))
