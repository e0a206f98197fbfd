"""The organizers' daily digest of one campaign, gathered from the ledger and rendered.

`gather` reads what came in since the last digest (messages recorded in `(since, now]`), what
the schools hold now against the roster, and what needs a person: warnings, 超大附件 links
not downloaded, replies that did not go out, a mailbox that fails to poll. `render` turns it
into an HTML mail that QQ Mail's web client and Outlook show alike (tables and inline styles
only, no scripts, no images, nothing fetched) and a plain-text twin.

Codes stay codes in the dataclasses (docs/DECISIONS.md); the templates say them in Chinese.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.campaigns.campaign import Campaign
from intake.campaigns.naming import title_key
from intake.campaigns.roster import RosterSchool
from intake.config import LimitSettings
from intake.domain import Decision
from intake.replies import LEVEL_LABELS, RECORD_LABELS, chinese_date
from intake.rules.base import RegisteredRow
from intake.rules.registration import shortfalls
from intake.store import ledger
from intake.store.models import (
    Entry,
    LargeFile,
    MailboxStatus,
    Message,
    OutboxReply,
)

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"
#: Days shown in the chart of accepted submissions, ending with the digest's day.
CHART_DAYS = 14
#: The widest bar of the chart, in pixels.
CHART_WIDTH_PX = 360
#: Reply states that mean the school did not (knowingly) get its answer.
UNSENT_REPLY_STATES = ("failed", "unknown", "held")

#: What each reason and warning code means, said short, for organizers.
CODE_LABELS = {
    # reasons
    "late": "逾期",
    "missing_attachment": "没有文档附件",
    "bad_name": "文件名不符合要求",
    "over_limit": "超过篇数上限",
    "auto_reply": "自动回复",
    "bounce": "退信",
    "own_mail": "本系统发出的邮件",
    "acknowledgement": "回执或致谢",
    "duplicate": "重复邮件",
    "unreadable_table": "表格无法读取",
    "missing_columns": "表格缺少列",
    "no_good_rows": "表格没有可登记的行",
    "bad_archive": "压缩包无法打开",
    "processing_error": "处理出错",
    "unreadable_document": "文档无法打开",
    "too_long": "字数超限",
    "too_many_signatories": "署名人数超限",
    "bad_font": "字体不符",
    "bad_size": "字号不符",
    "bad_margins": "页边距不符",
    "format_unchecked": "格式未检查",
    # warnings
    "name_from_subject": "文件名不规范，按主题识别",
    "unknown_school": "学校不在名单中",
    "unsupported_file": "附件类型不支持",
    "same_file_twice": "同一材料重复附加",
    "bad_row": "表格有未登记的行",
    "over_limit_rows": "超出名额的行未登记",
    "below_minimum": "登记数低于要求",
    "unsafe_member": "压缩包中有被跳过的文件",
    "large_file_not_kept": "超大附件未保存",
    "unregistered_case": "未对应已申报的案例",
}
DECISION_LABELS = {
    "accepted": "已受理",
    "rejected": "未受理",
    "ignored": "已忽略",
    "quarantined": "处理出错",
}
LINK_STATE_LABELS = {
    "pending": "待下载",
    "failed": "下载失败，已请学校重发",
    "asked": "未保存，已请学校改用附件",
}
REPLY_STATE_LABELS = {
    "failed": "发送失败",
    "unknown": "发送中断，可能未送达",
    "held": "超过当日回复上限，未发送",
}


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


# --- gathering ---------------------------------------------------------------------------------


def gather(session: Session, campaign: Campaign, since: datetime | None, now: datetime) -> Digest:
    """The digest of `campaign` at `now`: new is what was recorded after `since`."""
    local_now = campaign.local(now)
    new = _new_messages(session, campaign, since, now)
    entries = list(
        session.scalars(
            select(Entry)
            .where(Entry.campaign == campaign.id, Entry.current.is_(True))
            .order_by(Entry.id)
        )
    )
    registered = ledger.registered(session, campaign.id)
    pks = {entry.message_pk for entry in entries}
    receipts = {
        pk: receipt
        for pk, receipt in session.execute(
            select(Message.id, Message.receipt).where(Message.id.in_(pks))
        )
    }
    links = _links(session, campaign, since, now)
    replies = _replies(session, campaign)
    groups = tuple(
        _group(campaign, key, new, entries, receipts, registered, links, replies, now)
        for key in campaign.settings.groups
    )
    mailboxes = _mailboxes(session, campaign)
    empty = not any(g.new_count or g.attention_count for g in groups) and not any(
        box.failing for box in mailboxes
    )
    return Digest(
        campaign_id=campaign.id,
        campaign_name=campaign.settings.name,
        organizer=campaign.settings.organizer,
        day=local_now.date(),
        since=campaign.local(since) if since is not None else None,
        now=local_now,
        groups=groups,
        quotas=_quotas(campaign, registered),
        deadlines=_deadlines(campaign, now),
        mailboxes=mailboxes,
        per_day=_per_day(session, campaign, now),
        empty=empty,
        unit_word=_unit_word(campaign),
    )


def _unit_word(campaign: Campaign) -> str:
    counties = campaign.settings.limits or any(
        unit.level != "school" for unit in campaign.roster.schools
    )
    return "单位" if counties else "学校"


def _new_messages(
    session: Session, campaign: Campaign, since: datetime | None, now: datetime
) -> list[Message]:
    query = select(Message).where(Message.campaign == campaign.id, Message.recorded_at <= now)
    if since is not None:
        query = query.where(Message.recorded_at > since)
    return list(session.scalars(query.order_by(Message.received_at, Message.id)))


def _line(campaign: Campaign, message: Message) -> MessageLine:
    kinds = campaign.kinds
    return MessageLine(
        receipt=message.receipt,
        received_at=campaign.local(message.received_at),
        sender=message.sender,
        school=message.school,
        subject=message.subject,
        kinds=tuple(kinds[k].label if k in kinds else k for k in message.kinds),
        reasons=tuple(message.reasons),
        warnings=tuple(message.warnings),
        error=message.error.strip().splitlines()[-1] if message.error.strip() else "",
    )


def _group(
    campaign: Campaign,
    key: str,
    new: list[Message],
    entries: list[Entry],
    receipts: dict[int, str],
    registered: tuple[RegisteredRow, ...],
    links: list[tuple[LargeFile, Message]],
    replies: list[tuple[OutboxReply, Message]],
    now: datetime,
) -> GroupDigest:
    settings = campaign.group(key)
    mine = [message for message in new if message.group == key]

    def decided(decision: Decision) -> tuple[MessageLine, ...]:
        return tuple(_line(campaign, m) for m in mine if m.decision == decision)

    held = [entry for entry in entries if entry.group == key]
    link_lines = sorted(
        (_link(campaign, file, message, now) for file, message in links if message.group == key),
        key=lambda line: line.expires_at.timestamp() if line.expires_at else float("inf"),
    )
    return GroupDigest(
        key=key,
        label=settings.label,
        contact=settings.contact,
        new_accepted=decided(Decision.ACCEPTED),
        new_rejected=decided(Decision.REJECTED),
        new_ignored=decided(Decision.IGNORED),
        new_quarantined=decided(Decision.QUARANTINED),
        warnings=tuple(_line(campaign, m) for m in mine if m.warnings),
        totals=_totals(campaign, key, held, entries),
        missing_required=_missing(campaign, key, entries),
        at_case_limit=_at_limit(campaign, held),
        unregistered_cases=_unregistered(campaign, held, registered, receipts),
        links_pending=tuple(link_lines),
        replies_failed=tuple(
            _reply(campaign, reply, message) for reply, message in replies if message.group == key
        ),
    )


def _totals(
    campaign: Campaign, group: str, held: list[Entry], entries: list[Entry]
) -> tuple[KindTotal, ...]:
    """Per kind: who in the group holds it, and how many of the roster's units do (a file
    counts in whichever group's mailbox it arrived, as for the missing ones)."""
    units = {unit.name for unit in _roster_units(campaign, group)}
    totals = []
    for key, kind in campaign.kinds.items():
        files = [entry for entry in held if entry.kind == key]
        anywhere = {entry.school for entry in entries if entry.kind == key}
        totals.append(
            KindTotal(
                kind=key,
                label=kind.label,
                required=kind.required,
                max_per_school=kind.max_per_school,
                schools=len({entry.school for entry in files}),
                files=len(files),
                roster=len(units),
                roster_holding=len(units & anywhere),
            )
        )
    return tuple(totals)


