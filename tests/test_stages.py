"""Suzhou's rules without servers: stages, unit placement, county limits and title matching,
on the campaign exactly as config.example.toml ships it, with a roster written here."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from intake.campaigns.campaign import Campaign, load_campaigns
from intake.campaigns.cases import match_cases
from intake.campaigns.classify import classify
from intake.campaigns.roster import Roster, load_roster
from intake.config import load_config
from intake.domain import Attachment, Decision, ParsedMail
from intake.rules.base import MessageFacts, RegisteredRow
from intake.rules.chain import evaluate
from intake.rules.registration import place_unit, shortfalls

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
CST = timezone(timedelta(hours=8))
ROSTER = """unit,group,level,district,senders
吴江区,,district,,wj@county.example
吴江区实验小学,,school,吴江区,
苏州中学,,direct,,szzx@school.example
"""


@pytest.fixture(scope="module")
def suzhou(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    roster = tmp_path_factory.mktemp("roster") / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    [campaign] = [c for c in load_campaigns(load_config(EXAMPLE)) if c.id == "suzhou-2022"]
    return Campaign(campaign.id, campaign.settings, load_roster(roster))


def _mail(files: dict[str, bytes], subject: str = "材料", sender: str = "wj@county.example"):
    attachments = tuple(
        Attachment(name, "application/octet-stream", data) for name, data in files.items()
    )
    return ParsedMail(
        message_id="m@x",
        sender=sender,
        sender_name="",
        reply_to=sender,
        to=(),
        subject=subject,
        date=None,
        text="",
        headers={},
        content_type="multipart/mixed",
        attachments=attachments,
    )


def _judge(campaign: Campaign, parsed: ParsedMail, when: datetime, registered=()):
    claims = match_cases(
        classify(parsed, campaign, "city"),
        campaign,
        tuple(registered),
        parsed.subject,
        parsed.sender,
    )
    facts = MessageFacts(
        parsed, when, campaign, "city", tuple(claims), frozenset(), registered=tuple(registered)
    )
    return evaluate(facts)


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in rows).encode("utf-8")


ANNEX3 = ["序号", "案例标题", "区域", "单位", "负责人", "职务", "类别", "学段", "联系电话"]


def test_each_stage_closes_at_the_end_of_its_own_day(suzhou: Campaign):
    assert [(s.key, s.closes_at().isoformat()) for s in suzhou.stages()] == [
        ("contacts", "2022-02-17T00:00:00+08:00"),
        ("topics", "2022-02-22T00:00:00+08:00"),
        ("final", "2022-12-14T00:00:00+08:00"),
    ]
    assert suzhou.stage_at(datetime(2022, 2, 18, tzinfo=CST)).key == "topics"
    assert suzhou.stage_at(datetime(2023, 1, 1, tzinfo=CST)).key == "final"


def test_a_late_table_beside_an_on_time_case_refuses_only_the_table(suzhou: Campaign):
    table = _csv(
        [
            ANNEX3,
            ["1", "区域推进", "吴江区", "吴江区教育局", "沈明", "", "管理", "初中", "13912345678"],
        ]
    )
    parsed = _mail({"吴江区汇总表.csv": table, "吴江区实验小学-数学课堂改进.docx": b"x"})
    verdict = _judge(suzhou, parsed, datetime(2022, 3, 1, tzinfo=CST))
    assert verdict.decision is Decision.ACCEPTED
    assert verdict.outcomes == {0: "rejected", 1: "accepted"}
    [late] = [f for f in verdict.findings if f.code == "late"]
    assert (late.position, late.params["stage_label"], late.params["deadline"]) == (
        0,
        "选题申报",
        "2022-02-21",
    )


def test_annex1_and_annex3_are_told_apart_by_their_columns(suzhou: Campaign):
    annex1 = _csv(
        [
            ["单位", "姓名", "职务", "手机号码", "QQ号"],
            ["吴江区教育局", "沈明", "科长", "13900001111", "12345678"],
        ]
    )
    annex3 = _csv(
        [
            ANNEX3,
            ["1", "区域推进", "吴江区", "吴江区教育局", "沈明", "", "管理", "初中", "13912345678"],
        ]
    )
    claims = classify(_mail({"表1.csv": annex1, "表2.csv": annex3}), suzhou, "city")
    assert [(c.kind, c.school) for c in claims] == [("contacts", "吴江区"), ("topics", "吴江区")]


@pytest.mark.parametrize(
    ("unit", "district", "placed"),
    [
        ("吴江区教育局", "吴江区", ("吴江区", "吴江区", "district")),
        ("吴江区实验小学", "吴江区", ("吴江区实验小学", "吴江区", "school")),
        ("吴江区桃源中学", "吴江区", ("吴江区桃源中学", "吴江区", "school")),  # not in the roster
        ("苏州中学", "直属", ("苏州中学", "", "direct")),
        ("某市直学校", "市直", ("某市直学校", "", "direct")),
    ],
)
def test_a_row_is_placed_in_its_county_at_its_level(suzhou: Campaign, unit, district, placed):
    assert place_unit(suzhou, "city", unit, district) == placed


def test_a_directly_run_school_may_register_three_cases_and_no_more(suzhou: Campaign):
    rows = [
        [str(n), f"直属案例{n}", "直属", "苏州中学", "李老师", "", "综合", "初中", "13912345678"]
        for n in range(1, 5)
    ]
    parsed = _mail(
        {"苏州中学申报信息汇总表.csv": _csv([ANNEX3, *rows])}, sender="szzx@school.example"
    )
    verdict = _judge(suzhou, parsed, datetime(2022, 2, 20, tzinfo=CST))
    assert [row.title for row in verdict.rows] == ["直属案例1", "直属案例2", "直属案例3"]
    [over] = [f for f in verdict.findings if f.code == "over_limit_rows"]
    assert over.params["rows"] == [5] and over.params["holder"] == "苏州中学"


def test_shortfalls_list_roster_units_that_registered_nothing(suzhou: Campaign):
    registered = [
        RegisteredRow("topics", "吴江区", "吴江区实验小学", "吴江区", "school", 3, "数学")
    ]
    found = {(s.holder, s.level, s.count) for s in shortfalls(suzhou, registered)}
    assert found == {("吴江区", "district", 0), ("苏州中学", "direct", 0)}


CASES = (
    RegisteredRow(
        "topics", "吴江区", "吴江区实验小学", "吴江区", "school", 3, "基于监测数据的“数学”课堂改进"
    ),
    RegisteredRow("topics", "吴中区", "吴中区木渎中学", "吴中区", "school", 2, "作业设计优化"),
    RegisteredRow("topics", "吴江区", "吴江区松陵中学", "吴江区", "school", 4, "作业设计优化"),
)


@pytest.mark.parametrize(
    ("filename", "unit", "title"),
    [
        ("基于监测数据的数学课堂改进.docx", "吴江区实验小学", "基于监测数据的“数学”课堂改进"),
        (
            "吴江区实验小学－基于监测数据的 数学 课堂改进（定稿）.docx",
            "吴江区实验小学",
            "基于监测数据的“数学”课堂改进",
        ),
        ("ＡＢ基于监测数据的数学课堂改进.wps", "吴江区实验小学", "基于监测数据的“数学”课堂改进"),
        ("吴江区松陵中学作业设计优化.docx", "吴江区松陵中学", "作业设计优化"),
    ],
)
def test_final_files_match_registered_titles_despite_spacing_width_and_punctuation(
    suzhou: Campaign, filename, unit, title
):
    [claim] = match_cases(
        classify(_mail({filename: b"x"}), suzhou, "city"), suzhou, CASES, "参评", "x@y.z"
    )
    assert (claim.school, claim.matched) == (unit, title)


def test_a_shared_title_without_a_unit_to_decide_matches_nothing(suzhou: Campaign):
    parsed = _mail({"作业设计优化.docx": b"x"}, sender="x@y.z")
    [claim] = match_cases(classify(parsed, suzhou, "city"), suzhou, CASES, "参评", "x@y.z")
    assert claim.matched == "" and claim.school == "x@y.z"
    # The county coordinator's address decides: 吴江区's school registered this title.
    parsed = _mail({"作业设计优化.docx": b"x"}, sender="wj@county.example")
    [claim] = match_cases(
        classify(parsed, suzhou, "city"), suzhou, CASES, "参评", "wj@county.example"
    )
    assert (claim.matched, claim.school) == ("作业设计优化", "吴江区松陵中学")


def _docx_with_table(rows: list[list[str]]) -> bytes:
    import io

    from docx import Document

    document = Document()
    document.add_paragraph("基于监测结果的初中数学分层作业设计")
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for cells, row in zip(table.rows, rows, strict=True):
        for cell, text in zip(cells.cells, row, strict=True):
            cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_case_that_opens_with_its_team_table_is_not_taken_for_annex1(suzhou: Campaign):
    team = _docx_with_table(
        [["姓名", "单位", "职务", "承担任务分工"], ["刘建国", "苏州中学", "教师", "统稿"]]
    )
    [claim] = classify(_mail({"苏州中学数学分层作业设计.docx": team}), suzhou, "city")
    assert (claim.kind, claim.sheet) == ("final", None)
    # Named as Annex 1, the same document is the table, and its missing columns are named.
    [claim] = classify(_mail({"联络人信息上报表.docx": team}), suzhou, "city")
    assert claim.kind == "contacts" and claim.sheet.missing_columns == ("手机号码",)


def test_a_table_named_by_the_subject_but_unreadable_is_refused_with_the_reason(suzhou: Campaign):
    parsed = _mail({"附件1.doc": b"\xd0\xcf\x11\xe0 not really"}, subject="吴江区联络人信息")
    verdict = _judge(suzhou, parsed, datetime(2022, 2, 10, tzinfo=CST))
    assert verdict.decision is Decision.REJECTED and verdict.reasons == ["unreadable_table"]


def test_a_school_sending_its_own_table_is_its_sender_not_its_county(suzhou: Campaign, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER + "吴江区思贤小学,,school,吴江区,sx@school.example\n", encoding="utf-8"
    )
    campaign = Campaign(suzhou.id, suzhou.settings, load_roster(roster))
    table = _csv(
        [
            ANNEX3,
            [
                "1",
                "科学探究",
                "吴江区",
                "吴江区思贤小学",
                "孙伟",
                "",
                "科学",
                "小学",
                "13912345678",
            ],
        ]
    )
    [claim] = classify(_mail({"汇总表.csv": table}, sender="sx@school.example"), campaign, "city")
    assert claim.school == "吴江区思贤小学"  # its rows replace only its own
    [claim] = classify(_mail({"汇总表.csv": table}, sender="wj@county.example"), campaign, "city")
    assert claim.school == "吴江区"


def test_an_annex3_with_a_retitled_column_is_still_annex3(suzhou: Campaign):
    header = [name if name != "负责人" else "姓名" for name in ANNEX3]
    table = _csv(
        [
            header,
            ["1", "区域推进", "吴江区", "吴江区教育局", "沈明", "", "管理", "初中", "13912345678"],
        ]
    )
    [claim] = classify(_mail({"表.csv": table}), suzhou, "city")
    assert (claim.kind, claim.sheet.missing_columns) == ("topics", ("负责人",))


def test_an_unlisted_school_of_a_county_is_not_the_county(suzhou: Campaign):
    assert place_unit(suzhou, "city", "吴江区松陵一中", "吴江区") == (
        "吴江区松陵一中",
        "吴江区",
        "school",
    )
    assert place_unit(suzhou, "city", "吴江区教师发展中心", "吴江区") == (
        "吴江区",
        "吴江区",
        "district",
    )


def test_the_subject_speaks_only_for_a_message_with_one_document(suzhou: Campaign):
    files = {"阅读素养提升.docx": b"x", "数学课堂改进.docx": b"x"}
    claims = match_cases(
        classify(_mail(files, sender="x@y.z"), suzhou, "city"),
        suzhou,
        CASES,
        "基于监测数据的数学课堂改进等",
        "x@y.z",
    )
    assert [c.matched for c in claims] == ["", ""]
    [claim] = match_cases(
        classify(_mail({"定稿.docx": b"x"}, sender="x@y.z"), suzhou, "city"),
        suzhou,
        CASES,
        "基于监测数据的数学课堂改进",
        "x@y.z",
    )
    assert claim.matched == "基于监测数据的“数学”课堂改进"


def test_a_listed_school_is_never_matched_to_another_schools_case(suzhou: Campaign, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER + "吴中区木渎中学,,school,吴中区,md@school.example\n", encoding="utf-8"
    )
    campaign = Campaign(suzhou.id, suzhou.settings, load_roster(roster))
    only_songling = tuple(c for c in CASES if c.unit != "吴中区木渎中学")
    parsed = _mail({"作业设计优化.docx": b"x"}, sender="md@school.example")
    [claim] = match_cases(
        classify(parsed, campaign, "city"), campaign, only_songling, "参评", "md@school.example"
    )
    assert (claim.matched, claim.school) == ("", "吴中区木渎中学")


def test_late_files_of_two_stages_are_each_named_with_their_stage(suzhou: Campaign):
    annex1 = _csv(
        [
            ["单位", "姓名", "职务", "手机号码", "QQ号"],
            ["吴江区教育局", "沈明", "科长", "13900001111", "12345678"],
        ]
    )
    annex3 = _csv(
        [
            ANNEX3,
            ["1", "区域推进", "吴江区", "吴江区教育局", "沈明", "", "管理", "初中", "13912345678"],
        ]
    )
    verdict = _judge(
        suzhou, _mail({"表1.csv": annex1, "表2.csv": annex3}), datetime(2022, 2, 25, tzinfo=CST)
    )
    assert verdict.decision is Decision.REJECTED
    late = [(f.position, f.params["stage_label"]) for f in verdict.findings if f.code == "late"]
    assert late == [(0, "联络人信息报送"), (1, "选题申报")]


def test_a_mailed_application_form_is_not_a_finished_case(suzhou: Campaign):
    [claim] = classify(_mail({"吴江区实验小学优秀案例申报表.docx": b"x"}), suzhou, "city")
    assert (claim.kind, claim.school) == ("application", "吴江区实验小学")


def test_a_table_that_names_no_unit_is_its_senders(suzhou: Campaign):
    plain = Campaign(suzhou.id, suzhou.settings, Roster())
    annex1 = _csv(
        [
            ["单位", "姓名", "职务", "手机号码", "QQ号"],
            ["", "沈明", "科长", "13900001111", "12345678"],
        ]
    )
    [claim] = classify(_mail({"联络人.csv": annex1}, sender="a@b.example"), plain, "city")
    assert claim.school == "a@b.example"
