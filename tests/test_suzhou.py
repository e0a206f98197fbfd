"""The Suzhou 2022 campaign, as shipped in config.example.toml, running beside Shuangliu 2021
on the same intake: real Dovecot mailboxes, a real SMTP server, and registration tables
written by LibreOffice as a county office would write them."""

from __future__ import annotations

import email
import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from deployment import CST, Deployment, deploy
from mailmaker import make_docx, make_mail
from office import require_soffice, write_spreadsheet, write_word_table
from servers import Dovecot, SmtpServer

pytestmark = pytest.mark.office

ROSTER = """unit,group,level,district,senders
吴江区,,district,,wj-coordinator@county.example
吴中区,,district,,wz-coordinator@county.example
姑苏区,,district,,gs-coordinator@county.example
吴江区实验小学,,school,吴江区,syxx@school.example
吴江区松陵中学,,school,吴江区,
吴江区盛泽小学,,school,吴江区,
吴江区思贤小学,,school,吴江区,
吴中区木渎中学,,school,吴中区,
吴中区苏苑实验小学,,school,吴中区,
苏州中学,,direct,,szzx@school.example
"""
ANNEX1 = [["单位", "姓名", "职务", "手机号码", "QQ号"]]
ANNEX3_HEADER = ["序号", "案例标题", "区域", "单位", "负责人", "职务", "类别", "学段", "联系电话"]
WUJIANG_CASES = [
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
        "教导主任",
        "数学",
        "小学",
        "13912345678",
    ],
    [
        "3",
        "初中英语阅读素养提升",
        "吴江区",
        "吴江区松陵中学",
        "周强",
        "教研组长",
        "英语",
        "初中",
        "13812345678",
    ],
    [
        "4",
        "学生睡眠时间的家校协同改进",
        "吴江区",
        "吴江区盛泽小学",
        "钱丽",
        "德育主任",
        "相关因素",
        "小学",
        "13712345678",
    ],
    [
        "5",
        "科学探究能力的课堂培养",
        "吴江区",
        "吴江区思贤小学",
        "孙伟",
        "校长",
        "科学",
        "小学",
        "13612345678",
    ],
    [
        "6",
        "体育大课间改进",
        "吴江区",
        "吴江区思贤小学",
        "孙伟",
        "校长",
        "体育",
        "小学",
        "13612345678",
    ],
]
WUZHONG_CASES = [
    [
        "1",
        "木渎中学语文阅读教学改进",
        "吴中区",
        "吴中区木渎中学",
        "王红",
        "教师",
        "语文",
        "初中",
        "13512345678",
    ],
    [
        "2",
        "小学数学作业设计优化",
        "吴中区",
        "吴中区苏苑实验小学",
        "李明",
        "教师",
        "数学",
        "小学",
        "(0512)66123456",
    ],
]


def _sent(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=CST)


def _mail(sender: str, subject: str, files: list[tuple[str, bytes]]) -> bytes:
    return make_mail(sender, "1026875682@qq.com", subject, files)


