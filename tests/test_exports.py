"""The organizers' exports on a ledger filled through the flow: the workbook re-read with
openpyxl cell by cell, the CSV with its BOM, and the judges' zip with its UTF-8 names."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from databases import database_url
from deployment import CST
from mailmaker import make_docx, make_mail
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from intake.app import App, build, repo_path
from intake.campaigns.campaign import Campaign
from intake.config import load_config
from intake.domain import RawMail
from intake.flow import handle
from intake.reports.exports import (
    BundleReport,
    _csv_cell,
    _put,
    _unique,
    export_bundle,
    export_csv,
    export_xlsx,
)
from intake.store.models import Entry, StoredAttachment

SHUANGLIU_ROSTER = """school,group,senders
双流区实验小学,primary,syxx@school.example
双流区东升小学,primary,dsxx@school.example
双流区九江小学,primary,
双流区棠湖中学,junior,thzx@school.example
"""
SUZHOU_ROSTER = """unit,group,level,district,senders
吴江区,,district,,wj@county.example
吴江区实验小学,,school,吴江区,
吴中区,,district,,wz@county.example
苏州中学,,direct,,szzx@school.example
"""
ANNEX3 = ["序号", "案例标题", "区域", "单位", "负责人", "职务", "类别", "学段", "联系电话"]
SHUANGLIU = "双流区第四届教育质量综合评价结果解读运用展评"
SUZHOU = "2022年度全市义务教育学业质量监测结果运用优秀案例评选"
ENTRY_HEADER = [
    "组别",
    "学校/单位",
    "类别",
    "序号",
    "版本",
    "当前版本",
    "文件名",
    "收到时间",
    "决定",
    "提示",
    "回执号",
]


@dataclass
class Filled:
    """The ledger the tests export, and what was sent into it."""

    app: App
    receipts: dict[str, str]  # what was sent → its receipt number
    sent: dict[str, bytes]  # file name → bytes

    def campaign(self, key: str) -> Campaign:
        return next(c for c in self.app.campaigns if c.id == key)


def _csv_table(rows: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode("utf-8")


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    tmp = tmp_path_factory.mktemp("exports")
    (tmp / "shuangliu.csv").write_text(SHUANGLIU_ROSTER, encoding="utf-8")
    (tmp / "suzhou.csv").write_text(SUZHOU_ROSTER, encoding="utf-8")

    def local(data: dict[str, Any]) -> None:
        data["database"] = {"url": database_url(tmp)}
        data["storage"] = {"archive_dir": str(tmp / "archive")}
        data["replies"] = {"transport": "folder", "folder": str(tmp / "outbox")}
        data["campaigns"]["shuangliu-2021"]["roster"] = str(tmp / "shuangliu.csv")
        data["campaigns"]["suzhou-2022"]["roster"] = str(tmp / "suzhou.csv")

    app = build(load_config(repo_path("config.example.toml"), local))
    filled = Filled(app, {}, {})
    for step in _SHUANGLIU + _SUZHOU:
        _deliver(filled, *step)
    yield filled
    app.close()


Step = tuple[str, str, int, datetime, list[tuple[str, bytes]]]
_SHUANGLIU: list[Step] = [
    (
        "shuangliu-2021/primary",
        "syxx@school.example",
        1,
        datetime(2021, 5, 18, 9, 0, tzinfo=CST),
        [("双流区实验小学报告.docx", make_docx("报告初稿"))],
    ),
    (
        "shuangliu-2021/primary",
        "syxx@school.example",
        2,
        datetime(2021, 5, 19, 10, 30, 15, tzinfo=CST),
        [
            ("双流区实验小学报告.DOCX", make_docx("报告定稿")),
            ("双流区实验小学改进案例1.docx", make_docx("改进案例")),
        ],
    ),
    (
        "shuangliu-2021/primary",
        "dsxx@school.example",
        3,
        datetime(2021, 5, 20, 16, 5, tzinfo=CST),
        [("双流区东升小学改进案例（一）.docx", make_docx("东升案例"))],
    ),
    (
        "shuangliu-2021/junior",
        "thzx@school.example",
        1,
        datetime(2021, 5, 21, 23, 59, 59, tzinfo=CST),
        [("双流区棠湖中学报告.docx", make_docx("棠湖报告", font="黑体"))],
    ),
]
_FIRST_WUJIANG = _csv_table(
    [
        ANNEX3,
        ["1", "旧选题", "吴江区", "吴江区教育局", "沈明", "", "管理", "初中", "0512-87660108"],
    ]
)
_WUJIANG = _csv_table(
    [
        ANNEX3,
        [
            "5",
            "区域推进监测结果运用",
            "吴江区",
            "吴江区教育局",
            "沈明",
            "副局长",
            "管理",
            "初中",
            "0512-87660108",
        ],
        [
            "6",
            "数学课堂改进",
            "吴江区",
            "吴江区实验小学",
            "陆芳",
            "",
            "数学",
            "小学",
            "13912345678",
        ],
    ]
)
_WUZHONG = _csv_table(
    [
        ANNEX3,
        [
            "1",
            "吴中区域推进",
            "吴中区",
            "吴中区教育局",
            "王红",
            "科长",
            "综合",
            "初中",
            "13512345678",
        ],
    ]
)
_SZZX = _csv_table(
    [
        ANNEX3,
        [
            "7",
            "直属学校作业改进",
            "直属",
            "苏州中学",
            "李老师",
            "",
            "综合",
            "初中",
            "0512-65224321",
        ],
    ]
)
_SUZHOU: list[Step] = [
    (
        "suzhou-2022/city",
        "wj@county.example",
        1,
        datetime(2022, 2, 18, 9, 0, tzinfo=CST),
        [("吴江区汇总表.csv", _FIRST_WUJIANG)],
    ),
    (
        "suzhou-2022/city",
        "wj@county.example",
        2,
        datetime(2022, 2, 20, 9, 0, tzinfo=CST),
        [("吴江区汇总表（更正）.CSV", _WUJIANG)],
    ),
    (
        "suzhou-2022/city",
        "wz@county.example",
        3,
        datetime(2022, 2, 20, 10, 0, tzinfo=CST),
        [("吴中区汇总表.csv", _WUZHONG)],
    ),
    (
        "suzhou-2022/city",
        "szzx@school.example",
        4,
        datetime(2022, 2, 21, 11, 0, tzinfo=CST),
        [("苏州中学汇总表.csv", _SZZX)],
    ),
]


def _deliver(filled: Filled, key: str, sender: str, uid: int, when: datetime, files) -> None:
    app = filled.app
    ref = next(r for r in app.refs if r.key == key)
    raw = make_mail(sender, ref.account, "报送材料", files)
    message = handle(app.intake, ref, RawMail(ref.key, "INBOX", 1, uid, when, raw))
    assert message.decision == "accepted", (files[0][0], message.reasons)
    filled.receipts[files[0][0]] = message.receipt
    filled.sent.update(files)


def _export_xlsx(filled: Filled, key: str, path: Path):
    with filled.app.intake.factory() as session:
        export_xlsx(session, filled.campaign(key), path)
    return load_workbook(path)


def _values(sheet) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


# --- the workbook ---------------------------------------------------------------------------


def test_the_entries_sheet_lists_every_version_sorted_with_local_times(
    filled: Filled, tmp_path: Path
):
    book = _export_xlsx(filled, "shuangliu-2021", tmp_path / "双流.xlsx")
    assert book.sheetnames == ["提交明细", "学校状态"]
    sheet = book["提交明细"]
    r = filled.receipts
    assert _values(sheet) == [
        ENTRY_HEADER,
        [
            "小学组",
            "双流区东升小学",
            "改进案例",
            1,
            1,
            "是",
            "双流区东升小学改进案例（一）.docx",
            datetime(2021, 5, 20, 16, 5),
            "已接收",
            None,
            r["双流区东升小学改进案例（一）.docx"],
        ],
        [
            "小学组",
            "双流区实验小学",
            "报告",
            1,
            1,
            "否",
            "双流区实验小学报告.docx",
            datetime(2021, 5, 18, 9, 0),
            "已接收",
            None,
            r["双流区实验小学报告.docx"],
        ],
        [
            "小学组",
            "双流区实验小学",
            "报告",
            1,
            2,
            "是",
            "双流区实验小学报告.DOCX",
            datetime(2021, 5, 19, 10, 30, 15),
            "已接收",
            None,
            r["双流区实验小学报告.DOCX"],
        ],
        [
            "小学组",
            "双流区实验小学",
            "改进案例",
            1,
            1,
            "是",
            "双流区实验小学改进案例1.docx",
            datetime(2021, 5, 19, 10, 30, 15),
            "已接收",
            None,
            r["双流区实验小学报告.DOCX"],
        ],
        [
            "初中组",
            "双流区棠湖中学",
            "报告",
            1,
            1,
            "是",
            "双流区棠湖中学报告.docx",
            datetime(2021, 5, 21, 23, 59, 59),
            "已接收",
            "字体不符",
            r["双流区棠湖中学报告.docx"],
        ],
    ]
    assert r["双流区实验小学报告.docx"].startswith("SL21-")
    received = sheet["H2"]
    assert received.is_date and received.number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["G"].width >= 30  # 33 display columns of file name


def test_the_status_sheet_names_what_each_school_still_owes(filled: Filled, tmp_path: Path):
    book = _export_xlsx(filled, "shuangliu-2021", tmp_path / "双流.xlsx")
    assert _values(book["学校状态"]) == [
        ["组别", "学校/单位", "报告", "改进案例", "状态"],
        ["小学组", "双流区实验小学", 1, 1, "已交齐"],
        ["小学组", "双流区东升小学", 0, 1, "缺必交材料：报告"],
        ["小学组", "双流区九江小学", 0, 0, "未提交"],
        ["初中组", "双流区棠湖中学", 1, 0, "已交齐"],
    ]


def test_suzhou_has_an_annex3_sheet_per_county_renumbered_with_phones_as_text(
    filled: Filled, tmp_path: Path
):
    book = _export_xlsx(filled, "suzhou-2022", tmp_path / "苏州.xlsx")
    assert book.sheetnames == ["提交明细", "学校状态", "吴江区", "吴中区", "直属学校"]
    wujiang = book["吴江区"]
    assert _values(wujiang) == [
        ANNEX3,
        [
            1,
            "区域推进监测结果运用",
            "吴江区",
            "吴江区教育局",
            "沈明",
            "副局长",
            "管理",
            "初中",
            "0512-87660108",
        ],
        [
            2,
            "数学课堂改进",
            "吴江区",
            "吴江区实验小学",
            "陆芳",
            None,
            "数学",
            "小学",
            "13912345678",
        ],
    ]
    for phone in (wujiang["I2"], wujiang["I3"]):
        assert (phone.data_type, phone.number_format) == ("s", "@")
    assert _values(book["吴中区"])[1:] == [
        [1, "吴中区域推进", "吴中区", "吴中区教育局", "王红", "科长", "综合", "初中", "13512345678"]
    ]
    assert _values(book["直属学校"])[1:] == [
        [1, "直属学校作业改进", "直属", "苏州中学", "李老师", None, "综合", "初中", "0512-65224321"]
    ]
    assert _values(book["学校状态"]) == [
        [
            "组别",
            "学校/单位",
            "级别",
            "所属区域",
            "联络人信息上报表",
            "优秀案例申报信息汇总表",
            "优秀案例申报表",
            "参评案例",
            "状态",
        ],
        ["全市", "吴江区", "区域", "吴江区", 0, 1, 0, 0, "已交齐"],
        ["全市", "吴江区实验小学", "学校", "吴江区", 0, 0, 0, 0, "未提交"],
        ["全市", "吴中区", "区域", "吴中区", 0, 1, 0, 0, "已交齐"],
        ["全市", "苏州中学", "直属学校", None, 0, 1, 0, 0, "已交齐"],
    ]
    versions = [row[1:6] for row in _values(book["提交明细"])[2:4]]
    assert versions == [
        ["吴江区", "优秀案例申报信息汇总表", 1, 1, "否"],
        ["吴江区", "优秀案例申报信息汇总表", 1, 2, "是"],
    ]


# --- the CSV --------------------------------------------------------------------------------


def test_the_csv_has_a_bom_crlf_lines_and_the_entries(filled: Filled, tmp_path: Path):
    path = tmp_path / "双流.csv"
    with filled.app.intake.factory() as session:
        export_csv(session, filled.campaign("shuangliu-2021"), path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 6 and data.count(b"\n") == 6
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    r = filled.receipts
    assert rows[0] == ENTRY_HEADER
    assert rows[2] == [
        "小学组",
        "双流区实验小学",
        "报告",
        "1",
        "1",
        "否",
        "双流区实验小学报告.docx",
        "2021-05-18 09:00:00",
        "已接收",
        "",
        r["双流区实验小学报告.docx"],
    ]
    assert rows[5][7:10] == ["2021-05-21 23:59:59", "已接收", "字体不符"]
    assert [row[1] for row in rows[1:]] == [
        "双流区东升小学",
        "双流区实验小学",
        "双流区实验小学",
        "双流区实验小学",
        "双流区棠湖中学",
    ]


# --- the bundle -----------------------------------------------------------------------------


def test_the_bundle_holds_the_current_files_renamed_under_each_campaign(
    filled: Filled, tmp_path: Path
):
    app = filled.app
    path = tmp_path / "评审材料.zip"
    with app.intake.factory() as session:
        lost = _attachment(session, "双流区棠湖中学报告.docx")
        kept = Path(lost.stored_path).read_bytes()
        Path(lost.stored_path).unlink()  # lost from the archive
        pending = _attachment(session, "吴中区汇总表.csv")
        stored_path, pending.stored_path = pending.stored_path, ""  # a link not yet downloaded
        session.flush()
        try:
            report = export_bundle(session, app.campaigns, path)
        finally:
            Path(lost.stored_path).write_bytes(kept)
            session.rollback()
    assert stored_path

    assert report == BundleReport(
        files=5,
        missing=(
            f"{SHUANGLIU}/初中组-双流区棠湖中学-报告-1.docx（文件不存在）",
            f"{SUZHOU}/全市-吴中区-优秀案例申报信息汇总表-1.csv（尚未下载）",
        ),
    )
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == [
            f"{SHUANGLIU}/小学组-双流区东升小学-改进案例-1.docx",
            f"{SHUANGLIU}/小学组-双流区实验小学-报告-1.docx",
            f"{SHUANGLIU}/小学组-双流区实验小学-改进案例-1.docx",
            f"{SUZHOU}/全市-吴江区-优秀案例申报信息汇总表-1.csv",
            f"{SUZHOU}/全市-苏州中学-优秀案例申报信息汇总表-1.csv",
        ]
        assert all(info.flag_bits & 0x800 for info in infos)
        read = {info.filename.split("/")[1]: archive.read(info) for info in infos}
        assert infos[1].date_time == (2021, 5, 19, 10, 30, 14)  # DOS times count in 2 s
    sent = filled.sent
    # The report's second version, not its first.
    assert read["小学组-双流区实验小学-报告-1.docx"] == sent["双流区实验小学报告.DOCX"]
    assert read["小学组-双流区实验小学-报告-1.docx"] != sent["双流区实验小学报告.docx"]
    assert (
        read["小学组-双流区东升小学-改进案例-1.docx"] == sent["双流区东升小学改进案例（一）.docx"]
    )
    assert read["小学组-双流区实验小学-改进案例-1.docx"] == sent["双流区实验小学改进案例1.docx"]
    assert read["全市-吴江区-优秀案例申报信息汇总表-1.csv"] == _WUJIANG
    assert read["全市-苏州中学-优秀案例申报信息汇总表-1.csv"] == _SZZX


def test_a_bundle_of_one_campaign_has_no_folder(filled: Filled, tmp_path: Path):
    path = tmp_path / "苏州.zip"
    with filled.app.intake.factory() as session:
        report = export_bundle(session, [filled.campaign("suzhou-2022")], path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert len(names) == report.files and report.files >= 1
    assert all("/" not in name and name.startswith("全市-") for name in names)


def test_names_made_unique_get_a_number_before_the_extension():
    taken: set[str] = set()
    names = [_unique(n, taken) for n in ("a/学校-报告-1.docx", "a/学校-报告-1.DOCX", "a/x", "a/X")]
    assert names == ["a/学校-报告-1.docx", "a/学校-报告-1 (2).DOCX", "a/x", "a/X (2)"]


def test_what_a_school_wrote_stays_text_and_never_becomes_a_formula(tmp_path: Path):
    book = Workbook()
    _put(book.active, 1, 1, '=HYPERLINK("http://x.example","报告")')
    _put(book.active, 1, 2, "报告\x01.docx")  # a control character Excel refuses
    book.save(tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert (sheet["A1"].value, sheet["A1"].data_type) == (
        '=HYPERLINK("http://x.example","报告")',
        "s",
    )
    assert sheet["B1"].value == "报告.docx"
    assert [_csv_cell(t) for t in ("=1+1", "@SUM(A1)", "0512-87660108")] == [
        "'=1+1",
        "'@SUM(A1)",
        "0512-87660108",
    ]


def _attachment(session, filename: str) -> StoredAttachment:
    query = (
        select(StoredAttachment)
        .join(Entry, Entry.attachment_pk == StoredAttachment.id)
        .where(StoredAttachment.filename == filename)
    )
    return session.scalars(query).one()
