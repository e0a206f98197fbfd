"""A large, realistic inbox for fault tests: 1,000 submissions from hundreds of schools.

Most messages are a school's 报告 or 改进案例 as the notice asks, named `{school}报告.docx` and
`{school}改进案例N.docx`; some schools send a second report (a new version), a third case (over
the limit of two), a misnamed file or no file at all, and a few robots answer with a vacation
note. Every message says what a clean run must decide on it, so a test can compare.

Two Word files are written once and shared by every message: building the inbox takes
well under a second, and loading it into Dovecot is one connection per mailbox.
"""

from __future__ import annotations

import mailbox
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path

from deployment import CST
from mailmaker import make_docx, make_mail
from servers import Dovecot

#: The first message arrives then; the last about ten days later, before the deadline
#: (2021-05-21, the campaign of tests/deployment.py).
FIRST = datetime(2021, 5, 10, 8, 0, tzinfo=CST)
SPREAD_MINUTES = 10 * 24 * 60

# Place names of 双流区, combined with the variants into school names.
_PLACES = (
    "棠湖 东升 华阳 九江 彭镇 金桥 黄甲 永安 胜利 新兴 公兴 "
    "黄水 西航港 白家 协和 怡心 官堰 正兴 太平 籍田 永兴 兴隆 "
    "煎茶 合江 大林 三星 万安 黄龙溪 中和 安公 红石 锦华 双华 "
    "航都 空港 蛟龙 应天 芙蓉 文星 清泉"
)
_VARIANTS = ("", "第一", "第二", "实验", "外国语", "附属", "育才", "新城")
_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"

#: What a message is, what a clean run decides on it and why.
Kind = tuple[str, str, tuple[str, ...]]
REPORT: Kind = ("report", "accepted", ())
CASE: Kind = ("case", "accepted", ())
THIRD_CASE: Kind = ("case", "rejected", ("over_limit",))
NEW_VERSION: Kind = ("report_again", "accepted", ())
BAD_NAME: Kind = ("bad_name", "rejected", ("bad_name",))
NO_FILE: Kind = ("no_file", "rejected", ("missing_attachment",))
AUTO_REPLY: Kind = ("auto_reply", "ignored", ("auto_reply",))


@dataclass(frozen=True)
class Letter:
    """One message of the inbox, with what a clean run decides on it."""

    group: str  # "primary" or "junior"
    raw: bytes
    received: datetime  # the INTERNALDATE it is delivered with
    message_id: str
    sender: str
    school: str
    what: str
    decision: str
    reasons: tuple[str, ...]

    @property
    def answered(self) -> bool:
        return self.decision in ("accepted", "rejected")


@cache
def _documents() -> dict[str, bytes]:
    """The few Word files every message shares (a real .docx each, written once)."""
    return {
        "report": make_docx("教育质量综合评价结果解读和改进活动报告"),
        "case": make_docx("基于评价结果的课堂教学改进案例"),
    }


def school_names(suffix: str, count: int, rng: random.Random) -> list[str]:
    """`count` different school names ending in `suffix` ("小学" or "中学")."""
    names = [
        f"双流区{place}{variant}{suffix}" for place in _PLACES.split() for variant in _VARIANTS
    ]
    if count > len(names):
        raise ValueError(f"at most {len(names)} schools")
    return rng.sample(names, count)


def build_inbox(total: int = 1000, seed: int = 2021) -> list[Letter]:
    """`total` messages (at least 100), 60 % to the primary mailbox and 40 % to the junior
    one, in the order the server received them."""
    rng = random.Random(seed)
    primary = round(total * 0.6)
    letters = _group("primary", "小学", primary, rng) + _group(
        "junior", "中学", total - primary, rng
    )
    return sorted(letters, key=lambda letter: letter.received)