def _missing(campaign: Campaign, group: str, entries: list[Entry]) -> tuple[MissingKind, ...]:
    """Roster units of the group without a current file of each required kind.

    A file counts in whichever group's mailbox it arrived. A unit the roster lists for every
    group ("" as its group) is listed under the campaign's first group only."""
    if not campaign.roster:
        return ()
    units = _roster_units(campaign, group)
    found = []
    for key, kind in campaign.kinds.items():
        if not kind.required:
            continue
        holding = {entry.school for entry in entries if entry.kind == key}
        absent = tuple(unit.name for unit in units if unit.name not in holding)
        if absent:
            found.append(MissingKind(key, kind.label, absent))
    return tuple(found)


def _roster_units(campaign: Campaign, group: str) -> list[RosterSchool]:
    first = next(iter(campaign.settings.groups))
    return [
        unit
        for unit in campaign.roster.schools
        if unit.group == group or (not unit.group and group == first)
    ]


def _at_limit(campaign: Campaign, held: list[Entry]) -> tuple[AtLimit, ...]:
    counts = Counter((entry.school, entry.kind) for entry in held)
    found = []
    for (school, key), count in sorted(counts.items()):
        kind = campaign.kinds.get(key)
        if kind is not None and kind.max_per_school > 1 and count >= kind.max_per_school:
            found.append(AtLimit(school, key, kind.label, count, kind.max_per_school))
    return tuple(found)


