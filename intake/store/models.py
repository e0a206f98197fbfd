"""The ledger's tables as SQLAlchemy 2 typed mappings.

Every message that reaches a mailbox gets one `Message` row, found again by the SHA-256 of
its raw bytes; where it was seen is kept apart in `Location` rows, so a rescan or a copy in
the other group's mailbox adds a location, never a second message. What a school holds is
in `Entry` rows, one per version of a file; replies wait in `Outbox`.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; times must carry a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class PackedBytes(TypeDecorator[bytes]):
    """Bytes kept zlib-compressed behind a marker (a stored reply: text and base64 that shrink
    by a third); a value written before, without the marker, is given back as it is. Raw mail
    never starts with the marker's NUL byte."""

    impl = LargeBinary
    cache_ok = True
    MARK = b"\x00z"

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return self.MARK + zlib.compress(value, 9)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None or not value.startswith(self.MARK):
            return value
        return zlib.decompress(value[len(self.MARK) :])


class Bounded(TypeDecorator[str]):
    """Text as the engine can hold it. SQLite keeps any text at any length; PostgreSQL refuses
    a NUL character in text and a value longer than its VARCHAR(n). There the NULs are taken
    out and the value is cut to the column's length (in characters, as PostgreSQL counts), so
    a hostile header or file name costs a few characters instead of the whole message.
    Values compared with the column go through the same, so a lookup still finds them."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name == "sqlite":
            return value
        value = value.replace("\x00", "")
        length = getattr(self.impl_instance, "length", None)
        return value[:length] if length else value


class BoundedText(Bounded):
    """Unbounded text: on PostgreSQL, only the NULs are taken out."""

    impl = Text
    cache_ok = True


# UIDs, UIDVALIDITY (unsigned 32-bit) and sizes: BIGINT on PostgreSQL, where INTEGER stops at
# 2**31; SQLite's INTEGER already holds 64 bits.
Wide = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Message(Base):
    """One message in the ledger, with the decision taken on it."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(Bounded(64), unique=True)
    message_id: Mapped[str] = mapped_column(Bounded(998), index=True)
    campaign: Mapped[str] = mapped_column(Bounded(64), index=True)
    group: Mapped[str] = mapped_column(Bounded(64))
    # The campaign's stage the message was judged in (its files' kinds, else the date).
    stage: Mapped[str] = mapped_column(Bounded(64), default="")
    mailbox: Mapped[str] = mapped_column(Bounded(320))  # where it was first seen
    received_at: Mapped[datetime]  # server receive time: deadlines are judged on it
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw_path: Mapped[str] = mapped_column(Bounded(1024))
    size: Mapped[int] = mapped_column(Wide)
    sender: Mapped[str] = mapped_column(Bounded(320), index=True)
    sender_name: Mapped[str] = mapped_column(Bounded(255), default="")
    subject: Mapped[str] = mapped_column(BoundedText, default="")
    decision: Mapped[str] = mapped_column(Bounded(16), index=True)
    reasons: Mapped[list[str]] = mapped_column(default=list)
    warnings: Mapped[list[str]] = mapped_column(default=list)
    school: Mapped[str] = mapped_column(Bounded(255), default="")
    kinds: Mapped[list[str]] = mapped_column(default=list)
    receipt: Mapped[str] = mapped_column(Bounded(32), default="")
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    error: Mapped[str] = mapped_column(BoundedText, default="")

    locations: Mapped[list[Location]] = relationship(
        back_populates="message", order_by="Location.id"
    )
    attachments: Mapped[list[StoredAttachment]] = relationship(back_populates="message")
    findings: Mapped[list[FindingRow]] = relationship(back_populates="message")


