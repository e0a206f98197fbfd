"""Writing the answer to a school: the text from templates/, the headers QQ Mail needs.

Replies are plain text (QQ's content filter dislikes long tokens and markup), say plainly
what was received or what to fix, and carry the headers that keep other robots from
answering them back.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from intake.campaigns.campaign import Campaign, MailboxRef, Stage
from intake.campaigns.naming import expected_name
from intake.config import KindSettings
from intake.domain import Decision, ParsedMail, Severity
from intake.rules.chain import Verdict

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_FOR = {
    Decision.ACCEPTED: "reply_accepted.txt.j2",
    Decision.REJECTED: "reply_rejected.txt.j2",
}


@dataclass(frozen=True)
class Reply:
    recipient: str
    subject: str
    message_id: str
    raw: bytes


# What smtp.qq.com can send to: no SMTPUTF8, so only plain ASCII addresses.
_SENDABLE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


def answer_address(mail: ParsedMail, use_reply_to: bool = False) -> str:
    """The From address if it can be sent to, "" when not. Reply-To is taken first only when
    the organizers allow it: otherwise anyone could make intake write to a third party."""
    candidates = (mail.reply_to, mail.sender) if use_reply_to else (mail.sender,)
    return next((a for a in candidates if _SENDABLE.match(a or "")), "")


LEVEL_LABELS = {"school": "学校层面", "district": "区域层面", "direct": "直属学校"}
RECORD_LABELS = {"case": "案例", "contact": "联络人"}
ROLE_LABELS = {"title": "标题", "author": "单位和作者行", "body": "正文", "other": "表格、题注等"}
# 字号: the Chinese names of the point sizes a notice uses.
ZIHAO = {
    42: "初号",
    36: "小初",
    26: "一号",
    24: "小一",
    22: "二号",
    18: "小二",
    16: "三号",
    15: "小三",
    14: "四号",
    12: "小四",
    10.5: "五号",
    9: "小五",
    7.5: "六号",
}


def zihao(size: object) -> str:
    """18 → "小二号（18 磅）"; a size without a name → "13 磅"."""
    points = float(str(size))
    name = ZIHAO.get(points)
    shown = f"{points:g} 磅"
    return f"{name}（{shown}）" if name else shown


def templates(folder: str = "") -> Environment:
    loader = FileSystemLoader(folder or DEFAULT_TEMPLATES)
    env = Environment(loader=loader, undefined=StrictUndefined, keep_trailing_newline=True)
    env.filters["cn_date"] = lambda text: chinese_date(date.fromisoformat(str(text)[:10]))
    env.filters["level_label"] = lambda level: LEVEL_LABELS.get(str(level), "")
    env.filters["record_label"] = lambda record: RECORD_LABELS.get(str(record), "条目")
    env.filters["role_label"] = lambda role: ROLE_LABELS.get(str(role), "")
    env.filters["zihao"] = zihao
    env.filters["quoted"] = lambda text: f"“{text}”"
    return env


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_time(moment: datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def compose(
    env: Environment,
    ref: MailboxRef,
    mail: ParsedMail,
    verdict: Verdict,
    *,
    stage: Stage,
    school: str,
    receipt: str,
    received_at: datetime,
    filenames: dict[int, str],
    now: datetime,
    recipient: str,
) -> Reply:
    """The reply to one decided message (accepted or rejected), to `recipient`."""
    context = _context(ref, verdict, stage, school, receipt, received_at, filenames)
    body = env.get_template(TEMPLATE_FOR[verdict.decision]).render(**context)
    subject = _subject(mail.subject, verdict.decision, receipt)
    thread = (*mail.references, mail.message_id) if mail.message_id else ()
    return _envelope(ref, recipient, subject, body, receipt, thread, now)


def compose_notice(
    env: Environment,
    ref: MailboxRef,
    template: str,
    tag: str,
    *,
    recipient: str,
    original_subject: str,
    thread: tuple[str, ...],
    school: str,
    receipt: str,
    now: datetime,
    **details: Any,
) -> Reply:
    """A later word to the school about a message it sent: a 超大附件 that could not be
    downloaded, or a decision corrected by an organizer."""
    campaign = ref.campaign
    body = env.get_template(template).render(
        campaign_name=campaign.settings.name,
        organizer=campaign.settings.organizer,
        group_label=ref.settings.label,
        contact=ref.settings.contact,
        school=school if "@" not in school else "",
        receipt=receipt,
        **details,
    )
    topic = _header_text(original_subject) or "您的来信"
    subject = f"【{tag}】{topic}（{receipt}）"
    return _envelope(ref, recipient, subject, body, receipt, thread, now)


def _envelope(
    ref: MailboxRef,
    recipient: str,
    subject: str,
    body: str,
    receipt: str,
    thread: tuple[str, ...],
    now: datetime,
) -> Reply:
    """The reply as mail: from the group's account, in the school's thread, marked automatic."""
    domain = ref.account.rpartition("@")[2]
    message_id = f"{receipt}.{secrets.token_hex(4)}.intake@{domain}"
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((ref.settings.mailbox.display_name, ref.account))
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{message_id}>"
    if thread:
        message["In-Reply-To"] = f"<{thread[-1]}>"
        message["References"] = " ".join(f"<{r}>" for r in thread)
    # RFC 3834: robots must not answer this; Outlook's own header says the same to Exchange.
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body, charset="utf-8", cte="base64")
    return Reply(recipient, subject, message_id, message.as_bytes())


def _subject(original: str, decision: Decision, receipt: str) -> str:
    status = "已受理" if decision is Decision.ACCEPTED else "未受理"
    topic = _header_text(original) or "您的来信"
    return f"【{status}】{topic}（{receipt}）"


def _header_text(text: str) -> str:
    """The school's subject as text for our Subject. The email package decodes whatever looks
    like an encoded-word in a value it is given, and cannot fold what it decoded from one the
    sender left undecodable: a word joiner after "=" keeps it plain text."""
    return text.strip().replace("=?", "=\u2060?")


def _context(
    ref: MailboxRef,
    verdict: Verdict,
    stage: Stage,
    school: str,
    receipt: str,
    received_at: datetime,
    filenames: dict[int, str],
) -> dict[str, Any]:
    campaign = ref.campaign
    group = ref.settings
    kinds = campaign.kinds
    files = _file_views(campaign, verdict, filenames)
    findings = [_finding_view(f, kinds) for f in verdict.findings]
    return {
        "campaign_name": campaign.settings.name,
        "organizer": campaign.settings.organizer,
        "group_label": group.label,
        "contact": group.contact,
        # An unregistered case may be filed under the sender's address: greet a person then.
        "school": school if "@" not in school else "",
        "receipt": receipt,
        "received_text": _when(campaign, received_at),
        "stage_label": stage.label,
        "deadline_text": chinese_date(stage.deadline),
        "files": files,
        "rejected": [f for f in findings if f["severity"] == Severity.REJECT],
        "warnings": [f for f in findings if f["severity"] == Severity.WARN],
        "registered": [f for f in findings if f["code"] == "registered_rows"],
        "late": any(f.code == "late" for f in verdict.findings),
        "resend_note": _resend_note(campaign, verdict),
        "naming_rule": naming_rule(_kinds_of(campaign, stage), school),
    }


def _file_views(
    campaign: Campaign, verdict: Verdict, filenames: dict[int, str]
) -> list[dict[str, Any]]:
    """Each file of the message as the reply lists it: what became of it, and why."""
    placed = {p.position: p for p in verdict.placements}
    matched = {
        f.position: f.params["title"] for f in verdict.findings if f.code == "registered_case"
    }
    links = {f.position: f.params for f in verdict.findings if f.code == "large_file_link"}
    files = []
    for position, outcome in sorted(verdict.outcomes.items()):
        placement = placed.get(position)
        previous = placement.previous if placement else None
        files.append(
            {
                "filename": filenames.get(position, ""),
                "outcome": outcome,
                "kind_label": campaign.kinds[placement.kind].label if placement else "",
                "version": placement.version if placement else 0,
                "previous": previous.filename if previous else "",
                "previous_received": _when(campaign, previous.received_at) if previous else "",
                "case": matched.get(position, ""),
                "link": links.get(position),
            }
        )
    return files


def _resend_note(campaign: Campaign, verdict: Verdict) -> str:
    """What sending again before the deadline does, for the kinds this message placed."""
    kinds = [campaign.kinds[p.kind] for p in verdict.placements]
    if any(kind.columns for kind in kinds):
        return "截止前重新发送整张表，将替换此前登记的全部内容。"
    if any(kind.registered_in for kind in kinds):
        return "截止前再次发送同一案例（文件名含相同的案例标题），将作为新版本替换旧版本。"
    return "截止前再次发送同名文件将作为新版本替换旧版本。"


def _kinds_of(campaign: Campaign, stage: Stage) -> dict[str, KindSettings]:
    """The kinds sent in a stage: what a reply's naming advice is about."""
    return {
        key: kind for key, kind in campaign.kinds.items() if campaign.stage_of(key).key == stage.key
    }