def _unregistered(
    campaign: Campaign,
    held: list[Entry],
    registered: tuple[RegisteredRow, ...],
    receipts: dict[int, str],
) -> tuple[CaseLine, ...]:
    """Current files of kinds matched to registered cases that match none of them now (a case
    never registered, or whose row a newer table dropped)."""
    found = []
    for entry in held:
        kind = campaign.kinds.get(entry.kind)
        if kind is None or not kind.registered_in:
            continue
        known = any(
            row.kind == kind.registered_in
            and row.unit == entry.school
            and (title_key(row.title)[:64] or "1") == entry.slot
            for row in registered
        )
        if not known:
            found.append(
                CaseLine(
                    school=entry.school,
                    kind=entry.kind,
                    label=kind.label,
                    filename=entry.filename,
                    received_at=campaign.local(entry.received_at),
                    receipt=receipts.get(entry.message_pk, ""),
                )
            )
    return tuple(found)


def _links(
    session: Session, campaign: Campaign, since: datetime | None, now: datetime
) -> list[tuple[LargeFile, Message]]:
    """Links whose file intake does not hold and that still matter: every pending download;
    a failed or asked one while its link has not expired, or when it is new."""
    query = (
        select(LargeFile, Message)
        .join(Message, LargeFile.message_pk == Message.id)
        .where(
            LargeFile.campaign == campaign.id, LargeFile.state.in_(("pending", "failed", "asked"))
        )
        .order_by(LargeFile.id)
    )
    kept = []
    for file, message in session.execute(query):
        is_new = message.recorded_at <= now and (since is None or message.recorded_at > since)
        alive = file.expires_at is not None and file.expires_at > now
        if file.state == "pending" or alive or is_new:
            kept.append((file, message))
    return kept


def _link(campaign: Campaign, file: LargeFile, message: Message, now: datetime) -> LinkLine:
    expires = campaign.local(file.expires_at) if file.expires_at is not None else None
    return LinkLine(
        receipt=message.receipt,
        school=message.school,
        filename=file.filename,
        size=file.size_text,
        state=file.state,
        expires_at=expires,
        expires_text=file.expires_text,
        expired=file.expires_at is not None and file.expires_at <= now,
        error=file.last_error,
    )


def _replies(session: Session, campaign: Campaign) -> list[tuple[OutboxReply, Message]]:
    """Every reply of the campaign that did not go out: the ledger has no mark for one an
    organizer has dealt with, so each stays listed."""
    query = (
        select(OutboxReply, Message)
        .join(Message, OutboxReply.message_pk == Message.id)
        .where(OutboxReply.campaign == campaign.id, OutboxReply.state.in_(UNSENT_REPLY_STATES))
        .order_by(OutboxReply.id)
    )
    return [(reply, message) for reply, message in session.execute(query)]


def _reply(campaign: Campaign, reply: OutboxReply, message: Message) -> ReplyLine:
    return ReplyLine(
        receipt=message.receipt,
        school=message.school,
        recipient=reply.recipient,
        subject=reply.subject,
        state=reply.state,
        error=reply.last_error,
        created_at=campaign.local(reply.created_at),
    )


