"""Plain data shared by every layer: what a message is at each step of its way.

Everything here is frozen and free of I/O so that rules can be pure functions of it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Decision(enum.StrEnum):
    """The final state of one message in the ledger."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"


class Severity(enum.StrEnum):
    """How much a finding weighs: ignore the message, reject it or a file, warn, or just note."""

    IGNORE = "ignore"
    REJECT = "reject"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True)
class RawMail:
    """A message exactly as a mailbox gave it to us, before anything can fail."""

    mailbox: str  # the configured mailbox key, e.g. "shuangliu-2021/primary"
    folder: str
    uidvalidity: int
    uid: int
    received_at: datetime  # server receive time (IMAP INTERNALDATE), timezone-aware
    raw: bytes
    # The whole message's size when the server held more than `raw` (only the header of a
    # message over the size limit is fetched); 0 when `raw` is the whole message.
    size: int = 0

    @property
    def full_size(self) -> int:
        return max(self.size, len(self.raw))


@dataclass(frozen=True)
class LargeFileLink:
    """A QQ 超大附件 (ultra-large attachment) announced in the body instead of attached."""

    filename: str
    size_text: str  # as written, e.g. "128.03M"
    expires_text: str  # as written, e.g. "2021年5月20日 21:59"
    url: str


@dataclass(frozen=True)
class Attachment:
    """One file carried by a message, its name already repaired and decoded."""

    filename: str  # the decoded name as the sender wrote it ("" when there was none)
    content_type: str
    payload: bytes
    inline: bool = False  # an inline part with a Content-ID (signature images and the like)
    # A QQ 超大附件 kept as a file of the message: no payload until it is downloaded.
    link: LargeFileLink | None = None
    # The archive this file was unpacked from ("材料.zip", nested "外层.zip/内层.7z"); "" when
    # it was attached directly.
    source: str = ""


@dataclass(frozen=True)
class ParsedMail:
    """What the deciding steps need from a message, decoded with the Chinese repairs applied."""

    message_id: str  # without angle brackets; "" when the message has none
    sender: str  # bare lower-case address from From ("" when unparseable)
    sender_name: str
    reply_to: str  # bare address to answer (Reply-To, else From)
    to: tuple[str, ...]
    subject: str
    date: datetime | None  # the Date header: the sender's clock, never used for deadlines
    text: str  # the plain-text body, or the HTML body reduced to text
    headers: dict[str, str]  # lower-case header name -> first decoded value
    content_type: str  # of the whole message, e.g. "multipart/mixed"
    attachments: tuple[Attachment, ...] = ()
    links: tuple[LargeFileLink, ...] = ()
    references: tuple[str, ...] = field(default=())  # In-Reply-To and References ids