def _body(raw: bytes) -> str:
    message = email.message_from_bytes(raw)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Annex 1 and Annex 3 as a county office sends them, written by LibreOffice."""
    require_soffice()
    folder = tmp_path_factory.mktemp("tables")
    title = [["各区域优秀案例申报信息汇总表"]]
    files = {
        "wujiang-annex1.xlsx": write_spreadsheet(
            [
                ["2022年度优秀案例评选活动联络人信息上报表"],
                *ANNEX1,
                ["吴江区教育局", "沈明", "科长", "13900001111", "123456789"],
            ],
            folder / "a1.xlsx",
            "xlsx",
        ),
        "wuzhong-annex1.xls": write_spreadsheet(
            [*ANNEX1, ["吴中区教育局", "顾青", "科员", "13900002222", "987654321"]],
            folder / "a1.xls",
            "xls",
        ),
        "wujiang-annex3.xlsx": write_spreadsheet(
            [*title, ANNEX3_HEADER, *WUJIANG_CASES], folder / "a3.xlsx", "xlsx"
        ),
        "wuzhong-annex3.docx": write_word_table(
            "各区域优秀案例申报信息汇总表",
            [ANNEX3_HEADER, *WUZHONG_CASES],
            folder / "a3.docx",
        ),
        "wuzhong-annex3-fixed.docx": write_word_table(
            "各区域优秀案例申报信息汇总表",
            [
                ANNEX3_HEADER,
                *WUZHONG_CASES,
                [
                    "3",
                    "区域作业管理改革",
                    "吴中区",
                    "吴中区教育局",
                    "张华",
                    "科长",
                    "管理",
                    "初中",
                    "0512-66000000",
                ],
            ],
            folder / "a3-fixed.docx",
        ),
    }
    return {name: path.read_bytes() for name, path in files.items()}


@pytest.fixture
def both(dovecot: Dovecot, smtp_server: SmtpServer, tmp_path: Path) -> Deployment:
    roster = tmp_path / "suzhou-roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    return deploy(dovecot, smtp_server, tmp_path, budget=20, suzhou_roster=str(roster))


def _registrations(deployment: Deployment) -> dict:
    return json.loads(deployment.intake("registrations", "--json", "--campaign", "suzhou-2022"))


def test_both_campaigns_run_side_by_side_through_every_suzhou_stage(
    both: Deployment, tables: dict[str, bytes]
):
    shuangliu = make_mail(
        "t@school.example",
        "b@qq.com",
        "双流区实验小学报告",
        [("双流区实验小学报告.docx", make_docx("报告"))],
    )
    both.deliver("primary", shuangliu, datetime(2021, 5, 20, 9, 0, tzinfo=CST))
    wj, wz = "wj-coordinator@county.example", "wz-coordinator@county.example"
    deliveries = [
        (
            wj,
            "吴江区联络人信息",
            "附件1 联络人信息上报表（吴江区）.xlsx",
            "wujiang-annex1.xlsx",
            "2022-02-15",
        ),
        (wz, "吴中区联络人信息", "吴中区联络人.xls", "wuzhong-annex1.xls", "2022-02-17"),
        (
            wj,
            "吴江区汇总表",
            "附件3 吴江区优秀案例申报信息汇总表.xlsx",
            "wujiang-annex3.xlsx",
            "2022-02-20",
        ),
        (wz, "汇总表", "吴中区汇总表.docx", "wuzhong-annex3.docx", "2022-02-21"),
    ]
    for sender, subject, filename, table, day in deliveries:
        both.deliver("city", _mail(sender, subject, [(filename, tables[table])]), _sent(day))
    final = make_docx("基于监测数据的数学课堂改进", "我校根据监测结果改进数学课堂。")
    both.deliver(
        "city",
        _mail(
            "syxx@school.example",
            "参评案例",
            [("吴江区实验小学-基于监测数据的数学课堂改进（定稿）.docx", final)],
        ),
        _sent("2022-12-01"),
    )
    both.deliver(
        "city",
        _mail(wj, "参评案例修改稿", [("吴江区实验小学 基于监测数据的数学课堂改进.docx", final)]),
        _sent("2022-12-10"),
    )
    both.deliver(
        "city",
        _mail(
            "syxx@school.example",
            "参评案例",
            [("吴江区实验小学-劳动教育课程开发.docx", make_docx("劳动教育课程开发"))],
        ),
        _sent("2022-12-02"),
    )
    both.poll()

    rows = both.ledger()
    assert [(r["campaign"], r["stage"], r["decision"]) for r in rows] == [
        ("sl", "submission", "accepted"),
        ("suzhou-2022", "contacts", "accepted"),
        ("suzhou-2022", "contacts", "rejected"),
        ("suzhou-2022", "topics", "accepted"),
        ("suzhou-2022", "topics", "accepted"),
        ("suzhou-2022", "final", "accepted"),
        ("suzhou-2022", "final", "accepted"),
        ("suzhou-2022", "final", "accepted"),
    ]
    _, contact, late, wujiang, wuzhong, first, second, unregistered = rows
    assert (contact["school"], contact["kind"]) == ("吴江区", "contacts")
    assert late["reasons"] == ["late"]
    assert wujiang["school"] == "吴江区"
    assert {"bad_row", "over_limit_rows"} <= set(wujiang["warnings"])
    assert "below_minimum" not in wujiang["warnings"]
    assert (wuzhong["school"], wuzhong["warnings"]) == ("吴中区", ["below_minimum"])
    assert (first["school"], first["warnings"]) == ("吴江区实验小学", [])
    assert second["school"] == "吴江区实验小学"
    assert unregistered["warnings"] == ["unregistered_case"]

    # The ledger: registered contacts and cases; one county has 3 school cases kept.
    cases = both.sql(
        "select unit, level, row, title from registrations"
        " where kind = 'topics' and current order by id"
    )
    assert cases == [
        ("吴江区", "district", 3, "区域推进监测结果运用的实践"),
        ("吴江区实验小学", "school", 4, "基于监测数据的数学课堂改进"),
        ("吴江区松陵中学", "school", 5, "初中英语阅读素养提升"),
        ("吴江区盛泽小学", "school", 6, "学生睡眠时间的家校协同改进"),
        ("吴中区木渎中学", "school", 2, "木渎中学语文阅读教学改进"),
        ("吴中区苏苑实验小学", "school", 3, "小学数学作业设计优化"),
    ]
    assert (
        both.sql("select unit, \"values\" from registrations where kind = 'contacts'")[0][0]
        == "吴江区"
    )
    # The second final file of the same case is its version 2.
    assert both.sql(
        "select school, version, current from entries where kind = 'final' and school = '吴江区实验小学'"
        " order by id"
    ) == [("吴江区实验小学", 1, 0), ("吴江区实验小学", 2, 1), ("吴江区实验小学", 1, 1)]

    # The day's digest to the organizers goes out too: set it aside.
    sent = [m for m in both.smtp.wait_for_messages(9) if m.rcpt_tos != ("1026875682@qq.com",)]
    assert len(sent) == 8  # every decided message is answered once
    replies: dict[str, list[str]] = {}
    for reply in sent:
        replies.setdefault(reply.rcpt_tos[0], []).append(_body(reply.raw))
    if os.environ.get("SHOW_REPLIES"):
        print("\n\n".join(body for bodies in replies.values() for body in bodies))
    for bodies in replies.values():
        for body in bodies:
            assert "活动：" in body and "阶段：" in body
    wj_bodies = replies[wj]
    assert "联络人信息报送" in wj_bodies[0] and "2022年2月16日" in wj_bodies[0]
    table_reply = wj_bodies[1]
    assert "第 8 行" in table_reply and "体育" in table_reply and "语文、数学" in table_reply
    assert "第 7 行" in table_reply and "不超过 3 个" in table_reply
    assert (
        "基于监测数据的数学课堂改进、初中英语阅读素养提升、学生睡眠时间的家校协同改进"
        in table_reply
    )
    late_reply, wuzhong_reply = replies[wz]
    assert (
        "联络人信息报送" in late_reply
        and "2022年2月16日" in late_reply
        and "过期不再接收" in late_reply
    )
    assert "区域层面案例为 0 个" in wuzhong_reply and "至少应有 1 个" in wuzhong_reply
    matched, unmatched = replies["syxx@school.example"]
    assert "对应已申报案例“基于监测数据的数学课堂改进”" in matched
    assert "未能对应到已申报的案例" in unmatched and "劳动教育课程开发" in unmatched
    shuangliu_reply = replies["t@school.example"][0]
    assert "双流区第四届" in shuangliu_reply and "阶段：材料报送" in shuangliu_reply


def test_a_county_below_its_minimum_is_shown_until_it_sends_a_fixed_table(
    both: Deployment, tables: dict[str, bytes]
):
    wz = "wz-coordinator@county.example"
    both.deliver(
        "city",
        _mail(wz, "汇总表", [("吴中区汇总表.docx", tables["wuzhong-annex3.docx"])]),
        _sent("2022-02-18"),
    )
    both.poll()
    shortfalls = _registrations(both)["shortfalls"]
    assert {"holder": "吴中区", "level": "district", "min": 1, "count": 0} in [
        {k: s[k] for k in ("holder", "level", "min", "count")} for s in shortfalls
    ]
    # Counties and directly-run schools that sent nothing are short too.
    assert {s["holder"] for s in shortfalls} >= {"吴江区", "姑苏区", "苏州中学"}

    both.deliver(
        "city",
        _mail(wz, "汇总表（更新）", [("吴中区汇总表.docx", tables["wuzhong-annex3-fixed.docx"])]),
        _sent("2022-02-20"),
    )
    both.poll()
    registered = _registrations(both)
    assert "吴中区" not in {s["holder"] for s in registered["shortfalls"]}
    titles = [c["title"] for c in registered["cases"] if c["district"] == "吴中区"]
    assert titles == ["木渎中学语文阅读教学改进", "小学数学作业设计优化", "区域作业管理改革"]
    [old_table, new_table] = [r for r in both.ledger() if r["kind"] == "topics"]
    assert new_table["warnings"] == [] and old_table["warnings"] == ["below_minimum"]
