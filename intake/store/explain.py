"""The whole story of one message, for an organizer answering "why was my file rejected?".

`find_message` takes what a person has at hand: the ledger id, the receipt number from the
reply, or the Message-ID. `explain` reads the ledger only and prints, in Chinese or English,
where the message was seen, what each file was taken for, every rule outcome, the entries
and registrations it made, the decision and every reply with its SMTP answer.

The text is made of sections, each a function of the message; a later section (a record of
manual overrides, say) is one more function appended to `SECTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.replies import chinese_time
from intake.store.models import (
    Action,
    Entry,
    FindingRow,
    LargeFile,
    Location,
    Message,
    OutboxReply,
    RegistrationRow,
    StoredAttachment,
)

Lang = Literal["zh", "en"]
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
_RECEIPT = re.compile(r"^[A-Za-z0-9]+-\d+$")

# What each code of docs/DECISIONS.md means, in a few words: (Chinese, English).
CODE_LABELS: dict[str, tuple[str, str]] = {
    "late": ("逾期提交", "received after the deadline"),
    "missing_attachment": ("没有文档附件", "no document attached"),
    "bad_name": ("文件名看不出类别或学校", "file name names no kind or no school"),
    "over_limit": ("超过每校篇数上限", "beyond the number of files allowed per school"),
    "auto_reply": ("自动回复", "automatic reply"),
    "bounce": ("退信", "bounce"),
    "own_mail": ("本系统邮箱发出的邮件", "sent by one of our own mailboxes"),
    "acknowledgement": ("回执或致谢，不是提交", "an acknowledgement, not a submission"),
    "duplicate": ("同一 Message-ID 的重复邮件", "the same Message-ID seen again"),
    "unreadable_table": ("表格无法读取", "table cannot be read"),
    "missing_columns": ("表格缺少必需列", "table lacks required columns"),
    "no_good_rows": ("表格没有可登记的行", "no row of the table could be registered"),
    "bad_archive": ("压缩包无法打开", "archive cannot be opened"),
    "processing_error": ("处理出错，已隔离", "handling failed; quarantined"),
    "name_from_subject": ("按邮件主题识别文件", "kind or school taken from the subject"),
    "unknown_school": ("学校不在名单中", "school not on the roster"),
    "unsupported_file": ("不参与评审的文件类型", "file type not judged"),
    "same_file_twice": ("同一邮件中重复的文件", "the same file twice in one message"),
    "bad_row": ("表格中有未登记的行", "a table row not registered"),
    "over_limit_rows": ("超出上限的行未登记", "rows beyond the limit not registered"),
    "below_minimum": ("登记数量不足", "fewer registered rows than required"),
    "unsafe_member": ("压缩包中不安全的路径已跳过", "unsafe archive members left out"),
    "locked_member": ("压缩包中加密的文件已跳过", "encrypted archive members left out"),
    "large_file_not_kept": ("超大附件未保存", "QQ large-file link not kept"),
    "unregistered_case": ("未对应到已申报的案例", "matches no registered case"),
    "large_file_link": ("超大附件链接作为文件保存", "QQ large-file link kept as the file"),
    "registered_rows": ("已登记的行", "rows registered"),
    "registered_case": ("对应到已申报的案例", "matched to a registered case"),
    "new_version": ("新版本，替换此前的文件", "a new version replacing an earlier file"),
    "bad_font": ("字体不符合要求", "wrong font"),
    "bad_size": ("字号不符合要求", "wrong font size"),
    "bad_margins": ("页边距不符合要求", "wrong page margins"),
    "too_long": ("字数超过上限", "too many characters"),
    "too_many_signatories": ("署名人数超过上限", "too many signatories"),
    "unreadable_document": ("文档无法打开", "document cannot be opened"),
    "format_unchecked": ("格式未能自动检查", "format not checked"),
}

DECISION_LABELS: dict[str, tuple[str, str]] = {
    "accepted": ("已受理", "accepted"),
    "rejected": ("未受理", "rejected"),
    "ignored": ("已忽略", "ignored"),
    "quarantined": ("已隔离", "quarantined"),
}
SEVERITY_LABELS: dict[str, tuple[str, str]] = {
    "ignore": ("忽略", "ignore"),
    "reject": ("拒收", "reject"),
    "warn": ("警告", "warn"),
    "info": ("说明", "info"),
}
STATE_LABELS: dict[str, tuple[str, str]] = {
    "pending": ("等待发送", "pending"),
    "sending": ("正在发送", "sending"),
    "sent": ("已发送", "sent"),
    "held": ("暂缓（超出每日限额）", "held (daily budget spent)"),
    "failed": ("发送失败", "failed"),
    "unknown": ("不确定是否送达", "unknown"),
    "downloaded": ("已下载", "downloaded"),
    "asked": ("未保存，已请对方改发附件", "not kept; asked for an attachment"),
}

# The fixed words of the text: key → (Chinese, English).
WORDS: dict[str, tuple[str, str]] = {
    "message": ("消息 #{id}", "Message #{id}"),
    "receipt": ("回执号：{v}", "Receipt: {v}"),
    "campaign": ("活动：{c} · 组别：{g} · 阶段：{s}", "Campaign: {c} · group: {g} · stage: {s}"),
    "sender": ("发件人：{v}", "From: {v}"),
    "received": ("收到时间：{v}", "Received: {v}"),
    "seen": ("所在位置：", "Seen in:"),
    "location": ("{m} 文件夹 {f} UID {u}", "{m} folder {f} UID {u}"),
    "subject": ("主题：{v}", "Subject: {v}"),
    "message_id": ("Message-ID：{v}", "Message-ID: {v}"),
    "attachments": ("附件：", "Attachments:"),
    "from_archive": ("（来自压缩包 {v}）", " (from archive {v})"),
    "classified": ("归类：{v}", "classified: {v}"),
    "slot": ("第 {v} 篇", "slot {v}"),
    "outcome": ("结果：{v}", "outcome: {v}"),
    "facts": ("格式：{v}", "format: {v}"),
    "findings": ("规则检查：", "Rule findings:"),
    "on_file": ("附件 {v}", "file {v}"),
    "entries": ("条目：", "Entries:"),
    "entry": ("{k} 第 {s} 篇 第 {v} 版（{c}）{f}", "{k} slot {s} version {v} ({c}) {f}"),
    "current": ("当前", "current"),
    "replaced": ("已被替换", "replaced"),
    "registrations": ("登记：", "Registered rows:"),
    "registration": (
        "{r} 第 {n} 行：{u} {t}（{c}）",
        "{r} row {n}: {u} {t} ({c})",
    ),
    "large_files": ("超大附件：", "QQ large-file links:"),
    "large_file": ("{f} {s}：{st}，到期 {e}", "{f} {s}: {st}, expires {e}"),
    "decision": ("决定：{v}", "Decision: {v}"),
    "reasons": ("原因：", "reasons: "),
    "warnings": ("警告：", "warnings: "),
    "replies": ("回复：", "Replies:"),
    "actions": ("人工处理与重新判定：", "Actions by people and re-runs:"),
    "action": (
        "{n}. {t} {who} {k}：{old} → {new}；原因：{why}{told}",
        "{n}. {t} {who} {k}: {old} → {new}; reason: {why}{told}",
    ),
    "told": ("（已通知学校）", " (the school was told)"),
    "reply_to": (
        "收件人 {r}；状态：{s}；尝试 {a} 次；发送时间：{t}",
        "to {r}; state: {s}; attempts: {a}; sent: {t}",
    ),
    "smtp": ("服务器应答：{v}", "server answer: {v}"),
    "last_error": ("最后错误：{v}", "last error: {v}"),
    "error": ("错误：{v}", "Error: {v}"),
    "hint": (
        "可用 intake quarantine retry {id} 重新处理",
        "retry with: intake quarantine retry {id}",
    ),
    "none": ("（无）", "(none)"),
    "never": ("未发送", "not sent"),
    "pages": ("PDF {v} 页", "PDF {v} pages"),
    "chars": ("正文 {v} 字", "body {v} chars"),
    "fonts": ("字体 {v}", "fonts {v}"),
    "sizes": ("字号 {v}", "sizes {v}"),
    "margins": ("页边距（上/下/左/右）{v} 厘米", "margins (top/bottom/left/right) {v} cm"),
    "signatories": ("署名 {v}", "signatories {v}"),
    "fact_error": ("无法打开：{v}", "unreadable: {v}"),
    "unchecked": ("未检查：{v}", "not checked: {v}"),
}


@dataclass(frozen=True)
class View:
    """What every section needs besides the message: the session, the language, the zone."""

    session: Session
    lang: Lang
    zone: ZoneInfo

    def word(self, key: str, **values: object) -> str:
        zh, en = WORDS[key]
        return (zh if self.lang == "zh" else en).format(**values)

    def label(self, table: dict[str, tuple[str, str]], code: str) -> str:
        """ "已受理（accepted）" in Chinese, the English word alone in English."""
        pair = table.get(code)
        if pair is None:
            return code
        return f"{pair[0]}（{code}）" if self.lang == "zh" else pair[1]

    def time(self, moment: datetime | None) -> str:
        if moment is None:
            return self.word("never")
        local = moment.astimezone(self.zone)
        if self.lang == "zh":
            return f"{chinese_time(local)}（{self.zone.key}）"
        return f"{local:%Y-%m-%d %H:%M} ({self.zone.key})"

    @property
    def sep(self) -> str:
        return "、" if self.lang == "zh" else ", "


Section = Callable[[View, Message], list[str]]


def find_message(session: Session, key: str) -> Message | None:
    """The message a ledger id ("42"), a receipt ("SL21-00042") or a Message-ID names."""
    key = key.strip()
    if key.isdigit():
        found = session.get(Message, int(key))
        if found is not None:
            return found
    if _RECEIPT.match(key):
        query = select(Message).where(func.upper(Message.receipt) == key.upper())
        found = session.scalars(query.order_by(Message.id)).first()
        if found is not None:
            return found
    return _by_message_id(session, key)


def _by_message_id(session: Session, key: str) -> Message | None:
    bare = key.removeprefix("<").removesuffix(">")
    if not bare:
        return None
    query = select(Message).where(Message.message_id.in_([bare, f"<{bare}>"]))
    return session.scalars(query.order_by(Message.id)).first()


def explain(
    session: Session, message: Message, lang: Lang = "zh", zone: ZoneInfo | None = None
) -> str:
    """The whole story of one message as plain text, section after section."""
    view = View(session, lang, zone or DEFAULT_ZONE)
    blocks = [section(view, message) for section in SECTIONS]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"


# ---- sections -------------------------------------------------------------------------


def _header(view: View, message: Message) -> list[str]:
    sender = f"{message.sender_name} <{message.sender}>" if message.sender_name else message.sender
    lines = [
        view.word("message", id=message.id),
        view.word("receipt", v=message.receipt or "—"),
        view.word("campaign", c=message.campaign, g=message.group, s=message.stage or "—"),
        view.word("sender", v=sender),
        view.word("received", v=view.time(message.received_at)),
        view.word("subject", v=message.subject),
        view.word("message_id", v=f"<{message.message_id}>" if message.message_id else "—"),
        view.word("seen"),
    ]
    return lines + [f"  {_location(view, place)}" for place in _locations(view, message)]


def _locations(view: View, message: Message) -> list[Location]:
    query = select(Location).where(Location.message_pk == message.id).order_by(Location.id)
    return list(view.session.scalars(query))


def _location(view: View, place: Location) -> str:
    return view.word("location", m=place.mailbox, f=place.folder, u=place.uid)


def _attachments(view: View, message: Message) -> list[str]:
    query = select(StoredAttachment).where(StoredAttachment.message_pk == message.id)
    files = view.session.scalars(query.order_by(StoredAttachment.position))
    return _titled(view, "attachments", [line for f in files for line in _attachment(view, f)])


def _attachment(view: View, file: StoredAttachment) -> list[str]:
    source = view.word("from_archive", v=file.source) if file.source else ""
    classified = [file.kind or "—", file.school or "—"]
    if file.slot:
        classified.append(view.word("slot", v=file.slot))
    details = [
        view.word("classified", v=" · ".join(classified)),
        view.word("outcome", v=view.label(DECISION_LABELS, file.outcome) if file.outcome else "—"),
    ]
    joiner = "；" if view.lang == "zh" else "; "
    lines = [f"{file.position + 1}. {file.filename}{source}", "   " + joiner.join(details)]
    facts = _facts(view, file.facts or {})
    return lines + ([f"   {view.word('facts', v=facts)}"] if facts else [])


def _facts(view: View, facts: dict[str, Any]) -> str:
    """The key format facts in one line: fonts, sizes, margins, 字数, signatories or pages."""
    parts: list[str] = []
    if facts.get("error"):
        parts.append(view.word("fact_error", v=_short(str(facts["error"]))))
    if facts.get("unchecked"):
        parts.append(view.word("unchecked", v=facts["unchecked"]))
    docx = facts.get("docx")
    if isinstance(docx, dict):
        parts += _docx_facts(view, docx)
    pdf = facts.get("pdf")
    if isinstance(pdf, dict) and "pages" in pdf:
        parts.append(view.word("pages", v=pdf["pages"]))
    return "; ".join(parts)


def _docx_facts(view: View, docx: dict[str, Any]) -> list[str]:
    styles = _styles(docx)
    fonts = _unique(font for s in styles for font in s.get("east_asia_fonts", []))
    sizes = _unique(f"{float(size):g}" for s in styles for size in s.get("sizes", []))
    parts = [
        view.word("fonts", v="/".join(fonts) or "—"),
        view.word("sizes", v="/".join(sizes) or "—"),
    ]
    margins = _unique(_margin(m) for m in docx.get("margins", []) if isinstance(m, dict))
    if margins:
        parts.append(view.word("margins", v=", ".join(margins)))
    if "body_chars" in docx:
        parts.append(view.word("chars", v=docx["body_chars"]))
    names = docx.get("signatories") or []
    parts.append(view.word("signatories", v=view.sep.join(map(str, names)) or "—"))
    return parts


def _styles(docx: dict[str, Any]) -> list[dict[str, Any]]:
    """The styles a Word file's paragraphs show, in the order they first appear: stored as
    such (`styles`, see store/message_files.docx_summary), or, in ledgers written before,
    one entry per paragraph (`paragraphs`)."""
    stored = docx.get("styles")
    if not isinstance(stored, list):
        stored = docx.get("paragraphs")
    return [style for style in stored or [] if isinstance(style, dict)]


def _margin(margin: dict[str, Any]) -> str:
    sides = ("top_cm", "bottom_cm", "left_cm", "right_cm")
    return "/".join(f"{float(margin.get(side, 0)):g}" for side in sides)


def _findings(view: View, message: Message) -> list[str]:
    query = select(FindingRow).where(FindingRow.message_pk == message.id).order_by(FindingRow.id)
    rows = list(view.session.scalars(query))
    return _titled(view, "findings", [_finding(view, n, row) for n, row in enumerate(rows, 1)])


def _finding(view: View, number: int, row: FindingRow) -> str:
    severity = view.label(SEVERITY_LABELS, row.severity)
    line = f"{number}. [{row.rule}] {severity} {_code(view, row.code)}"
    params = dict(row.params or {})
    where = []
    if row.attachment_position is not None:
        where.append(view.word("on_file", v=row.attachment_position + 1))
        params.pop("filename", None)
    compact = [*where, _params(params)] if params else where
    return line + (" — " + "; ".join(compact) if compact else "")


def _code(view: View, code: str) -> str:
    """ "bad_margins（页边距不符合要求）"; an unknown code stands alone."""
    pair = CODE_LABELS.get(code)
    if pair is None:
        return code
    return f"{code}（{pair[0]}）" if view.lang == "zh" else f"{code} ({pair[1]})"


def _params(params: dict[str, Any]) -> str:
    return "; ".join(f"{key}={_value(value)}" for key, value in params.items())


def _value(value: object) -> str:
    if isinstance(value, dict):
        return _short(", ".join(f"{k} {_value(v)}" for k, v in value.items()))
    if isinstance(value, list | tuple):
        return _short(", ".join(_value(item) for item in value))
    return _short(str(value))


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _entries(view: View, message: Message) -> list[str]:
    query = select(Entry).where(Entry.message_pk == message.id).order_by(Entry.id)
    return _titled(view, "entries", [_entry(view, entry) for entry in view.session.scalars(query)])


def _entry(view: View, entry: Entry) -> str:
    state = view.word("current" if entry.current else "replaced")
    return view.word(
        "entry", k=entry.kind, s=entry.slot, v=entry.version, c=state, f=entry.filename
    )


def _registrations(view: View, message: Message) -> list[str]:
    query = select(RegistrationRow).where(RegistrationRow.message_pk == message.id)
    rows = list(view.session.scalars(query.order_by(RegistrationRow.id)))
    if not rows:
        return []
    return _titled(view, "registrations", [_registration(view, row) for row in rows])


def _registration(view: View, row: RegistrationRow) -> str:
    state = view.word("current" if row.current else "replaced")
    record = f"{row.kind}/{row.record}"
    return view.word("registration", r=record, n=row.row, u=row.unit, t=row.title, c=state)


def _large_files(view: View, message: Message) -> list[str]:
    query = select(LargeFile).where(LargeFile.message_pk == message.id).order_by(LargeFile.id)
    links = list(view.session.scalars(query))
    if not links:
        return []
    return _titled(view, "large_files", [_large_file(view, link) for link in links])


def _large_file(view: View, link: LargeFile) -> str:
    expiry = view.time(link.expires_at) if link.expires_at else link.expires_text or "—"
    state = view.label(STATE_LABELS, link.state)
    return view.word("large_file", f=link.filename, s=link.size_text, st=state, e=expiry)


def _decision(view: View, message: Message) -> list[str]:
    lines = [view.word("decision", v=view.label(DECISION_LABELS, message.decision))]
    for key, codes in (("reasons", message.reasons), ("warnings", message.warnings)):
        if codes:
            lines.append(f"  {view.word(key)}" + view.sep.join(_code(view, c) for c in codes))
    return lines


def _replies(view: View, message: Message) -> list[str]:
    query = select(OutboxReply).where(OutboxReply.message_pk == message.id)
    replies = view.session.scalars(query.order_by(OutboxReply.id))
    lines = [line for n, reply in enumerate(replies, 1) for line in _reply(view, n, reply)]
    return _titled(view, "replies", lines)


def _reply(view: View, number: int, reply: OutboxReply) -> list[str]:
    state = view.label(STATE_LABELS, reply.state)
    sent = view.time(reply.sent_at)
    lines = [
        f"{number}. {reply.subject} <{reply.reply_message_id}>",
        "   " + view.word("reply_to", r=reply.recipient, s=state, a=reply.attempts, t=sent),
    ]
    if reply.smtp_response:
        lines.append("   " + view.word("smtp", v=reply.smtp_response))
    if reply.last_error:
        lines.append("   " + view.word("last_error", v=_last_line(reply.last_error)))
    return lines


ACTION_LABELS: dict[str, tuple[str, str]] = {
    "override": ("人工改判", "override"),
    "reprocess": ("重新判定", "reprocess"),
    "retry": ("隔离后重试", "retry"),
}


def _actions(view: View, message: Message) -> list[str]:
    query = select(Action).where(Action.message_pk == message.id).order_by(Action.id)
    lines = [
        view.word(
            "action",
            n=number,
            t=view.time(action.at),
            who=action.by,
            k=view.label(ACTION_LABELS, action.kind),
            old=view.label(DECISION_LABELS, action.old_decision),
            new=view.label(DECISION_LABELS, action.new_decision),
            why=action.reason or "-",
            told=view.word("told") if action.notified else "",
        )
        for number, action in enumerate(view.session.scalars(query), start=1)
    ]
    return _titled(view, "actions", lines)


def _quarantine(view: View, message: Message) -> list[str]:
    if message.decision != "quarantined":
        return []
    return [
        view.word("error", v=_last_line(message.error) or "—"),
        view.word("hint", id=message.id),
    ]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _titled(view: View, title: str, lines: Sequence[str]) -> list[str]:
    body = [f"  {line}" for line in lines] or [f"  {view.word('none')}"]
    return [view.word(title), *body]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


SECTIONS: list[Section] = [
    _header,
    _attachments,
    _findings,
    _entries,
    _registrations,
    _large_files,
    _decision,
    _actions,
    _replies,
    _quarantine,
]
