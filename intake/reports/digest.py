"""The organizers' daily digest of one campaign, gathered from the ledger and rendered.

`gather` reads what came in since the last digest (messages recorded in `(since, now]`), what
the schools hold now against the roster, and what needs a person: warnings, 超大附件 links
not downloaded, replies that did not go out, a mailbox that fails to poll. `render` turns it
into an HTML mail that QQ Mail's web client and Outlook show alike (tables and inline styles
only, no scripts, no images, nothing fetched) and a plain-text twin.

Codes stay codes in the dataclasses (docs/DECISIONS.md); the templates say them in Chinese.
"""

from __future__ import annotations

from intake.reports.digest_gather import CHART_DAYS, UNSENT_REPLY_STATES, gather
from intake.reports.digest_model import (
    ActionLine,
    AtLimit,
    CaseLine,
    DayCount,
    DeadlineLeft,
    Digest,
    GroupDigest,
    KindTotal,
    LinkLine,
    MailboxHealth,
    MessageLine,
    MissingKind,
    QuotaIssue,
    ReplyLine,
)
from intake.reports.digest_render import (
    CHART_WIDTH_PX,
    CODE_LABELS,
    DECISION_LABELS,
    EMPTY_LINE,
    HTML_TEMPLATE,
    LINK_STATE_LABELS,
    REPLY_STATE_LABELS,
    TEXT_TEMPLATE,
    deadline_text,
    mailbox_text,
    quota_text,
    render,
    total_text,
    who,
)

__all__ = [
    "CHART_DAYS",
    "CHART_WIDTH_PX",
    "CODE_LABELS",
    "DECISION_LABELS",
    "EMPTY_LINE",
    "HTML_TEMPLATE",
    "LINK_STATE_LABELS",
    "REPLY_STATE_LABELS",
    "TEXT_TEMPLATE",
    "UNSENT_REPLY_STATES",
    "ActionLine",
    "AtLimit",
    "CaseLine",
    "DayCount",
    "DeadlineLeft",
    "Digest",
    "GroupDigest",
    "KindTotal",
    "LinkLine",
    "MailboxHealth",
    "MessageLine",
    "MissingKind",
    "QuotaIssue",
    "ReplyLine",
    "deadline_text",
    "gather",
    "mailbox_text",
    "quota_text",
    "render",
    "total_text",
    "who",
]