def _mailboxes(session: Session, campaign: Campaign) -> tuple[MailboxHealth, ...]:
    keys = {f"{campaign.id}/{group}": group for group in campaign.settings.groups}
    rows = {
        row.mailbox: row
        for row in session.scalars(select(MailboxStatus).where(MailboxStatus.mailbox.in_(keys)))
    }
    found = []
    for key, group in keys.items():
        settings = campaign.group(group)
        row = rows.get(key)
        found.append(
            MailboxHealth(
                key=key,
                group_label=settings.label,
                account=settings.mailbox.account,
                last_poll_at=_local(campaign, row.last_poll_at if row else None),
                last_success_at=_local(campaign, row.last_success_at if row else None),
                last_error_at=_local(campaign, row.last_error_at if row else None),
                last_error=row.last_error if row else "",
            )
        )
    return tuple(found)


def _local(campaign: Campaign, moment: datetime | None) -> datetime | None:
    return campaign.local(moment) if moment is not None else None


def _quotas(campaign: Campaign, registered: tuple[RegisteredRow, ...]) -> tuple[QuotaIssue, ...]:
    """Counties or units below a minimum (shortfalls(), including those that registered
    nothing) or above a maximum (rows registered before a lower maximum was configured)."""
    kinds = campaign.kinds
    found = []
    limits: dict[tuple[str, str, str], LimitSettings] = {
        (limit.kind, limit.per, limit.level): limit for limit in campaign.settings.limits
    }
    for short in shortfalls(campaign, registered):
        limit = limits.get((short.kind, short.per, short.level))
        found.append(
            QuotaIssue(
                kind=short.kind,
                kind_label=kinds[short.kind].label,
                record=short.record,
                holder=short.holder,
                per=short.per,
                level=short.level,
                count=short.count,
                min=short.min,
                max=limit.max if limit is not None else 0,
                problem="below",
            )
        )
    for limit in campaign.settings.limits:
        if not limit.max:
            continue
        for holder, count in sorted(_counts(limit, registered).items()):
            if count > limit.max:
                found.append(
                    QuotaIssue(
                        kind=limit.kind,
                        kind_label=kinds[limit.kind].label,
                        record=kinds[limit.kind].records or "case",
                        holder=holder,
                        per=limit.per,
                        level=limit.level,
                        count=count,
                        min=limit.min,
                        max=limit.max,
                        problem="above",
                    )
                )
    return tuple(found)


