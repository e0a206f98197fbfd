"""What every rule reads (the facts of one message) and what it returns (findings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from intake.archives.expand import Opened
from intake.campaigns.campaign import Campaign
from intake.campaigns.classify import FileClaim
from intake.documents.inspect import Inspection
from intake.domain import ParsedMail, Severity


@dataclass(frozen=True)
class HeldFile:
    """A file a school already holds (the current version of one slot of one kind)."""

    kind: str
    slot: str
    version: int
    filename: str
    received_at: datetime


@dataclass(frozen=True)
class RegisteredRow:
    """A row of a registration table already on record (the current version of its table)."""

    kind: str
    submitter: str  # the unit that sent the table
    unit: str  # the 单位 the row names
    district: str  # the county (区域) it belongs to
    level: str  # "school", "district" or "direct"
    row: int
    title: str  # a case's title; "" for a contact


@dataclass(frozen=True)
class MessageFacts:
    """Everything the rules may look at for one message; read from the ledger beforehand."""

    mail: ParsedMail
    received_at: datetime
    campaign: Campaign
    group: str
    claims: tuple[FileClaim, ...]
    own_accounts: frozenset[str]
    # Ledger id of an earlier message with the same Message-ID but other bytes, if any.
    same_message_id_as: int | None = None
    # What each school named in this message already holds: school -> held files.
    holdings: dict[str, tuple[HeldFile, ...]] = field(default_factory=dict)
    # The rows of the campaign's registration tables on record before this message.
    registered: tuple[RegisteredRow, ...] = ()
    # What opening each document found, by attachment position.
    inspections: dict[int, Inspection] = field(default_factory=dict)
    # What became of each attached archive, by its position.
    archives: dict[int, Opened] = field(default_factory=dict)
    # The message's size in bytes as the server counted it, and the configured limits
    # (0: no limit).
    size: int = 0
    max_size: int = 0
    max_attachment: int = 0

    def documents(self) -> list[FileClaim]:
        return [claim for claim in self.claims if claim.role == "document"]


@dataclass(frozen=True)
class Finding:
    """One thing a rule found: a stable code, how much it weighs, and what it was about."""

    rule: str
    code: str
    severity: Severity
    params: dict[str, Any] = field(default_factory=dict)
    position: int | None = None  # the attachment it concerns; None for the whole message


class MessageRule(Protocol):
    """A check on the whole message. Returns its findings, usually none or one."""

    name: str

    def check(self, facts: MessageFacts) -> list[Finding]: ...