def naming_rule(kinds: dict[str, KindSettings], school: str) -> str:
    """How each kind must be named, e.g. 报告命名为“XX学校报告”；改进案例命名为 …"""
    rules = []
    for kind in kinds.values():
        if not kind.name_pattern:
            rules.append(_how_to_send(kind))
            continue
        name = expected_name(kind.name_pattern, school)
        rule = f"{kind.label}命名为“{name}”"
        if kind.max_per_school > 1:
            rule += f"（不超过 {kind.max_per_school} 篇，多篇时加序号，如“{name}1”“{name}2”）"
        rules.append(rule)
    return "；".join(rules)


def _how_to_send(kind: KindSettings) -> str:
    """Advice for a kind the notice gives no file name for."""
    what = f"{kind.label}（{kind.title}）" if kind.title else kind.label
    if kind.columns:
        headers = "、".join(column.name for column in kind.columns)
        return f"{what}请用通知所附表格填写，表头为：{headers}"
    return f"{what}请以 Word 文档发送，文件名写明单位名称和案例标题"


def _when(campaign: Campaign, moment: datetime) -> str:
    return chinese_time(campaign.local(moment))


def _finding_view(finding: Any, kinds: dict[str, Any]) -> dict[str, Any]:
    kind = finding.params.get("kind", "")
    return {
        "code": finding.code,
        "severity": finding.severity,
        "params": finding.params,
        "kind_label": kinds[kind].label if kind in kinds else "材料",
    }