class Location(Base):
    """Where a message was seen: mailbox, folder and IMAP UID under one UIDVALIDITY."""

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("mailbox", "folder", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    mailbox: Mapped[str] = mapped_column(Bounded(320))
    folder: Mapped[str] = mapped_column(Bounded(255))
    uidvalidity: Mapped[int] = mapped_column(Wide)  # IMAP's are unsigned 32-bit
    uid: Mapped[int] = mapped_column(Wide)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship(back_populates="locations")


class StoredAttachment(Base):
    """A file a message carried, archived by SHA-256, with what was made of it."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(Bounded(1024))
    stored_path: Mapped[str] = mapped_column(Bounded(1024))
    sha256: Mapped[str] = mapped_column(Bounded(64))
    size: Mapped[int] = mapped_column(Wide)
    content_type: Mapped[str] = mapped_column(Bounded(255))
    kind: Mapped[str] = mapped_column(Bounded(64), default="")
    school: Mapped[str] = mapped_column(Bounded(255), default="")
    slot: Mapped[str] = mapped_column(Bounded(64), default="")
    outcome: Mapped[str] = mapped_column(Bounded(16), default="")
    # What opening the document found: fonts, sizes, margins, length, signatories, pages.
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The archive it was unpacked from ("材料.zip"); "" for a file attached directly.
    source: Mapped[str] = mapped_column(Bounded(1024), default="")

    message: Mapped[Message] = relationship(back_populates="attachments")


class LargeFile(Base):
    """A file sent as a QQ 超大附件 link, and whether intake has downloaded it yet.

    Until it is downloaded, the link is the submission's only copy, and it expires."""

    __tablename__ = "large_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    # The file row it stands for; none when the link was not kept (mode "ask").
    attachment_pk: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    campaign: Mapped[str] = mapped_column(Bounded(64))
    filename: Mapped[str] = mapped_column(Bounded(1024))
    size_text: Mapped[str] = mapped_column(Bounded(32), default="")
    expires_text: Mapped[str] = mapped_column(Bounded(64), default="")
    expires_at: Mapped[datetime | None]
    url: Mapped[str] = mapped_column(BoundedText)  # holds an access code: never logged
    # pending → downloaded; or failed (given up, the school was asked to send it again);
    # asked: not kept, the school was asked for an attachment (mode "ask")
    state: Mapped[str] = mapped_column(Bounded(16), index=True, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    downloaded_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(BoundedText, default="")


class Entry(Base):
    """One version of a file a school holds for a kind: what the judges will receive."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("campaign", "group", "school", "kind", "slot", "version"),
        Index("ix_entries_school", "campaign", "school", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(Bounded(64))
    group: Mapped[str] = mapped_column(Bounded(64))
    school: Mapped[str] = mapped_column(Bounded(255))
    kind: Mapped[str] = mapped_column(Bounded(64))
    slot: Mapped[str] = mapped_column(Bounded(64))
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(default=True)
    filename: Mapped[str] = mapped_column(Bounded(1024))
    received_at: Mapped[datetime]
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    attachment_pk: Mapped[int] = mapped_column(ForeignKey("attachments.id"))


class RegistrationRow(Base):
    """One row of a registration table: a registered contact or a registered case.

    A unit's newer table of the same kind replaces its rows: the older ones stay, no longer
    current, so the ledger shows what was registered when.
    """

    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_current", "campaign", "kind", "current"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(Bounded(64))
    kind: Mapped[str] = mapped_column(Bounded(64))
    record: Mapped[str] = mapped_column(Bounded(16))  # "contact" or "case"
    submitter: Mapped[str] = mapped_column(Bounded(255))  # the unit that sent the table
    unit: Mapped[str] = mapped_column(Bounded(255))  # the 单位 the row names
    district: Mapped[str] = mapped_column(Bounded(255), default="")  # its county (区域)
    level: Mapped[str] = mapped_column(Bounded(16))  # school, district or direct
    row: Mapped[int] = mapped_column(Integer)  # the row number a person sees in the file
    title: Mapped[str] = mapped_column(BoundedText, default="")
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    current: Mapped[bool] = mapped_column(default=True)
    registered_at: Mapped[datetime]  # the server receive time of the message
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    attachment_pk: Mapped[int] = mapped_column(ForeignKey("attachments.id"))


class FindingRow(Base):
    """One rule outcome on a message or one of its files: the audit trail of a decision."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    attachment_position: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(Bounded(64))
    code: Mapped[str] = mapped_column(Bounded(64))
    severity: Mapped[str] = mapped_column(Bounded(16))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)

    message: Mapped[Message] = relationship(back_populates="findings")


class OutboxReply(Base):
    """A reply waiting to be sent, being sent, sent, or held back, with its SMTP history."""

    __tablename__ = "outbox"
    # Every poll counts each account's replies of the last 24 hours: without this index it
    # read every reply ever sent, and an idle poll grew slower all season.
    __table_args__ = (Index("ix_outbox_state_sent_at", "state", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    campaign: Mapped[str] = mapped_column(Bounded(64))
    account: Mapped[str] = mapped_column(Bounded(320))  # the mailbox that sends it
    recipient: Mapped[str] = mapped_column(Bounded(320), index=True)
    reply_message_id: Mapped[str] = mapped_column(Bounded(255), unique=True)
    subject: Mapped[str] = mapped_column(BoundedText)
    raw: Mapped[bytes] = mapped_column(PackedBytes)  # the whole reply, compressed
    # pending → sending → sent; or held (budget), failed (gave up), unknown (died mid-send)
    state: Mapped[str] = mapped_column(Bounded(16), index=True)
    # The process that set it `sending` (its lease holder name): only a reply whose process
    # is gone may be declared `unknown`.
    claimed_by: Mapped[str] = mapped_column(Bounded(255), default="", server_default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    smtp_response: Mapped[str] = mapped_column(BoundedText, default="")
    last_error: Mapped[str] = mapped_column(BoundedText, default="")


class Cursor(Base):
    """The highest UID fully recorded in one folder, valid under one UIDVALIDITY."""

    __tablename__ = "cursors"
    __table_args__ = (UniqueConstraint("mailbox", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(Bounded(320))
    folder: Mapped[str] = mapped_column(Bounded(255))
    uidvalidity: Mapped[int] = mapped_column(Wide)
    last_uid: Mapped[int] = mapped_column(Wide, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MailboxStatus(Base):
    """How the last polls of one mailbox went: what the digest tells organizers."""

    __tablename__ = "mailbox_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(Bounded(160), unique=True)  # "campaign/group"
    account: Mapped[str] = mapped_column(Bounded(320))
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    # "" once a poll succeeds again
    last_error: Mapped[str] = mapped_column(BoundedText, default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row; 0 after a success
    login_failed: Mapped[bool] = mapped_column(default=False)  # the last failure was the login
    alerted_at: Mapped[datetime | None]  # organizers told of this run of failures


class DigestRun(Base):
    """One day's digest of one campaign: sent once, whatever restarts in between."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("campaign", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(Bounded(64))
    day: Mapped[str] = mapped_column(Bounded(10))  # the campaign's local date, YYYY-MM-DD
    covers_from: Mapped[datetime | None]  # messages recorded since (the previous digest)
    covers_to: Mapped[datetime]
    state: Mapped[str] = mapped_column(Bounded(16))  # sent, failed
    recipients: Mapped[list[str]] = mapped_column(default=list)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(BoundedText, default="")


class Action(Base):
    """Something a person or a re-run did to a recorded message: an override, a reprocessing,
    a retry. Append-only: a later action never changes an earlier one."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(Bounded(16))  # override, reprocess, retry
    by: Mapped[str] = mapped_column(Bounded(64))  # the OS user who ran the command
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(BoundedText, default="")
    old_decision: Mapped[str] = mapped_column(Bounded(16))
    new_decision: Mapped[str] = mapped_column(Bounded(16))
    old_reasons: Mapped[list[str]] = mapped_column(default=list)
    new_reasons: Mapped[list[str]] = mapped_column(default=list)
    notified: Mapped[bool] = mapped_column(default=False)


class Lease(Base):
    """Who does a piece of work shared by several `intake run` processes, until when.

    `mailbox:<campaign/group>` polls that mailbox, `outbox` sends replies, digests and
    alerts, `process:<holder>` says the holder is alive. A holder renews its leases well
    before they expire; another process takes one over once it has expired, or at once
    when its holder is a process of this machine that no longer runs."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(Bounded(200), primary_key=True)
    holder: Mapped[str] = mapped_column(Bounded(255))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
