"""What the daily digest holds: frozen records, codes kept as codes for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class MessageLine:
    """One message as the digest lists it."""

    receipt: str
    received_at: datetime  # in the campaign's time zone
    sender: str
    school: str
    subject: str
    kinds: tuple[str, ...]  # the kinds' labels
    reasons: tuple[str, ...]  # codes (docs/DECISIONS.md)
    warnings: tuple[str, ...]  # codes
    error: str  # a quarantined message: the last line of its traceback


@dataclass(frozen=True)
class KindTotal:
    """What the schools of a group hold of one kind now."""

    kind: str
    label: str
    required: bool
    max_per_school: int  # 0: no limit
    schools: int  # schools holding at least one current file of it
    files: int  # current files (one per slot; earlier versions not counted)
    roster: int  # the roster's units in the group; 0 without a roster
    roster_holding: int  # of those, the ones holding a current file of it


@dataclass(frozen=True)
class MissingKind:
    """The roster's schools without a current file of a required kind."""

    kind: str
    label: str
    schools: tuple[str, ...]


@dataclass(frozen=True)
class AtLimit:
    """A school holding as many files of a kind as it may (for kinds allowing several)."""

    school: str
    kind: str
    label: str
    count: int
    max: int


@dataclass(frozen=True)
class CaseLine:
    """A current file of a kind matched to registered cases that matches none of them."""

    school: str
    kind: str
    label: str
    filename: str
    received_at: datetime
    receipt: str


@dataclass(frozen=True)
class LinkLine:
    """A 超大附件 link whose file intake does not hold."""

    receipt: str
    school: str
    filename: str
    size: str
    state: str  # pending, failed or asked (models.LargeFile)
    expires_at: datetime | None  # in the campaign's time zone; None when the mail gave none
    expires_text: str
    expired: bool
    error: str


@dataclass(frozen=True)
class ReplyLine:
    """A reply that did not go out, or may not have."""

    receipt: str
    school: str
    recipient: str
    subject: str
    state: str  # failed, unknown or held (models.OutboxReply)
    error: str
    created_at: datetime


@dataclass(frozen=True)
class GroupDigest:
    """One group of a campaign (e.g. 小学组): what is new, where it stands, what needs doing."""

    key: str
    label: str
    contact: str
    new_accepted: tuple[MessageLine, ...]
    new_rejected: tuple[MessageLine, ...]
    new_ignored: tuple[MessageLine, ...]
    new_quarantined: tuple[MessageLine, ...]
    warnings: tuple[MessageLine, ...]  # new messages of any decision with warnings
    totals: tuple[KindTotal, ...]
    missing_required: tuple[MissingKind, ...]
    at_case_limit: tuple[AtLimit, ...]
    unregistered_cases: tuple[CaseLine, ...]
    links_pending: tuple[LinkLine, ...]  # soonest expiry first
    replies_failed: tuple[ReplyLine, ...]

    @property
    def new_count(self) -> int:
        return (
            len(self.new_accepted)
            + len(self.new_rejected)
            + len(self.new_ignored)
            + len(self.new_quarantined)
        )

    @property
    def attention_count(self) -> int:
        """Items a person has to look at: quarantined, warned, links, unsent replies."""
        return (
            len(self.new_quarantined)
            + len(self.warnings)
            + len(self.links_pending)
            + len(self.replies_failed)
        )


@dataclass(frozen=True)
class QuotaIssue:
    """A county or unit whose registered rows are below a limit's minimum or above its maximum."""

    kind: str
    kind_label: str
    record: str  # "case" or "contact"
    holder: str  # the county (per "district") or the unit (per "unit")
    per: str
    level: str  # the level counted; "" for all
    count: int
    min: int
    max: int
    problem: str  # "below" or "above"


@dataclass(frozen=True)
class DeadlineLeft:
    """A stage's deadline seen from the digest's day."""

    stage: str
    label: str
    deadline: date
    days_left: int  # deadline day minus today; 0 on the last day
    closed: bool  # no longer accepted (past the deadline day and its grace)


@dataclass(frozen=True)
class MailboxHealth:
    """How the polls of one group's mailbox went."""

    key: str  # "campaign/group"
    group_label: str
    account: str
    last_poll_at: datetime | None  # in the campaign's time zone; None: never polled
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str  # "" once a poll succeeded again

    @property
    def failing(self) -> bool:
        return bool(self.last_error)


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int  # accepted messages received that local day


@dataclass(frozen=True)
class ActionLine:
    """A decision made by a person, or changed by reprocessing, since the last digest."""

    receipt: str
    school: str
    kind: str  # override, reprocess, retry
    by: str
    reason: str
    old_decision: str
    new_decision: str
    at: datetime


@dataclass(frozen=True)
class Digest:
    """One campaign's digest for one day."""

    campaign_id: str
    campaign_name: str
    organizer: str
    day: date  # the campaign's local date of `now`
    since: datetime | None  # in the campaign's time zone; None: everything so far
    now: datetime  # in the campaign's time zone
    groups: tuple[GroupDigest, ...]
    quotas: tuple[QuotaIssue, ...]  # registrations carry no group: campaign-wide
    deadlines: tuple[DeadlineLeft, ...]
    mailboxes: tuple[MailboxHealth, ...]
    per_day: tuple[DayCount, ...]  # the last CHART_DAYS local days, oldest first
    empty: bool  # nothing new and nothing that needs a person
    unit_word: str  # "学校", or "单位" where counties and their offices take part
    actions: tuple[ActionLine, ...] = ()  # overrides and re-judgements since the last digest

    @property
    def new_count(self) -> int:
        return sum(group.new_count for group in self.groups)

    def new_by_decision(self) -> dict[str, int]:
        return {
            "accepted": sum(len(g.new_accepted) for g in self.groups),
            "rejected": sum(len(g.new_rejected) for g in self.groups),
            "ignored": sum(len(g.new_ignored) for g in self.groups),
            "quarantined": sum(len(g.new_quarantined) for g in self.groups),
        }

    @property
    def failing_mailboxes(self) -> tuple[MailboxHealth, ...]:
        return tuple(box for box in self.mailboxes if box.failing)

    @property
    def attention_count(self) -> int:
        return sum(group.attention_count for group in self.groups) + len(self.failing_mailboxes)
