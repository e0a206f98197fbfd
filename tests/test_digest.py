"""The organizers' daily digest, gathered from databases filled through the flow: both
campaigns of config.example.toml with rosters written here, every situation the digest
reports, the text and HTML it renders, and the HTML opened in headless Chromium."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from databases import database_url
from deployment import CST
from mailmaker import make_docx, make_mail
from servers.dovecot import truthy_env
from sqlalchemy import select

from intake import flow
from intake.app import App, build, repo_path
from intake.campaigns.campaign import Campaign
from intake.config import load_config
from intake.domain import RawMail
from intake.flow import handle
from intake.reports.digest import EMPTY_LINE, Digest, GroupDigest, gather, render
from intake.store.models import MailboxStatus, Message, OutboxReply

SHUANGLIU = "shuangliu-2021"
SUZHOU = "suzhou-2022"
SHUANGLIU_ROSTER = """school,group,senders
双流区实验小学,primary,syxx@school.example
双流区棠湖小学,primary,thxx@school.example
双流区东升小学,primary,dsxx@school.example
双流区黄甲小学,primary,hjxx@school.example
双流区棠湖中学,junior,thzx@school.example
双流区永安中学,junior,yazx@school.example
"""
SUZHOU_ROSTER = """unit,group,level,district,senders
吴江区,,district,,wj@county.example
吴中区,,district,,wz@county.example
姑苏区,,district,,gs@county.example
吴江区实验小学,,school,吴江区,syxx@school.example
吴江区松陵中学,,school,吴江区,
吴中区木渎中学,,school,吴中区,
吴中区苏苑实验小学,,school,吴中区,
苏州中学,,direct,,szzx@school.example
"""
ANNEX3 = ["序号", "案例标题", "区域", "单位", "负责人", "职务", "类别", "学段", "联系电话"]
LINK = (
    "https://wx.mail.qq.com/ftn/download?func=3&key=9d99e661d02acf1eafea48613463323981c72e64"
    "&code=bffa6c29"
)
LINK_BODY = (
    "老师您好，课堂实录较大，请从下面的链接下载。\r\n\r\n从QQ邮箱发来的超大附件\r\n\r\n"
    f"双流区棠湖小学课堂实录.mp4 (128.03M, 2021年5月28日 21:59 到期)进入下载页面：{LINK}\r\n"
)
# Shuangliu: the previous digest went out on 21 May at 07:30, this one on 22 May (the day after
# the deadline).
SL_SINCE = datetime(2021, 5, 21, 7, 30, tzinfo=CST)
SL_NOW = datetime(2021, 5, 22, 7, 30, tzinfo=CST)


@dataclass
class Built:
    app: App
    campaign: Campaign
    receipts: dict[str, str]  # what the test calls each message -> its receipt number


def _app(tmp_path: Path) -> App:
    (tmp_path / "shuangliu.csv").write_text(SHUANGLIU_ROSTER, encoding="utf-8")
    (tmp_path / "suzhou.csv").write_text(SUZHOU_ROSTER, encoding="utf-8")

    def local(data: dict[str, Any]) -> None:
        data["database"] = {"url": database_url(tmp_path)}
        data["storage"] = {"archive_dir": str(tmp_path / "archive")}
        data["replies"] = {"transport": "folder", "folder": str(tmp_path / "outbox")}
        data["campaigns"][SHUANGLIU]["roster"] = str(tmp_path / "shuangliu.csv")
        data["campaigns"][SUZHOU]["roster"] = str(tmp_path / "suzhou.csv")

    return build(load_config(repo_path("config.example.toml"), local))


def _deliver(
    app: App,
    key: str,
    when: datetime,
    sender: str,
    subject: str,
    files: list[tuple[str, bytes]],
    **mail: Any,
) -> Message:
    ref = next(r for r in app.refs if r.key == key)
    raw = make_mail(sender, ref.account, subject, files, **mail)
    return handle(app.intake, ref, RawMail(ref.key, "INBOX", 1, _next_uid(), when, raw))


_UIDS = iter(range(1, 1_000_000))


def _next_uid() -> int:
    return next(_UIDS)


def _recorded_a_minute_after_receipt(app: App) -> None:
    """The ledger stamps recorded_at with the wall clock; the scenario happened in 2021."""
    with app.intake.factory() as session:
        for message in session.scalars(select(Message)):
            message.recorded_at = message.received_at + timedelta(minutes=1)
        session.commit()


def _campaign(app: App, key: str) -> Campaign:
    return next(c for c in app.campaigns if c.id == key)


def _report(school: str, **docx: Any) -> tuple[str, bytes]:
    return (f"{school}报告.docx", make_docx("解读和改进活动报告", **docx))


def _case(school: str, number: int) -> tuple[str, bytes]:
    return (f"{school}改进案例{number}.docx", make_docx("改进案例", "我校的改进做法。"))


@pytest.fixture(scope="module")
def shuangliu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    app = _app(tmp_path_factory.mktemp("shuangliu"))
    primary, junior = f"{SHUANGLIU}/primary", f"{SHUANGLIU}/junior"
    day = datetime(2021, 5, 20, tzinfo=CST)
    receipts = {}

    def send(name: str, key: str, hours: float, sender: str, subject: str, files, **mail):
        message = _deliver(app, key, day + timedelta(hours=hours), sender, subject, files, **mail)
        receipts[name] = message.receipt
        return message

    # Before the previous digest: in the totals, not new. The school sent its report three
    # times before sending it again with its two cases.
    school = "双流区实验小学"
    for number, days in enumerate((-8, -6, -3), 1):
        send(
            f"early{number}",
            primary,
            24 * days + 16,
            "syxx@school.example",
            f"{school}报告",
            [_report(school)],
        )
    send(
        "full",
        primary,
        9,
        "syxx@school.example",
        f"{school}材料",
        [_report(school), _case(school, 1), _case(school, 2)],
    )
    send(
        "junior_report",
        junior,
        10,
        "thzx@school.example",
        "棠湖中学报告",
        [_report("双流区棠湖中学")],
    )
    # New since then (21 May, the deadline day, and after midnight).
    send(
        "bad_font",
        primary,
        24 + 9,
        "thxx@school.example",
        "双流区棠湖小学报告",
        [_report("双流区棠湖小学", font="黑体")],
    )
    send(
        "link",
        primary,
        24 + 10,
        "thxx@school.example",
        "双流区棠湖小学改进案例",
        [_case("双流区棠湖小学", 1)],
        body=LINK_BODY,
    )
    send(
        "bad_name",
        primary,
        24 + 11,
        "hjxx@school.example",
        "材料",
        [("材料.docx", make_docx("材料"))],
    )
    send(
        "auto_reply",
        primary,
        24 + 12,
        "dsxx@school.example",
        "自动回复: <b>休假中</b>",
        [],
        body="这是来自QQ邮箱的假期自动回复邮件。",
    )
    with pytest.MonkeyPatch.context() as patch:
        real = flow.evaluate

        def fail_on_one(facts):
            if "出错小学" in facts.mail.subject:
                raise RuntimeError("a rule broke on this message")
            return real(facts)

        patch.setattr(flow, "evaluate", fail_on_one)
        send("broken", primary, 24 + 13, "cc@school.example", "出错小学报告", [_report("出错小学")])
    send(
        "junior_case",
        junior,
        24 + 14,
        "thzx@school.example",
        "棠湖中学案例",
        [_case("双流区棠湖中学", 1)],
    )
    send(
        "late",
        primary,
        48 + 0.5,
        "dsxx@school.example",
        "东升小学报告",
        [_report("双流区东升小学")],
    )
    _recorded_a_minute_after_receipt(app)
    app.send_replies()
    with app.intake.factory() as session:
        reply = session.scalars(
            select(OutboxReply)
            .join(Message, OutboxReply.message_pk == Message.id)
            .where(Message.receipt == receipts["bad_name"])
        ).one()
        reply.state, reply.last_error = "failed", "550 Mailbox not found: hjxx@school.example"
        session.add(
            MailboxStatus(
                mailbox=junior,
                account="8762808@qq.com",
                last_poll_at=SL_NOW - timedelta(minutes=5),
                last_success_at=datetime(2021, 5, 21, 6, 0, tzinfo=CST),
                last_error_at=SL_NOW - timedelta(minutes=5),
                last_error="登录失败：授权码错误或已过期",
            )
        )
        session.add(
            MailboxStatus(
                mailbox=primary,
                account="1036303270@qq.com",
                last_poll_at=SL_NOW - timedelta(minutes=5),
                last_success_at=SL_NOW - timedelta(minutes=5),
                last_error="",
            )
        )
        session.commit()
    yield Built(app, _campaign(app, SHUANGLIU), receipts)
    app.close()


@pytest.fixture(scope="module")
def shuangliu_digest(shuangliu: Built) -> Digest:
    with shuangliu.app.intake.factory() as session:
        return gather(session, shuangliu.campaign, SL_SINCE, SL_NOW)


@pytest.fixture(scope="module")
def shuangliu_rendered(shuangliu: Built, shuangliu_digest: Digest) -> tuple[str, str]:
    return render(shuangliu.app.intake.templates, shuangliu_digest)


def _group(digest: Digest, key: str) -> GroupDigest:
    return next(group for group in digest.groups if group.key == key)


def test_new_messages_are_listed_by_decision(shuangliu: Built, shuangliu_digest: Digest):
    primary = _group(shuangliu_digest, "primary")
    receipts = shuangliu.receipts
    assert [m.receipt for m in primary.new_accepted] == [receipts["bad_font"], receipts["link"]]
    assert [(m.receipt, m.school, m.reasons) for m in primary.new_rejected] == [
        (receipts["bad_name"], "双流区黄甲小学", ("bad_name",)),
        (receipts["late"], "双流区东升小学", ("late",)),
    ]
    assert [(m.sender, m.reasons) for m in primary.new_ignored] == [
        ("dsxx@school.example", ("auto_reply",))
    ]
    [broken] = primary.new_quarantined
    assert broken.receipt == receipts["broken"]
    assert broken.error == "RuntimeError: a rule broke on this message"
    junior = _group(shuangliu_digest, "junior")
    assert [m.receipt for m in junior.new_accepted] == [receipts["junior_case"]]
    # The messages of 20 May were in the previous digest.
    assert receipts["full"] not in {m.receipt for m in primary.new_accepted}
    assert shuangliu_digest.new_count == 7
    assert shuangliu_digest.new_by_decision() == {
        "accepted": 3,
        "rejected": 2,
        "ignored": 1,
        "quarantined": 1,
    }
    assert not shuangliu_digest.empty


def test_warnings_links_and_unsent_replies_need_a_person(
    shuangliu: Built, shuangliu_digest: Digest
):
    primary = _group(shuangliu_digest, "primary")
    receipts = shuangliu.receipts
    assert [(m.receipt, m.warnings) for m in primary.warnings] == [
        (receipts["bad_font"], ("bad_font",)),
        (receipts["link"], ("large_file_not_kept",)),
    ]
    [link] = primary.links_pending
    assert (link.filename, link.size, link.state, link.receipt, link.school) == (
        "双流区棠湖小学课堂实录.mp4",
        "128.03M",
        "asked",
        receipts["link"],
        "双流区棠湖小学",
    )
    assert link.expires_at == datetime(2021, 5, 28, 21, 59, tzinfo=CST) and not link.expired
    [reply] = primary.replies_failed
    assert (reply.receipt, reply.state, reply.recipient) == (
        receipts["bad_name"],
        "failed",
        "hjxx@school.example",
    )
    assert "550" in reply.error
    [failing] = shuangliu_digest.failing_mailboxes
    assert (failing.key, failing.account) == (f"{SHUANGLIU}/junior", "8762808@qq.com")
    assert failing.last_success_at == datetime(2021, 5, 21, 6, 0, tzinfo=CST)
    # quarantined 1, warnings 2, link 1, reply 1, mailbox 1
    assert shuangliu_digest.attention_count == 6


def test_totals_against_the_roster(shuangliu_digest: Digest):
    primary = _group(shuangliu_digest, "primary")
    [missing] = primary.missing_required
    assert (missing.label, missing.schools) == ("报告", ("双流区东升小学", "双流区黄甲小学"))
    [(at_limit)] = primary.at_case_limit
    assert (at_limit.school, at_limit.label, at_limit.count, at_limit.max) == (
        "双流区实验小学",
        "改进案例",
        2,
        2,
    )
    report, case = primary.totals
    assert (report.roster, report.roster_holding, report.schools, report.files) == (4, 2, 2, 2)
    assert (case.schools, case.files) == (2, 3)
    junior = _group(shuangliu_digest, "junior")
    assert [(m.label, m.schools) for m in junior.missing_required] == [
        ("报告", ("双流区永安中学",))
    ]
    assert junior.at_case_limit == ()
    assert shuangliu_digest.quotas == ()


def test_deadlines_and_submissions_per_day(shuangliu: Built, shuangliu_digest: Digest):
    [stage] = shuangliu_digest.deadlines
    assert (stage.label, stage.closed, stage.days_left) == ("材料报送", True, -1)
    per_day = shuangliu_digest.per_day
    assert len(per_day) == 14 and per_day[-1].day.isoformat() == "2021-05-22"
    assert [(d.day.day, d.count) for d in per_day if d.count] == [
        (12, 1),
        (14, 1),
        (17, 1),
        (20, 2),
        (21, 3),
    ]
    assert per_day[-1].count == 0
    with shuangliu.app.intake.factory() as session:
        earlier = gather(
            session, shuangliu.campaign, None, datetime(2021, 5, 18, 7, 30, tzinfo=CST)
        )
    assert [(s.days_left, s.closed) for s in earlier.deadlines] == [(3, False)]
    # Without a previous digest, everything recorded by then: the three early reports.
    assert [m.receipt for g in earlier.groups for m in g.new_accepted] == [
        shuangliu.receipts[f"early{n}"] for n in (1, 2, 3)
    ]


def test_the_text_names_schools_counts_and_warnings(
    shuangliu: Built, shuangliu_rendered: tuple[str, str]
):
    _, text = shuangliu_rendered
    receipts = shuangliu.receipts
    assert text.startswith(
        "双流区第四届教育质量综合评价结果解读运用展评 每日汇总（2021年5月22日）\n"
    )
    assert "新收到 7 封邮件：已受理 3 封，未受理 2 封，已忽略 1 封，处理出错 1 封。" in text
    assert "需要处理 6 项。" in text
    assert "材料报送：已于 2021年5月21日截止" in text
    assert "【需要处理】" in text and "【小学组】" in text and "【初中组】" in text
    assert "尚未提交报告的学校（2 所）：双流区东升小学、双流区黄甲小学" in text
    assert "尚未提交报告的学校（1 所）：双流区永安中学" in text
    assert "已达篇数上限的学校：双流区实验小学（改进案例 2/2）" in text
    assert "报告：名单中 4 所学校已提交 2 所，尚缺 2 所" in text
    assert f"· ［小学组］警告：{receipts['bad_font']} 双流区棠湖小学：字体不符" in text
    assert f"{receipts['late']} 5月22日 00:30 双流区东升小学：报告，原因：逾期" in text
    assert f"{receipts['bad_name']} 5月21日 11:00 双流区黄甲小学，原因：文件名不符合要求" in text
    assert "已受理（2 封）" in text and "未受理（2 封）" in text
    assert "超大附件“双流区棠湖小学课堂实录.mp4”（128.03M）" in text
    assert "链接 5月28日 21:59 到期" in text
    assert "给 双流区黄甲小学（hjxx@school.example）的回复发送失败" in text
    assert "初中组邮箱（8762808@qq.com）收取失败：登录失败：授权码错误或已过期" in text
    assert "最近一次成功收取：5月21日 06:00" in text
    assert "处理出错，请人工查看" in text and "a rule broke on this message" in text
    assert "自动回复: <b>休假中</b>" in text  # plain text is not escaped
    assert "【近 14 天每日受理】" in text
    assert LINK not in text


def test_the_html_is_self_contained_and_escaped(shuangliu_rendered: tuple[str, str]):
    html, _ = shuangliu_rendered
    assert "每日汇总" in html and "尚未提交报告的学校" in html and "双流区永安中学" in html
    assert "<script" not in html.lower() and "<style" not in html.lower()
    assert "http://" not in html and "https://" not in html and "src=" not in html
    assert "<b>休假中</b>" not in html and "&lt;b&gt;休假中&lt;/b&gt;" in html
    assert "bgcolor=" in html  # the chart's bars are table cells


def test_suzhou_counties_below_minimum_and_an_unregistered_case(tmp_path: Path):
    app = _app(tmp_path)
    city = f"{SUZHOU}/city"
    try:
        topics = datetime(2022, 2, 20, 9, 0, tzinfo=CST)
        wujiang = [
            ANNEX3,
            [
                "1",
                "区域推进监测结果运用的实践",
                "吴江区",
                "吴江区教育局",
                "沈明",
                "副局长",
                "管理",
                "初中",
                "0512-63456789",
            ],
            [
                "2",
                "基于监测数据的数学课堂改进",
                "吴江区",
                "吴江区实验小学",
                "陆芳",
                "",
                "数学",
                "小学",
                "13912345678",
            ],
        ]
        wuzhong = [
            ANNEX3,
            [
                "1",
                "初中英语阅读素养提升",
                "吴中区",
                "吴中区木渎中学",
                "周强",
                "",
                "英语",
                "初中",
                "13812345678",
            ],
            [
                "2",
                "学生睡眠时间的家校协同改进",
                "吴中区",
                "吴中区苏苑实验小学",
                "钱丽",
                "",
                "相关因素",
                "小学",
                "13712345678",
            ],
        ]
        _deliver(
            app,
            city,
            topics,
            "wj@county.example",
            "吴江区汇总表",
            [("吴江区汇总表.csv", _csv(wujiang))],
        )
        below = _deliver(
            app,
            city,
            topics,
            "wz@county.example",
            "吴中区汇总表",
            [("吴中区汇总表.csv", _csv(wuzhong))],
        )
        assert below.warnings == ["below_minimum"]
        final = datetime(2022, 12, 1, 15, 0, tzinfo=CST)
        matched = _deliver(
            app,
            city,
            final,
            "syxx@school.example",
            "参评案例",
            [
                (
                    "吴江区实验小学-基于监测数据的数学课堂改进.docx",
                    make_docx("基于监测数据的数学课堂改进"),
                )
            ],
        )
        assert (matched.decision, matched.warnings) == ("accepted", [])
        unregistered = _deliver(
            app,
            city,
            final + timedelta(hours=1),
            "syxx@school.example",
            "参评案例",
            [("吴江区实验小学-课后服务质量提升.docx", make_docx("课后服务质量提升"))],
        )
        assert unregistered.warnings == ["unregistered_case"]
        _recorded_a_minute_after_receipt(app)
        campaign = _campaign(app, SUZHOU)
        now = datetime(2022, 12, 2, 7, 30, tzinfo=CST)
        with app.intake.factory() as session:
            digest = gather(session, campaign, now - timedelta(days=1), now)
            lowered = replace(
                campaign,
                settings=campaign.settings.model_copy(
                    update={
                        "limits": tuple(
                            limit.model_copy(update={"max": 1})
                            if limit.level == "school"
                            else limit
                            for limit in campaign.settings.limits
                        )
                    }
                ),
            )
            after_lowering = gather(session, lowered, now - timedelta(days=1), now)
            quiet = gather(session, campaign, now, now + timedelta(days=1))
        templates = app.intake.templates
    finally:
        app.close()

    assert [(q.holder, q.level, q.count, q.min, q.problem) for q in digest.quotas] == [
        ("吴中区", "district", 0, 1, "below"),
        ("姑苏区", "district", 0, 1, "below"),
        ("苏州中学", "direct", 0, 1, "below"),
    ]
    [city_group] = digest.groups
    [case] = city_group.unregistered_cases
    assert (case.school, case.filename, case.label, case.receipt) == (
        "吴江区实验小学",
        "吴江区实验小学-课后服务质量提升.docx",
        "参评案例",
        unregistered.receipt,
    )
    assert [m.warnings for m in city_group.warnings] == [("unregistered_case",)]
    assert city_group.missing_required == ()  # no kind of Suzhou is required of every unit
    assert [(d.label, d.closed, d.days_left) for d in digest.deadlines] == [
        ("联络人信息报送", True, -289),
        ("选题申报", True, -284),
        ("案例总结参评", False, 11),
    ]
    above = [(q.holder, q.count, q.max) for q in after_lowering.quotas if q.problem == "above"]
    assert above == [("吴中区", 2, 1)]

    _, text = render(templates, digest)
    assert "案例总结参评：距截止还有 11 天（2022年12月13日）" in text
    assert "选题申报：已于 2022年2月21日截止" in text
    assert "吴中区：已登记区域层面案例 0 个，至少应有 1 个" in text
    assert "姑苏区：已登记区域层面案例 0 个，至少应有 1 个" in text
    assert "苏州中学：已登记直属学校案例 0 个，至少应有 1 个" in text
    assert "未对应已申报案例的参评案例（1 份）" in text
    assert "吴江区实验小学：“吴江区实验小学-课后服务质量提升.docx”" in text
    assert "吴中区：已登记学校层面案例 2 个，超过最多 1 个" in render(templates, after_lowering)[1]

    assert quiet.empty
    html, text = render(templates, quiet)
    assert text == EMPTY_LINE + "\n"
    assert EMPTY_LINE in html and "<table" in html


def _csv(rows: list[list[str]]) -> bytes:
    """What Chinese Excel saves as CSV: GB18030."""
    return "\r\n".join(",".join(row) for row in rows).encode("gb18030")


# --- the HTML in a browser ---------------------------------------------------------------------

CHROMIUM_MISSING = (
    "Chromium is not installed: run `apt-get install chromium fonts-noto-cjk` "
    "(the fonts so that Chinese is not drawn as boxes)"
)


def _chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        if truthy_env("CI"):
            pytest.fail(f"{CHROMIUM_MISSING} [CI is set, so this is a failure, not a skip]")
        pytest.skip(CHROMIUM_MISSING)
    return binary


def screenshot(html: str, png: Path, work: Path, size: tuple[int, int] = (900, 1400)) -> Path:
    """Open the HTML in headless Chromium, offline, and take a screenshot of the window."""
    work.mkdir(parents=True, exist_ok=True)
    page = work / "digest.html"
    page.write_text(html, encoding="utf-8")
    profile = work / "profile"
    profile.mkdir()
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={size[0]},{size[1]}",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert png.exists(), f"Chromium wrote no screenshot (exit {done.returncode}):\n{done.stderr}"
    return png


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of RGB(A) bytes of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, header = 8, [], b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, "only 8-bit RGB(A) is read"
    step = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = width * step
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - step] if i >= step else 0
                b, c = previous[i], previous[i - step] if i >= step else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line if step == 3 else _rgb(line)))
        previous = line
    return width, height, rows


def _rgb(rgba: bytearray) -> bytes:
    out = bytearray(len(rgba) // 4 * 3)
    out[0::3], out[1::3], out[2::3] = rgba[0::4], rgba[1::4], rgba[2::4]
    return bytes(out)


def test_chromium_shows_the_digest(shuangliu_rendered: tuple[str, str], tmp_path: Path):
    html, _ = shuangliu_rendered
    png = screenshot(html, tmp_path / "digest.png", tmp_path)
    width, height, rows = png_pixels(png.read_bytes())
    assert (width, height) == (900, 1400)
    inked = sum(
        1
        for row in rows
        for i in range(0, len(row), 3)
        if row[i] < 200 or row[i + 1] < 200 or row[i + 2] < 200
    )
    assert inked > width * height // 50, f"only {inked} dark pixels: the page looks blank"
    # The inline styles were applied: the page's background beside the 640 px column, and the
    # header's colour inside it.
    assert rows[300][10 * 3 : 10 * 3 + 3] == bytes.fromhex("eef1f5")
    assert rows[40][300 * 3 : 300 * 3 + 3] == bytes.fromhex("1f4e79")
    example = os.environ.get("INTAKE_DIGEST_EXAMPLE")
    if example:  # INTAKE_DIGEST_EXAMPLE=docs/digest-example.png refreshes the docs' picture
        _whole_page(html, Path(example), tmp_path)


def _whole_page(html: str, png: Path, work: Path) -> None:
    """A screenshot as tall as the digest: measured on a tall one, then taken again."""
    tall = screenshot(html, work / "tall.png", work / "tall", (900, 4000))
    _, height, rows = png_pixels(tall.read_bytes())
    background = bytes.fromhex("eef1f5")
    end = max(y for y in range(height) if rows[y][300 * 3 : 300 * 3 + 3] != background)
    screenshot(html, png, work / "fitted", (900, end + 24))