def _counts(limit: LimitSettings, rows: Iterable[RegisteredRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.kind != limit.kind or (limit.level and row.level != limit.level):
            continue
        holder = row.district if limit.per == "district" else row.unit
        if holder:
            counts[holder] += 1
    return counts


def _deadlines(campaign: Campaign, now: datetime) -> tuple[DeadlineLeft, ...]:
    today = campaign.local(now).date()
    return tuple(
        DeadlineLeft(
            stage=stage.key,
            label=stage.label,
            deadline=stage.deadline,
            days_left=(stage.deadline - today).days,
            closed=not stage.is_open(now),
        )
        for stage in campaign.stages()
    )


def _per_day(session: Session, campaign: Campaign, now: datetime) -> tuple[DayCount, ...]:
    today = campaign.local(now).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    start = datetime.combine(first, time(0), tzinfo=campaign.zone)
    received = session.scalars(
        select(Message.received_at).where(
            Message.campaign == campaign.id,
            Message.decision == str(Decision.ACCEPTED),
            Message.received_at >= start,
            Message.received_at <= now,
        )
    )
    counts = Counter(campaign.local(moment).date() for moment in received)
    days = (first + timedelta(days=n) for n in range(CHART_DAYS))
    return tuple(DayCount(day, counts.get(day, 0)) for day in days)


# --- rendering ---------------------------------------------------------------------------------

EMPTY_LINE = "昨日以来没有新邮件，也没有需要处理的事项。"


def render(env: Environment, digest: Digest) -> tuple[str, str]:
    """The digest as (html, text), from templates/digest.html.j2 and digest.txt.j2.

    The HTML template is rendered with autoescaping on whatever `env` says: every name,
    subject and error in it comes from outside."""
    context = _context(digest)
    html = env.overlay(autoescape=True).get_template(HTML_TEMPLATE).render(**context)
    text = env.overlay(autoescape=False).get_template(TEXT_TEMPLATE).render(**context)
    return html, text


def _context(digest: Digest) -> dict[str, Any]:
    def when(moment: datetime | None) -> str:
        """ "5月20日 09:00", with the year when it is not the digest's year."""
        if moment is None:
            return ""
        year = f"{moment.year}年" if moment.year != digest.day.year else ""
        return f"{year}{moment.month}月{moment.day}日 {moment:%H:%M}"

    counts = digest.new_by_decision()
    summary = (
        f"新收到 {digest.new_count} 封邮件：已受理 {counts['accepted']} 封，"
        f"未受理 {counts['rejected']} 封，已忽略 {counts['ignored']} 封，"
        f"处理出错 {counts['quarantined']} 封。"
    )
    since = digest.since
    period = f"{when(since)} 至 {when(digest.now)}" if since else f"截至 {when(digest.now)}"
    widest = max((day.count for day in digest.per_day), default=0)
    chart = [
        {
            "day": f"{day.day.month}月{day.day.day}日",
            "weekday": "一二三四五六日"[day.day.weekday()],
            "count": day.count,
            "px": round(CHART_WIDTH_PX * day.count / widest) if widest and day.count else 0,
        }
        for day in digest.per_day
    ]
    return {
        "d": digest,
        "title": f"{digest.campaign_name} 每日汇总（{chinese_date(digest.day)}）",
        "empty_line": EMPTY_LINE,
        "period": period,
        "summary": summary,
        "counts": counts,
        "chart": chart,
        "chart_width": CHART_WIDTH_PX,
        "when": when,
        "full_date": chinese_date,
        "label": lambda code: CODE_LABELS.get(code, code),
        "labels": lambda codes: "、".join(CODE_LABELS.get(code, code) for code in codes),
        "decision_label": lambda decision: DECISION_LABELS.get(decision, decision),
        "link_state": lambda state: LINK_STATE_LABELS.get(state, state),
        "reply_state": lambda state: REPLY_STATE_LABELS.get(state, state),
        "who": who,
        "deadline_text": deadline_text,
        "quota_text": quota_text,
        "total_text": lambda total: total_text(total, digest.unit_word),
        "unit": digest.unit_word,
        "measure": "所" if digest.unit_word == "学校" else "个",
        "mailbox_text": lambda box: mailbox_text(box, when),
        "several_groups": len(digest.groups) > 1,
    }


def who(line: MessageLine) -> str:
    """The school a message speaks for, else its sender."""
    return line.school or line.sender or "（发件人不明）"


def deadline_text(item: DeadlineLeft) -> str:
    """ "选题申报：距截止还有 3 天（2022年2月21日）", "…：今天截止", "…：已于 … 截止"."""
    day = chinese_date(item.deadline)
    if item.closed:
        return f"{item.label}：已于 {day}截止"
    if item.days_left <= 0:
        return f"{item.label}：今天截止（{day}）"
    return f"{item.label}：距截止还有 {item.days_left} 天（{day}）"


def quota_text(issue: QuotaIssue) -> str:
    """ "吴中区：区域层面案例 0 个，至少应有 1 个"."""
    level = LEVEL_LABELS.get(issue.level, "") if issue.level else ""
    what = f"{level}{RECORD_LABELS.get(issue.record, '条目')}"
    if issue.problem == "below":
        return f"{issue.holder}：已登记{what} {issue.count} 个，至少应有 {issue.min} 个"
    return f"{issue.holder}：已登记{what} {issue.count} 个，超过最多 {issue.max} 个"


def total_text(total: KindTotal, unit: str) -> str:
    """ "报告：名单中 6 所学校已提交 4 所，尚缺 2 所；共收到 5 所学校的 5 份" or
    "改进案例：共收到 2 所学校的 3 份"."""
    measure = "所" if unit == "学校" else "个"
    received = f"共收到 {total.schools} {measure}{unit}的 {total.files} 份"
    if total.required and total.roster:
        return (
            f"{total.label}：名单中 {total.roster} {measure}{unit}已提交 "
            f"{total.roster_holding} {measure}，尚缺 {total.roster - total.roster_holding} "
            f"{measure}；{received}"
        )
    return f"{total.label}：{received}"


def mailbox_text(box: MailboxHealth, when: Any) -> str:
    success = when(box.last_success_at) if box.last_success_at else "从未成功"
    return (
        f"{box.group_label}邮箱（{box.account}）收取失败：{box.last_error}"
        f"（{when(box.last_error_at)}）。最近一次成功收取：{success}。"
    )
