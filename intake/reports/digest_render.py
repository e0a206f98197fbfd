"""The digest as an HTML mail and its plain-text twin, saying the codes in Chinese."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from jinja2 import Environment

from intake.replies import LEVEL_LABELS, RECORD_LABELS, chinese_date
from intake.reports.digest_model import (
    ActionLine,
    DayCount,
    DeadlineLeft,
    Digest,
    KindTotal,
    MailboxHealth,
    MessageLine,
    QuotaIssue,
)

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"
#: The widest bar of the chart, in pixels.
CHART_WIDTH_PX = 360

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

EMPTY_LINE = "昨日以来没有新邮件，也没有需要处理的事项。"


def render(env: Environment, digest: Digest) -> tuple[str, str]:
    """The digest as (html, text), from templates/digest.html.j2 and digest.txt.j2.

    The HTML template is rendered with autoescaping on whatever `env` says: every name,
    subject and error in it comes from outside."""
    context = _context(digest)
    html = env.overlay(autoescape=True).get_template(HTML_TEMPLATE).render(**context)
    text = env.overlay(autoescape=False).get_template(TEXT_TEMPLATE).render(**context)
    return html, text


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


def _context(digest: Digest) -> dict[str, Any]:
    when = _when_for(digest.day)
    counts = digest.new_by_decision()
    return {
        "d": digest,
        "title": f"{digest.campaign_name} 每日汇总（{chinese_date(digest.day)}）",
        "empty_line": EMPTY_LINE,
        "period": _period(digest, when),
        "summary": _summary(digest.new_count, counts),
        "counts": counts,
        "chart": _chart(digest.per_day),
        "chart_width": CHART_WIDTH_PX,
        "when": when,
        "unit": digest.unit_word,
        "measure": "所" if digest.unit_word == "学校" else "个",
        "several_groups": len(digest.groups) > 1,
        **_texts(digest, when),
    }


def _texts(digest: Digest, when: Callable[[datetime | None], str]) -> dict[str, Any]:
    """What the templates call to say a date, a code or an item in Chinese."""
    return {
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
        "mailbox_text": lambda box: mailbox_text(box, when),
        "action_text": lambda line: action_text(line, when),
    }


ACTION_KINDS = {"override": "人工改判", "reprocess": "重新判定", "retry": "隔离后重试"}


def action_text(line: ActionLine, when: Callable[[datetime | None], str]) -> str:
    """ "SL21-00042 双流区实验小学：未受理 → 已受理（人工改判，zhang：已核实，5月21日 10:00）"."""
    old = DECISION_LABELS.get(line.old_decision, line.old_decision)
    new = DECISION_LABELS.get(line.new_decision, line.new_decision)
    why = f"：{line.reason}" if line.reason else ""
    kind = ACTION_KINDS.get(line.kind, line.kind)
    who = f"{kind}，{line.by}{why}，{when(line.at)}"
    return f"{line.receipt} {line.school or '-'}：{old} → {new}（{who}）"


def _when_for(today: date) -> Callable[[datetime | None], str]:
    def when(moment: datetime | None) -> str:
        """ "5月20日 09:00", with the year when it is not the digest's year."""
        if moment is None:
            return ""
        year = f"{moment.year}年" if moment.year != today.year else ""
        return f"{year}{moment.month}月{moment.day}日 {moment:%H:%M}"

    return when


def _period(digest: Digest, when: Callable[[datetime | None], str]) -> str:
    since = digest.since
    return f"{when(since)} 至 {when(digest.now)}" if since else f"截至 {when(digest.now)}"


def _summary(new_count: int, counts: dict[str, int]) -> str:
    return (
        f"新收到 {new_count} 封邮件：已受理 {counts['accepted']} 封，"
        f"未受理 {counts['rejected']} 封，已忽略 {counts['ignored']} 封，"
        f"处理出错 {counts['quarantined']} 封。"
    )


def _chart(per_day: tuple[DayCount, ...]) -> list[dict[str, Any]]:
    widest = max((day.count for day in per_day), default=0)
    return [
        {
            "day": f"{day.day.month}月{day.day.day}日",
            "weekday": "一二三四五六日"[day.day.weekday()],
            "count": day.count,
            "px": round(CHART_WIDTH_PX * day.count / widest) if widest and day.count else 0,
        }
        for day in per_day
    ]