def _group(group: str, suffix: str, count: int, rng: random.Random) -> list[Letter]:
    """One mailbox's share: per 100 messages about 33 reports, 25 first and 20 second cases,
    3 third cases, 7 new versions, 6 misnamed files, 3 without a file and 3 vacation notes."""
    share = {
        "third": count * 3 // 100,
        "again": count * 7 // 100,
        "bad": count * 6 // 100,
        "none": count * 3 // 100,
        "auto": max(2, count * 3 // 100),
    }
    cases = count * 45 // 100  # first and second cases
    schools = school_names(suffix, count - sum(share.values()) - cases, rng)
    # What each school sends, in its order: a report, maybe cases, maybe a new version.
    plans: dict[str, list[Kind]] = {school: [REPORT] for school in schools}
    with_cases = rng.sample(schools, (cases + 1) // 2)
    for number, school in enumerate(with_cases):
        plans[school] += [CASE, CASE] if number * 2 + 1 < cases else [CASE]
    for school in rng.sample([s for s in with_cases if len(plans[s]) == 3], share["third"]):
        plans[school].append(THIRD_CASE)
    for school in rng.sample(schools, share["again"]):
        plans[school].append(NEW_VERSION)
    # (school, kind, case number); a misnamed file, an empty message or a vacation note
    # comes from some school's teacher at any time.
    messages = [
        (school, kind, _case_number(plan, position))
        for school, plan in plans.items()
        for position, kind in enumerate(plan)
    ]
    for kind, how_many in ((BAD_NAME, share["bad"]), (NO_FILE, share["none"])):
        messages += [(rng.choice(schools), kind, 0) for _ in range(how_many)]
    messages += [(rng.choice(schools), AUTO_REPLY, 0) for _ in range(share["auto"])]
    assert len(messages) == count, (len(messages), count)
    # Receive times: all different, at random, but each school's plan in its order.
    minutes = rng.sample(range(SPREAD_MINUTES), count)
    times = sorted(FIRST + timedelta(minutes=m, seconds=rng.randrange(60)) for m in minutes)
    slots = rng.sample(range(count), count)
    start = 0
    for plan in plans.values():
        slots[start : start + len(plan)] = sorted(slots[start : start + len(plan)])
        start += len(plan)
    senders = {school: _sender(rng, number, group) for number, school in enumerate(schools)}
    return [
        _letter(group, school, senders[school], kind, times[slot], case, rng)
        for (school, kind, case), slot in zip(messages, slots, strict=True)
    ]


def _case_number(plan: list[Kind], position: int) -> int:
    """1, 2, 3 for a school's first, second and third case; 0 for anything else."""
    if plan[position][0] != "case":
        return 0
    return sum(1 for kind in plan[: position + 1] if kind[0] == "case")


def _sender(rng: random.Random, number: int, group: str) -> str:
    """A teacher's address: a QQ number for most, a school domain for some."""
    name = rng.choice(_SURNAMES) + "老师"
    if rng.random() < 0.7:
        return f"{name} <{rng.randrange(10**8, 10**10)}@qq.com>"
    return f"{name} <teacher{number}@{group}{number}.school.example>"


def _letter(
    group: str,
    school: str,
    sender: str,
    kind: Kind,
    when: datetime,
    case_number: int,
    rng: random.Random,
) -> Letter:
    what, decision, reasons = kind
    documents = _documents()
    headers = {"Received": f"from mx.school.example by mx.qq.com; {format_datetime(when)}"}
    body = "老师您好，附件是我校的材料，请查收。"
    if what == "report":
        subject, files = f"{school}报告", [(f"{school}报告.docx", documents["report"])]
    elif what == "report_again":
        name = f"{school}报告（修改版）.docx"
        subject, files = f"{school}报告 修改", [(name, documents["report"])]
    elif what == "case":
        name = f"{school}改进案例{case_number}.docx"
        subject, files = name.removesuffix(".docx"), [(name, documents["case"])]
    elif what == "bad_name":
        subject, files = "材料", [("新建 Microsoft Word 文档.docx", documents["report"])]
    elif what == "no_file":
        subject, files = "材料", []
    else:  # a vacation note from the school's mail robot
        subject, files = "自动回复: 材料", []
        headers["Auto-Submitted"] = "auto-replied"
        body = "这是来自QQ邮箱的假期自动回复邮件。您好，我最近正在休假中，无法亲自回复您的邮件。"
    message_id = f"<{rng.getrandbits(64):016x}.{group}@school.example>"
    raw = make_mail(
        sender,
        "intake@qq.com",
        subject,
        files,
        body=body,
        headers=headers,
        date=when,
        message_id=message_id,
    )
    address = sender.split("<", 1)[1].rstrip(">")
    return Letter(group, raw, when, message_id, address, school, what, decision, reasons)


def deliver(dovecot: Dovecot, accounts: dict[str, str], letters: list[Letter]) -> dict[str, int]:
    """APPEND every letter to its group's INBOX with its receive time, one connection per
    mailbox; returns each group's highest UID."""
    highest = {}
    for group, account in accounts.items():
        mine = [(letter.raw, letter.received, ()) for letter in letters if letter.group == group]
        if mine:
            highest[group] = max(dovecot.append_many(account, "INBOX", mine))
    return highest


def write_mbox(path: Path, letters: Iterator[Letter] | list[Letter]) -> Path:
    """An .mbox export of the letters (line ends as a mail program writes them: LF)."""
    box = mailbox.mbox(path)
    box.lock()
    try:
        for letter in letters:
            box.add(letter.raw.replace(b"\r\n", b"\n"))
        box.flush()
    finally:
        box.unlock()
        box.close()
    return path
