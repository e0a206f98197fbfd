"""Write the sample inbox of the Suzhou 2022 campaign
(2022年度全市义务教育学业质量监测结果运用优秀案例评选, 苏教质监〔2022〕1号).

Run from the repository root:

    .venv/bin/python samples/make_suzhou_inbox.py

It rewrites samples/roster-suzhou-2022.csv, samples/inbox/city/*.eml,
samples/expected-suzhou-2022.json and samples/README-suzhou.md. The output is byte-stable:
timestamps, Message-IDs, MIME boundaries, workbook and document properties and zip entry
dates are all fixed, so a rerun produces identical files.

The mail clients are the builders of make_inbox.py (QQ web mail, Foxmail, Outlook 2016, the
QQ vacation auto-reply); this file adds the tables a county office sends (.xlsx written with
openpyxl, Word tables written with python-docx, a GB18030 .csv as Chinese Excel saves it) and
the finished case documents.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, Twips
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.writer.excel import ExcelWriter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_inbox  # noqa: E402
from make_inbox import (  # noqa: E402
    BOX_OWNER,
    CRLF,
    CST,
    RT,
    SONG,
    STYLES_WITH_EFFECTS,
    Att,
    _song,
    foxmail,
    make_docx,
    outlook16,
    qq_autoreply,
    qq_webmail,
    stable_zip,
)

CAMPAIGN = "suzhou-2022"
CITY_BOX = "1026875682@qq.com"  # 苏州市教育质量监测中心, 于飞飞
BOX_OWNER[CITY_BOX] = "于飞飞"  # the builders address the mailbox owner by name

XLSX_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV_CT = "application/vnd.ms-excel"  # what Windows with Excel installed says for .csv

# The first Suzhou message is the 30th the demo records (the 29 Shuangliu samples come first),
# so our replies carry receipt numbers SZ22-00030 onwards: replies to them quote these.
FIRST_RECEIPT = 30

# Counties (level district) with their coordinator's address, their schools, and the schools
# run directly by the city. (unit, level, district, senders)
ROSTER: list[tuple[str, str, str, list[str]]] = [
    ("吴江区", "district", "", ["2847163950@qq.com"]),
    ("吴中区", "district", "", ["1592846370@qq.com"]),
    ("姑苏区", "district", "", ["3310427586@qq.com"]),
    ("相城区", "district", "", ["915372684@qq.com"]),
    ("吴江区实验小学", "school", "吴江区", ["1638204957@qq.com"]),
    ("吴江区松陵第一中学", "school", "吴江区", []),
    ("吴江区盛泽实验小学", "school", "吴江区", []),
    ("吴江区鲈乡实验小学", "school", "吴江区", []),
    ("吴江区平望中学", "school", "吴江区", []),
    ("吴中区木渎实验中学", "school", "吴中区", ["mdsyzx_jks@foxmail.com"]),
    ("吴中区苏苑实验小学", "school", "吴中区", []),
    ("吴中区胥口中学", "school", "吴中区", []),
    ("吴中区碧波实验小学", "school", "吴中区", []),
    ("姑苏区平江实验学校", "school", "姑苏区", []),
    ("姑苏区沧浪新城第二实验小学", "school", "姑苏区", []),
    ("姑苏区金阊实验小学", "school", "姑苏区", ["2208716345@qq.com"]),
    ("姑苏区善耕实验小学", "school", "姑苏区", []),
    ("相城区陆慕实验小学", "school", "相城区", []),
    ("相城区黄桥实验小学", "school", "相城区", []),
    ("相城区望亭中学", "school", "相城区", []),
    ("相城区东桥中学", "school", "相城区", []),
    ("苏州中学", "direct", "", ["2769130548@qq.com"]),
    ("苏州市第十中学", "direct", "", ["1217530486@qq.com"]),
]

ANNEX1_TITLE = "2022年度优秀案例评选活动联络人信息上报表"
ANNEX1_HEADER = ["单位", "姓名", "职务", "手机号码", "QQ号"]
ANNEX1_NOTES = [
    "注：1.请各县（市、区）于2月16日（周三）前将本表发送至邮箱1026875682@qq.com。",
    "2.各县（市、区）的学校不需要提交本表。",
]
ANNEX3_TITLE = "各区域优秀案例申报信息汇总表"
ANNEX3_HEADER = ["序号", "案例标题", "区域", "单位", "负责人", "职务", "类别", "学段", "联系电话"]
ANNEX3_NOTES = [
    "注：1.区域负责人填写此表，并于2月21日前发送至邮箱1026875682@qq.com；",
    "2.“单位”一栏填写单位规范名称；",
    "3.“类别”一栏填写语文、数学、英语、科学、相关因素、管理、综合、其他中的一类；",
    "4.“学段”一栏填写初中或小学。",
]

Cell = str | int


# =============================================================================================
# Small helpers
# =============================================================================================


def t(month: int, day: int, hh: int, mm: int, ss: int) -> datetime:
    """A 2022 time in Asia/Shanghai (+0800)."""
    return datetime(2022, month, day, hh, mm, ss, tzinfo=CST)


def receipt(n: int) -> str:
    """The receipt number the demo gives the n-th Suzhou sample (1-based)."""
    return f"SZ22-{FIRST_RECEIPT + n - 1:05d}"


def bot_reply_id(n: int, token: str) -> str:
    """Message-ID of intake's reply to the n-th sample, as intake/replies.py forms it."""
    return f"<{receipt(n)}.{token}.intake@qq.com>"


@contextmanager
def attachment_type(content_type: str) -> Iterator[None]:
    """The builders of make_inbox.py write Word's content type on every attachment; a
    spreadsheet gets its own while one message is built."""
    saved = make_inbox.DOCX_CT
    make_inbox.DOCX_CT = content_type
    try:
        yield
    finally:
        make_inbox.DOCX_CT = saved


def utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


# =============================================================================================
# Tables: .xlsx (openpyxl), Word tables (python-docx), .csv (GB18030)
# =============================================================================================


def make_xlsx(
    title: str,
    header: list[str],
    rows: list[list[Cell]],
    notes: list[str],
    *,
    created: datetime,
    modified: datetime,
    author: str,
    widths: list[int],
) -> bytes:
    """A sheet as a county office fills in the template: a merged title row, the header, the
    rows (phone numbers and 序号 typed as numbers, as Excel stores them), the notes below.
    Saved with ExcelWriter directly: openpyxl's save() stamps the current time as modified."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    width = len(header)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(name=SONG, size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.append(header)
    for row in rows:
        ws.append(row)
    for r in range(2, 3 + len(rows)):
        for c in range(1, width + 1):
            cell = ws.cell(r, c)
            cell.border = box
            cell.font = Font(name=SONG, size=11, bold=r == 2)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for note in notes:
        ws.append([note])
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[chr(ord("A") + c - 1)].width = w
    props = wb.properties
    props.creator = author
    props.lastModifiedBy = author
    props.created = utc_naive(created)
    props.modified = utc_naive(modified)
    buf = io.BytesIO()
    with ZipFile(buf, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return stable_zip(buf.getvalue())


def gb18030_csv(title: str, header: list[str], rows: list[list[Cell]], notes: list[str]) -> bytes:
    """What Chinese Excel writes for "CSV (逗号分隔)": GB18030, CRLF, the merged title row
    padded with empty cells, no quoting unless needed."""
    width = len(header)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([title] + [""] * (width - 1))
    w.writerow(header)
    for row in rows:
        w.writerow([str(cell) for cell in row])
    for note in notes:
        w.writerow([note] + [""] * (width - 1))
    return buf.getvalue().encode("gb18030")


def new_document():  # type: ignore[no-untyped-def]
    """python-docx's template without its thumbnail and stylesWithEffects.xml, A4, 宋体."""
    doc = Document()
    pkg = doc.part.package
    for rels in (pkg.rels, doc.part.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype in (RT.THUMBNAIL, STYLES_WITH_EFFECTS):
                del rels[rid]
                rels._target_parts_by_rId.pop(rid, None)
    normal = doc.styles["Normal"]
    normal.font.name = SONG
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), SONG)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(sec, side, Twips(1417))
    return doc


def add_table(doc, rows: list[list[Cell]]) -> None:  # type: ignore[no-untyped-def]
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            paragraph = table.cell(r, c).paragraphs[0]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _song(paragraph.add_run(str(value)), 10.5, bold=r == 0)


def save_document(doc, created: datetime, modified: datetime, author: str) -> bytes:  # type: ignore[no-untyped-def]
    cp = doc.core_properties
    cp.author = author
    cp.last_modified_by = author
    cp.title = ""
    cp.revision = 2
    cp.created = utc_naive(created)
    cp.modified = utc_naive(modified)
    cp.last_printed = datetime(2022, 1, 1, 0, 0, 0)
    buf = io.BytesIO()
    doc.save(buf)
    return stable_zip(buf.getvalue())


def word_table(
    title: str,
    rows: list[list[Cell]],
    notes: list[str],
    *,
    created: datetime,
    modified: datetime,
    author: str,
    landscape: bool = False,
) -> bytes:
    """The annex as the notice's Word file has it: a title, one bordered table, the notes."""
    doc = new_document()
    if landscape:
        sec = doc.sections[0]
        sec.page_width, sec.page_height = Cm(29.7), Cm(21)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _song(p.add_run(title), 16, bold=True)
    add_table(doc, rows)
    for note in notes:
        _song(doc.add_paragraph().add_run(note), 10.5)
    return save_document(doc, created, modified, author)


def case_document(
    title: str,
    unit_line: str,
    body: list[tuple[str, str]],
    *,
    team: list[list[Cell]] | None = None,
    created: datetime,
    modified: datetime,
    author: str = "Administrator",
) -> bytes:
    """A finished case. With `team`, the 工作组成员 table of the application form (附件2)
    heads the document, as many schools copy it into their final text."""
    if team is None:
        return make_docx(title, unit_line, body, created, modified, author)
    doc = new_document()
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _song(p.add_run(title), 18, bold=True)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _song(p.add_run(unit_line), 12)
    _song(doc.add_paragraph().add_run("工作组成员"), 12, bold=True)
    add_table(doc, team)
    for kind, text in body:
        p = doc.add_paragraph()
        p.paragraph_format.line_spacing = 1.5
        if kind == "h":
            _song(p.add_run(text), 12, bold=True)
        else:
            p.paragraph_format.first_line_indent = Pt(24)
            _song(p.add_run(text), 12)
    return save_document(doc, created, modified, author)


# =============================================================================================
# The registration tables
# =============================================================================================

# fmt: off
WUJIANG_ROWS: list[list[Cell]] = [
    [1, "区域推进“基于监测数据的精准教研”的实践研究", "吴江区", "吴江区教育局", "沈建明", "教研室主任", "管理", "初中", "0512-63421508"],
    [2, "基于监测数据的小学数学课堂提问改进", "吴江区", "吴江区实验小学", "陆晓芳", "教导主任", "数学", "小学", 13962512345],
    [3, "初中英语阅读素养提升的单元整体教学实践", "吴江区", "吴江区松陵第一中学", "周雪琴", "英语教研组长", "英语", "初中", 13812763456],
    [4, "学生心理健康的家校协同干预", "吴江区", "吴江区盛泽实验小学", "钱丽萍", "德育主任", "心理健康", "小学", 13771842367],
    [5, "小学生睡眠时间不足的成因与改进", "吴江区", "吴江区鲈乡实验小学", "吴建华", "副校长", "相关因素", "小学", 15850123478],
    [6, "初中物理实验探究能力的培养", "吴江区", "吴江区平望中学", "孙志刚", "教科室主任", "科学", "初中", 13601548923],
]
WUZHONG_ROWS: list[list[Cell]] = [
    ["1", "基于PISA阅读素养框架的初中语文作业设计优化", "吴中区", "吴中区木渎实验中学", "王红梅", "语文教研组长", "语文", "初中", "13915472368"],
    ["2", "小学数学“图形与几何”领域学习困难的诊断与改进", "吴中区", "吴中区苏苑实验小学", "李明", "教导处副主任", "数学", "小学", "（0512）66251234"],
    ["3", "农村初中学生学习动力提升的实践", "吴中区", "吴中区胥口中学", "张卫东", "校长", "相关因素", "初中", "139 1234 8765"],
]
WUZHONG_DISTRICT_ROW: list[Cell] = [
    "1", "区域“监测—诊断—改进”闭环机制建设", "吴中区", "吴中区教师发展中心", "顾青", "副主任", "管理", "小学", "0512-66215678",
]
SHIZHONG_ROWS: list[list[Cell]] = [
    [1, "基于监测结果的初中数学分层作业设计", "直属", "苏州市第十中学", "刘建国", "教科室主任", "数学", "初中", 13862198745],
    [2, "初中生体育锻炼时间保障的学校管理改进", "直属", "苏州市第十中学", "陈晓", "副校长", "管理", "初中", "0512-65232151"],
]
# 姑苏区 retyped two headers in its copy of the template: 案例名称, 联系电话（手机）.
GUSU_HEADER = ["序号", "案例名称", "区域", "单位", "负责人", "职务", "类别", "学段", "联系电话（手机）"]
GUSU_ROWS: list[list[Cell]] = [
    [1, "区域推进课堂转型的监测数据应用研究", "姑苏区", "姑苏区教育体育和文化旅游委员会", "许文", "教研室主任", "管理", "小学", "0512-65223456转8012"],
    [2, "小学英语口语表达能力的课堂改进", "姑苏区", "姑苏区平江实验学校", "朱丽", "英语教研组长", "英语", "小学", 13906201234],
    [3, "小学科学探究活动中学生提问能力的培养", "姑苏区", "姑苏区沧浪新城第二实验小学", "杨帆", "科学教师", "科学", "小学", 18951101234],
]
# fmt: on
ANNEX3_WIDTHS = [6, 44, 10, 24, 10, 14, 10, 8, 18]


# =============================================================================================
# The finished cases (invented; plausible, not real)
# =============================================================================================


def math_questioning_case(revised: bool) -> list[tuple[str, str]]:
    body = [
        ("h", "一、问题的提出"),
        (
            "p",
            "2021年苏州市学业质量监测结果显示，我校四年级学生数学学业水平总体良好，但“问题解决”"
            "维度的得分率低于全市均值4.6个百分点；学生问卷中“课堂上老师经常让我们说说自己的想法”"
            "一项的认同率仅为61.2%。课堂观察进一步发现，教师提问以记忆性、判断性问题为主，"
            "学生独立思考和表达的时间不足。",
        ),
        ("h", "二、改进思路与举措"),
        (
            "p",
            "学校以“提问质量”为抓手，组建由教导处牵头、数学教研组全员参与的项目组，"
            "确定“诊断—设计—实践—反思”的改进路径：一是对全校数学课进行课堂提问编码分析，"
            "建立提问类型基线；二是以单元为单位设计核心问题链，每课至少一个开放性问题；"
            "三是推行“等待三秒”和“追问一次”的课堂规则，保障学生思考与表达的时间。",
        ),
        ("h", "三、改进成效"),
        (
            "p",
            "经过一学年实践，课堂中高认知水平提问的比例由18%提高到37%，学生在校内"
            "“问题解决”类测试题上的平均得分率提高了7.8个百分点，学生问卷相关项认同率提高到82.5%。",
        ),
        ("h", "四、反思与展望"),
        (
            "p",
            "提问改进必须与作业设计、学业评价同步推进。下一步，学校将把问题链设计延伸到"
            "作业与单元检测，形成“教—学—评”一致的数学课堂改进模式。",
        ),
    ]
    if revised:
        body.insert(
            -2,
            (
                "p",
                "（修改稿补充）附课堂提问编码表及两轮课堂观察数据对照，"
                "更正了初稿中四年级样本人数的笔误。",
            ),
        )
    return body


PISA_CASE = [
    ("h", "一、问题描述"),
    (
        "p",
        "监测数据显示，我校八年级学生语文“整合与解释”“反思与评价”两个能力层级的得分率"
        "分别低于全市均值5.1和6.3个百分点，学生每天语文书面作业时间却高于全市均值。"
        "作业量大而思维含量不高，是需要重点解决的问题。",
    ),
    ("h", "二、改进策略"),
    (
        "p",
        "语文组参照PISA阅读素养框架，将作业分为“获取信息”“整合解释”“反思评价”三个层级，"
        "按单元设计分层作业：基础层控制在10分钟以内，提升层以非连续性文本阅读为主，"
        "拓展层采用项目式任务，每周一次，学生自主选择。",
    ),
    ("h", "三、实施成效"),
    (
        "p",
        "一学年后，学生每天语文书面作业时间下降约12分钟，期末区统测中“反思与评价”类题目"
        "得分率提高6.7个百分点，学生对语文作业“有兴趣”的比例由48%提高到71%。",
    ),
]

SHIZHONG_CASE = [
    ("h", "一、问题描述"),
    (
        "p",
        "监测结果显示，我校八年级学生数学学业水平两极分化明显，低水平学生比例高于全市均值，"
        "而学生每天完成数学作业的时间超过40分钟的比例达到38%。统一布置的作业使学困生"
        "“做不完”、学优生“吃不饱”。",
    ),
    ("h", "二、工作思路"),
    (
        "p",
        "（一）基本思路：以监测数据定位不同水平学生的薄弱点，按“基础—提高—挑战”三层设计作业。"
        "（二）研究方法：数据分析、行动研究、课堂观察。（三）推进策略：备课组每周集体研制"
        "分层作业单，学生自主选层，每月根据练习数据调整层级。",
    ),
    ("h", "三、成效与反思"),
    (
        "p",
        "实施两个学期后，数学作业时间超过40分钟的学生比例下降到14%，低水平学生比例下降"
        "5.2个百分点。分层不等于分等，学校将继续完善学生自主选层与动态调整的机制。",
    ),
]
SHIZHONG_TEAM: list[list[Cell]] = [
    ["姓名", "单位", "职务", "承担任务分工"],
    ["刘建国", "苏州市第十中学", "教科室主任", "方案设计与统筹"],
    ["王静", "苏州市第十中学", "数学备课组长", "分层作业研制"],
    ["赵磊", "苏州市第十中学", "数学教师", "数据收集与分析"],
]

LABOUR_CASE = [
    ("h", "一、背景与问题"),
    (
        "p",
        "相关因素监测显示，我校五年级学生每周参加家务劳动的时间明显低于全市均值，"
        "“劳动习惯”指数偏低。学校以劳动教育校本课程为载体开展改进。",
    ),
    ("h", "二、主要做法"),
    (
        "p",
        "开发“金阊小当家”校本课程，分年级设置整理收纳、烹饪、种植等项目，"
        "每周一节劳动课，配套家庭劳动清单与劳动护照评价。",
    ),
    ("h", "三、成效"),
    (
        "p",
        "一年来，学生每周家务劳动时间平均增加45分钟，家长问卷满意度达到93%。",
    ),
]

DISTRICT_CASE = [
    ("h", "一、问题与目标"),
    (
        "p",
        "全区监测数据反映出校际之间学业质量差异较大、部分学校对监测结果运用不充分。"
        "区教育局以“基于监测数据的精准教研”为抓手，推动监测结果进课堂、进教研。",
    ),
    ("h", "二、区域推进举措"),
    (
        "p",
        "建立“区—片—校”三级监测结果解读机制，区教研室为每所学校出具诊断报告；"
        "组建学科精准教研共同体，围绕监测发现的薄弱点开展专题研讨与同课异构；"
        "将监测结果运用情况纳入学校年度发展性评价。",
    ),
    ("h", "三、成效"),
    (
        "p",
        "全区参与精准教研的教师超过1200人次，薄弱学校学业水平达标率平均提高4.3个百分点，"
        "校际差异系数有所下降。",
    ),
]


# =============================================================================================
# The samples
# =============================================================================================


@dataclass
class Sample:
    file: str  # "city/01-….eml"
    raw: bytes
    decision: str
    reasons: list[str]
    school: str | None
    kind: str | None
    stage: str
    received: datetime
    client: str
    tests: str
    attachment: str | None = None
    warnings: list[str] = field(default_factory=list)
    issue: str = ""  # where intake's decision (recorded as expected) is not the right one


def build_city() -> list[Sample]:
    box = CITY_BOX
    out: list[Sample] = []

    def add(n: int, slug: str, raw: bytes, **kw) -> None:  # type: ignore[no-untyped-def]
        out.append(Sample(f"city/{n:02d}-{slug}.eml", raw, **kw))

    # 01 Annex 1 from 吴江区, on time, QQ web mail, .xlsx ---------------------------------------
    k, d, r = "city/01", t(2, 14, 9, 12, 5), t(2, 14, 9, 12, 11)
    fn = "附件1 吴江区优秀案例评选活动联络人信息上报表.xlsx"
    data = make_xlsx(
        ANNEX1_TITLE,
        ANNEX1_HEADER,
        [["吴江区教育局", "沈建明", "教研室主任", 13962500123, 2847163950]],
        ANNEX1_NOTES,
        created=t(2, 10, 15, 2, 0),
        modified=d - timedelta(minutes=9),
        author="沈建明",
        widths=[24, 12, 16, 18, 16],
    )
    add(
        1,
        "annex1-wujiang-qq-webmail",
        qq_webmail(
            key=k,
            box=box,
            sender="2847163950@qq.com",
            sender_name="吴江区教育局沈建明",
            subject="吴江区 优秀案例评选活动联络人信息",
            text="于老师：\n您好！附件是吴江区优秀案例评选活动联络人信息上报表，请查收。\n\n"
            "吴江区教育局教研室 沈建明\n0512-63421508",
            date=d,
            recv=r,
            atts=[Att(fn, data)],
        ),
        decision="accepted",
        reasons=[],
        school="吴江区",
        kind="contacts",
        stage="contacts",
        received=r,
        client="QQ Mail web",
        attachment=fn,
        tests="On-time Annex 1 as .xlsx written by openpyxl: a merged title row above the header, "
        "phone and QQ numbers typed as numbers, the notice's notes below the table. 单位 is "
        "吴江区教育局, recorded for the county 吴江区.",
    )

    # 02 Annex 1 from 吴中区, on time, Foxmail, a Word table ---------------------------------------
    k, d, s, r = "city/02", t(2, 15, 16, 40, 12), t(2, 15, 16, 40, 20), t(2, 15, 16, 40, 26)
    fn = "吴中区联络人信息上报表.docx"
    data = word_table(
        ANNEX1_TITLE,
        [ANNEX1_HEADER, ["吴中区教师发展中心", "顾青", "副主任", "139-1547-2210", "1592846370"]],
        ANNEX1_NOTES,
        created=t(2, 11, 9, 30, 0),
        modified=d - timedelta(minutes=25),
        author="顾青",
    )
    with attachment_type(DOCX_CT):
        raw = foxmail(
            key=k,
            box=box,
            sender="1592846370@qq.com",
            sender_name="吴中区顾青",
            subject="吴中区联络人信息上报表",
            text="于老师：\n您好！吴中区的联络人信息见附件，请查收。\n\n吴中区教师发展中心 顾青",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        2,
        "annex1-wuzhong-foxmail-word-table",
        raw,
        decision="accepted",
        reasons=[],
        school="吴中区",
        kind="contacts",
        stage="contacts",
        received=r,
        client="Foxmail 7.2",
        attachment=fn,
        tests="On-time Annex 1 as a Word table (the notice's own annex is a Word file), the "
        "mobile number written 139-1547-2210. 单位 吴中区教师发展中心 belongs to 吴中区.",
    )

    # 03 Annex 1 from 姑苏区, late, Outlook 2016 ---------------------------------------------------
    k, d, r = "city/03", t(2, 17, 8, 11, 58), t(2, 17, 8, 12, 3)
    fn = "姑苏区联络人信息上报表.xlsx"
    data = make_xlsx(
        ANNEX1_TITLE,
        ANNEX1_HEADER,
        [["姑苏区教育体育和文化旅游委员会", "许文", "教研室主任", 13776012345, 3310427586]],
        ANNEX1_NOTES,
        created=t(2, 16, 17, 20, 0),
        modified=d - timedelta(minutes=4),
        author="许文",
        widths=[32, 12, 16, 18, 16],
    )
    with attachment_type(XLSX_CT):
        raw = outlook16(
            key=k,
            box=box,
            sender="3310427586@qq.com",
            sender_name="姑苏区许文",
            subject="姑苏区联络人信息（补报）",
            text="于老师：\n您好！昨天事情多忘记发送了，现补报姑苏区联络人信息，请查收。\n\n"
            "姑苏区教体文旅委 许文",
            date=d,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        3,
        "annex1-gusu-late-outlook",
        raw,
        decision="rejected",
        reasons=["late"],
        school="姑苏区",
        kind="contacts",
        stage="contacts",
        received=r,
        client="Outlook 2016",
        attachment=fn,
        tests="Annex 1 received 2022-02-17 08:12:03, the morning after the deadline of stage "
        "contacts (2月16日). Outlook 2016: RFC 2231 `filename*0*=gbk''…` cut inside a character.",
    )

    # 04 Annex 3 from 吴江区: title row, county case, 4 school cases (one too many), bad 类别 -----
    k, d, r = "city/04", t(2, 18, 10, 26, 40), t(2, 18, 10, 26, 47)
    fn = "附件3 吴江区优秀案例申报信息汇总表.xlsx"
    data = make_xlsx(
        ANNEX3_TITLE,
        ANNEX3_HEADER,
        WUJIANG_ROWS,
        ANNEX3_NOTES,
        created=t(2, 14, 14, 0, 0),
        modified=d - timedelta(minutes=12),
        author="沈建明",
        widths=ANNEX3_WIDTHS,
    )
    wujiang_annex3 = qq_webmail(
        key=k,
        box=box,
        sender="2847163950@qq.com",
        sender_name="吴江区教育局沈建明",
        subject="吴江区优秀案例申报信息汇总表",
        text="于老师：\n您好！附件是吴江区优秀案例申报信息汇总表，申报表纸质稿另行报送。请查收。\n\n"
        "吴江区教育局教研室 沈建明",
        date=d,
        recv=r,
        atts=[Att(fn, data)],
    )
    add(
        4,
        "annex3-wujiang-xlsx-over-limit",
        wujiang_annex3,
        decision="accepted",
        reasons=[],
        warnings=["bad_row", "over_limit_rows"],
        school="吴江区",
        kind="topics",
        stage="topics",
        received=r,
        client="QQ Mail web",
        attachment=fn,
        tests="Annex 3 .xlsx with a title row: a county-level case (吴江区教育局), then five school "
        "cases. Row 6 has 类别 心理健康, not one of the eight categories (bad_row); of the four "
        "good school cases the fourth (row 8, 吴江区平望中学) is over the county's limit of 3 "
        "(over_limit_rows). The other rows are registered.",
    )

    # 05 thank-you reply to our reply to 04 --------------------------------------------------------
    k, d, r = "city/05", t(2, 18, 10, 41, 2), t(2, 18, 10, 41, 6)
    rid = bot_reply_id(4, "3f9c2a71")
    add(
        5,
        "acknowledgement-wujiang",
        qq_webmail(
            key=k,
            box=box,
            sender="2847163950@qq.com",
            sender_name="吴江区教育局沈建明",
            subject=f"回复：【已受理】吴江区优秀案例申报信息汇总表（{receipt(4)}）",
            text="收到，谢谢于老师！平望中学的案例我们区里再商量一下。\n\n"
            "------------------ 原始邮件 ------------------\n"
            '发件人: "苏州市教育质量监测中心"<1026875682@qq.com>;\n'
            "主题: 【已受理】吴江区优秀案例申报信息汇总表\n"
            "附件3 吴江区优秀案例申报信息汇总表.xlsx 已受理。",
            date=d,
            recv=r,
            extra=[("In-Reply-To", rid), ("References", f"{wujiang_message_id()} {rid}")],
        ),
        decision="ignored",
        reasons=["acknowledgement"],
        school="吴江区",
        kind=None,
        stage="topics",
        received=r,
        client="QQ Mail web",
        tests=f"The coordinator's thank-you answer to our reply to 04 (`In-Reply-To: {rid}`), "
        "with QQ's quoted 原始邮件 block naming the .xlsx: no attachment, never answered.",
    )

    # 06 Annex 3 from 吴中区 as a Word table, no county-level case ---------------------------------
    k, d, s, r = "city/06", t(2, 19, 15, 3, 30), t(2, 19, 15, 3, 41), t(2, 19, 15, 3, 47)
    fn = "吴中区优秀案例申报信息汇总表.docx"
    data = word_table(
        ANNEX3_TITLE,
        [ANNEX3_HEADER, *WUZHONG_ROWS],
        ANNEX3_NOTES,
        created=t(2, 15, 10, 0, 0),
        modified=d - timedelta(minutes=30),
        author="顾青",
        landscape=True,
    )
    with attachment_type(DOCX_CT):
        raw = foxmail(
            key=k,
            box=box,
            sender="1592846370@qq.com",
            sender_name="吴中区顾青",
            subject="吴中区优秀案例申报信息汇总表",
            text="于老师：\n您好！吴中区的申报信息汇总表见附件，请查收。\n\n吴中区教师发展中心 顾青",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        6,
        "annex3-wuzhong-word-table-below-minimum",
        raw,
        decision="accepted",
        reasons=[],
        warnings=["below_minimum"],
        school="吴中区",
        kind="topics",
        stage="topics",
        received=r,
        client="Foxmail 7.2",
        attachment=fn,
        tests="Annex 3 as a Word table (landscape, notes under it) with three school cases and "
        "no county-level case: registered, and the county is told it needs at least one "
        "(below_minimum). Phones written （0512）66251234 and 139 1234 8765.",
    )

    # 07 QQ vacation auto-reply of 吴中区's coordinator to our reply to 06 -------------------------
    k, d, r = "city/07", t(2, 19, 15, 4, 20), t(2, 19, 15, 4, 21)
    add(
        7,
        "qq-vacation-autoreply",
        qq_autoreply(
            key=k,
            box=box,
            sender="1592846370@qq.com",
            sender_name="吴中区顾青",
            subject=f"自动回复: 【已受理】吴中区优秀案例申报信息汇总表（{receipt(6)}）",
            date=d,
            recv=r,
        ),
        decision="ignored",
        reasons=["auto_reply"],
        school="吴中区",
        kind=None,
        stage="topics",
        received=r,
        client="QQ Mail auto-reply",
        tests="QQ vacation auto-reply to our reply to 06: subject 自动回复: …, HTML only, no "
        "Auto-Submitted header. Never answered.",
    )

    # 08 Annex 3 of a directly-run school as GB18030 .csv ------------------------------------------
    k, d, s, r = "city/08", t(2, 20, 9, 47, 10), t(2, 20, 9, 47, 18), t(2, 20, 9, 47, 25)
    fn = "苏州市第十中学优秀案例申报信息汇总表.csv"
    data = gb18030_csv(ANNEX3_TITLE, ANNEX3_HEADER, SHIZHONG_ROWS, ANNEX3_NOTES)
    with attachment_type(CSV_CT):
        raw = foxmail(
            key=k,
            box=box,
            sender="1217530486@qq.com",
            sender_name="苏州市第十中学刘建国",
            subject="苏州市第十中学 案例申报汇总表",
            text="于老师：\n您好！我校（直属学校）申报两个案例，汇总表见附件，纸质申报表已寄出。\n\n"
            "苏州市第十中学教科室 刘建国",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        8,
        "annex3-shizhong-gb18030-csv",
        raw,
        decision="accepted",
        reasons=[],
        school="苏州市第十中学",
        kind="topics",
        stage="topics",
        received=r,
        client="Foxmail 7.2",
        attachment=fn,
        tests="A directly-run school's Annex 3 as Chinese Excel's CSV: GB18030, CRLF, the title "
        "row padded with commas, 区域 written 直属. Two cases, within its 1–3.",
    )

    # 09 Annex 3 from 姑苏区, Outlook 2016, retyped headers ----------------------------------------
    k, d, r = "city/09", t(2, 20, 16, 55, 31), t(2, 20, 16, 55, 36)
    fn = "姑苏区优秀案例申报信息汇总表.xlsx"
    data = make_xlsx(
        ANNEX3_TITLE,
        GUSU_HEADER,
        GUSU_ROWS,
        ANNEX3_NOTES,
        created=t(2, 17, 9, 0, 0),
        modified=d - timedelta(minutes=6),
        author="许文",
        widths=ANNEX3_WIDTHS,
    )
    with attachment_type(XLSX_CT):
        raw = outlook16(
            key=k,
            box=box,
            sender="3310427586@qq.com",
            sender_name="姑苏区许文",
            subject="姑苏区优秀案例申报信息汇总表",
            text="于老师：\n您好！附件为姑苏区优秀案例申报信息汇总表，请审阅。\n\n姑苏区教体文旅委 许文",
            date=d,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        9,
        "annex3-gusu-outlook-retyped-headers",
        raw,
        decision="accepted",
        reasons=[],
        school="姑苏区",
        kind="topics",
        stage="topics",
        received=r,
        client="Outlook 2016",
        attachment=fn,
        tests="Annex 3 from the county whose Annex 1 was late (03): headers retyped as 案例名称 "
        "and 联系电话（手机）, a landline with an extension (0512-65223456转8012). A "
        "county-level case (姑苏区教育体育和文化旅游委员会) and two school cases.",
    )

    # 10 吴中区 re-sends Annex 3 with a county-level case -------------------------------------------
    k, d, s, r = "city/10", t(2, 21, 17, 30, 2), t(2, 21, 17, 30, 15), t(2, 21, 17, 30, 21)
    fn = "吴中区优秀案例申报信息汇总表（修改）.docx"
    renumbered = [[str(i + 2), *row[1:]] for i, row in enumerate(WUZHONG_ROWS)]
    data = word_table(
        ANNEX3_TITLE,
        [ANNEX3_HEADER, WUZHONG_DISTRICT_ROW, *renumbered],
        ANNEX3_NOTES,
        created=t(2, 15, 10, 0, 0),
        modified=d - timedelta(minutes=14),
        author="顾青",
        landscape=True,
    )
    with attachment_type(DOCX_CT):
        raw = foxmail(
            key=k,
            box=box,
            sender="1592846370@qq.com",
            sender_name="吴中区顾青",
            subject="吴中区优秀案例申报信息汇总表（修改稿）",
            text="于老师：\n根据回复意见，我区补充了一个区域层面的案例，请以此表为准。\n\n"
            "吴中区教师发展中心 顾青",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        10,
        "annex3-wuzhong-corrected",
        raw,
        decision="accepted",
        reasons=[],
        school="吴中区",
        kind="topics",
        stage="topics",
        received=r,
        client="Foxmail 7.2",
        attachment=fn,
        tests="吴中区 re-sends Annex 3 on the last day with a county-level case (吴中区教师发展中心) "
        "added as row 1: it replaces 06's rows and the county is no longer short.",
    )

    # 11 final case of 吴江区实验小学 --------------------------------------------------------------
    k, d, r = "city/11", t(12, 2, 14, 20, 44), t(12, 2, 14, 20, 50)
    fn = "吴江区实验小学-基于监测数据的小学数学课堂提问改进.docx"
    unit_line = "吴江区实验小学　陆晓芳　沈丹"
    data = case_document(
        "基于监测数据的小学数学课堂提问改进",
        unit_line,
        math_questioning_case(revised=False),
        created=t(11, 20, 19, 0, 0),
        modified=d - timedelta(minutes=33),
        author="陆晓芳",
    )
    add(
        11,
        "final-wujiang-shiyan-qq-webmail",
        qq_webmail(
            key=k,
            box=box,
            sender="1638204957@qq.com",
            sender_name="陆晓芳",
            subject="吴江区实验小学 参评案例",
            text="于老师：\n您好！附件是我校的参评案例《基于监测数据的小学数学课堂提问改进》，请查收。\n\n"
            "吴江区实验小学 陆晓芳",
            date=d,
            recv=r,
            atts=[Att(fn, data)],
        ),
        decision="accepted",
        reasons=[],
        school="吴江区实验小学",
        kind="final",
        stage="final",
        received=r,
        client="QQ Mail web",
        attachment=fn,
        tests="A finished case from the school itself, named 单位-标题: matched to its "
        "registered title (序号 2 of 04).",
    )

    # 12 final with spacing and full-width differences ---------------------------------------------
    k, d, s, r = "city/12", t(12, 6, 11, 5, 9), t(12, 6, 11, 5, 20), t(12, 6, 11, 5, 27)
    fn = "木渎实验中学：基于ＰＩＳＡ阅读素养框架的初中语文 作业设计优化（定稿）.docx"
    data = case_document(
        "基于PISA阅读素养框架的初中语文作业设计优化",
        "吴中区木渎实验中学　王红梅　蒋燕",
        PISA_CASE,
        created=t(11, 28, 16, 0, 0),
        modified=d - timedelta(minutes=50),
        author="王红梅",
    )
    with attachment_type(DOCX_CT):
        raw = foxmail(
            key=k,
            box=box,
            sender="mdsyzx_jks@foxmail.com",
            sender_name=None,
            subject="木渎实验中学参评案例（定稿）",
            text="于老师：\n您好！附件是我校参评案例定稿，请查收。\n\n木渎实验中学 王红梅",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        12,
        "final-mudu-fullwidth-title",
        raw,
        decision="accepted",
        reasons=[],
        school="吴中区木渎实验中学",
        kind="final",
        stage="final",
        received=r,
        client="Foxmail 7.2",
        attachment=fn,
        tests="The school's short name, a full-width colon, ＰＩＳＡ in full-width letters, a "
        "space inside the title and （定稿）: still the title registered in 06/10. Foxmail's "
        'default sender form `"x@foxmail.com" <x@foxmail.com>`.',
    )

    # 13 final of the directly-run school, with the 工作组成员 table -------------------------------
    k, d, r = "city/13", t(12, 7, 9, 33, 12), t(12, 7, 9, 33, 19)
    fn = "苏州市第十中学基于监测结果的初中数学分层作业设计（案例总结）.docx"
    data = case_document(
        "基于监测结果的初中数学分层作业设计",
        "苏州市第十中学　刘建国　王静　赵磊",
        SHIZHONG_CASE,
        team=SHIZHONG_TEAM,
        created=t(11, 30, 15, 0, 0),
        modified=d - timedelta(minutes=21),
        author="刘建国",
    )
    with attachment_type(DOCX_CT):
        raw = outlook16(
            key=k,
            box=box,
            sender="1217530486@qq.com",
            sender_name="苏州市第十中学刘建国",
            subject="苏州市第十中学参评案例",
            text="于老师：\n您好！附件是我校参评案例总结，请查收。另一个案例仍在完善中。\n\n"
            "苏州市第十中学教科室 刘建国",
            date=d,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        13,
        "final-shizhong-outlook-team-table",
        raw,
        decision="accepted",
        reasons=[],
        school="苏州市第十中学",
        kind="final",
        stage="final",
        received=r,
        client="Outlook 2016",
        attachment=fn,
        tests="A directly-run school's finished case that opens with the 工作组成员 table of the "
        "application form (姓名, 单位, 职务, 承担任务分工): three of Annex 1's columns, but a Word "
        "document is a registration table only with all its required columns, so it is the "
        "final of 序号 1 of 08.",
    )

    # 14 final that matches no registered case -----------------------------------------------------
    k, d, r = "city/14", t(12, 9, 16, 2, 37), t(12, 9, 16, 2, 44)
    fn = "姑苏区金阊实验小学 劳动教育校本课程的开发与实施.docx"
    data = case_document(
        "劳动教育校本课程的开发与实施",
        "姑苏区金阊实验小学　周燕",
        LABOUR_CASE,
        created=t(12, 1, 10, 0, 0),
        modified=d - timedelta(minutes=18),
        author="周燕",
    )
    add(
        14,
        "final-unregistered-qq-webmail",
        qq_webmail(
            key=k,
            box=box,
            sender="2208716345@qq.com",
            sender_name="金阊实验小学周燕",
            subject="参评案例—姑苏区金阊实验小学",
            text="于老师您好：\n附件是我校的参评案例，请查收，谢谢！\n\n姑苏区金阊实验小学 周燕",
            date=d,
            recv=r,
            atts=[Att(fn, data)],
        ),
        decision="accepted",
        reasons=[],
        warnings=["unregistered_case"],
        school="姑苏区金阊实验小学",
        kind="final",
        stage="final",
        received=r,
        client="QQ Mail web",
        attachment=fn,
        tests="A finished case whose title 姑苏区 never registered (09 lists other cases): kept "
        "and answered, with a warning for organizers (unregistered_case).",
    )

    # 15 the same case of 吴江区实验小学 again: version 2 -----------------------------------------
    k, d, r = "city/15", t(12, 12, 20, 15, 3), t(12, 12, 20, 15, 9)
    fn = "吴江区实验小学-基于监测数据的小学数学课堂提问改进（修改稿）.docx"
    data = case_document(
        "基于监测数据的小学数学课堂提问改进",
        unit_line,
        math_questioning_case(revised=True),
        created=t(11, 20, 19, 0, 0),
        modified=d - timedelta(minutes=8),
        author="陆晓芳",
    )
    add(
        15,
        "final-wujiang-shiyan-second-version",
        qq_webmail(
            key=k,
            box=box,
            sender="1638204957@qq.com",
            sender_name="陆晓芳",
            subject="吴江区实验小学 参评案例（修改稿）",
            text="于老师：\n您好！我校案例补充了课堂观察数据，现发送修改稿，请以此稿为准。谢谢！\n\n"
            "吴江区实验小学 陆晓芳",
            date=d,
            recv=r,
            atts=[Att(fn, data)],
        ),
        decision="accepted",
        reasons=[],
        school="吴江区实验小学",
        kind="final",
        stage="final",
        received=r,
        client="QQ Mail web",
        attachment=fn,
        tests="The same case as 11 again before the deadline: version 2 of that case, 11 is no "
        "longer current.",
    )

    # 16 the county-level final of 吴江区, received after the deadline ---------------------------
    k, d, s, r = "city/16", t(12, 13, 23, 58, 12), t(12, 14, 0, 1, 55), t(12, 14, 0, 2, 9)
    fn = "吴江区 区域推进基于监测数据的精准教研的实践研究.docx"
    data = case_document(
        "区域推进“基于监测数据的精准教研”的实践研究",
        "苏州市吴江区教育局　沈建明",
        DISTRICT_CASE,
        created=t(12, 5, 9, 0, 0),
        modified=d - timedelta(minutes=5),
        author="沈建明",
    )
    with attachment_type(DOCX_CT):
        raw = foxmail(
            key=k,
            box=box,
            sender="2847163950@qq.com",
            sender_name="吴江区教育局沈建明",
            subject="吴江区区域层面参评案例",
            text="于老师：\n您好！附件是吴江区区域层面的参评案例，请查收。\n\n吴江区教育局教研室 沈建明",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, data)],
        )
    add(
        16,
        "final-wujiang-district-late",
        raw,
        decision="rejected",
        reasons=["late"],
        school="吴江区",
        kind="final",
        stage="final",
        received=r,
        client="Foxmail 7.2",
        attachment=fn,
        tests="The county-level case of 吴江区, received 2022-12-14 00:02:09 although the Date "
        "header says 12-13 23:58:12 (written before midnight, sent after): late for stage "
        "final (12月13日).",
    )
    return out


def wujiang_message_id() -> str:
    """The Message-ID of sample 04 (QQ web mail), which 05's References also name."""
    return make_inbox.tencent_id("city/04")


# =============================================================================================
# Output
# =============================================================================================

README = """\
# Suzhou 2022 samples: 2022年度全市义务教育学业质量监测结果运用优秀案例评选

Generated by `make_suzhou_inbox.py` — do not edit by hand; change the generator and rerun:

    .venv/bin/python samples/make_suzhou_inbox.py

Like the Shuangliu samples (README.md) the output is byte-stable: a rerun leaves `git status`
clean. `make_inbox.py` (Shuangliu) empties the whole `inbox/` folder before writing its own
groups, so run this generator again after it. The demo (`python3 tasks.py demo`) replays
this inbox with the campaign `suzhou-2022` of config.example.toml and this roster, after the
Shuangliu samples.

## What the samples reproduce

The Suzhou notice (seed `001_f7f3db4f75a08c0f`, 苏教质监〔2022〕1号): one mailbox,
1026875682@qq.com (于飞飞), and three stages, each with its own deadline (end of day,
Asia/Shanghai, judged on the server receive time):

- contacts — each county sends Annex 1, its contact person (单位, 姓名, 职务, 手机号码, QQ号),
  by 2022-02-16;
- topics — each county's coordinator (and each directly-run school) sends Annex 3, the summary
  of registered cases (序号, 案例标题, 区域, 单位, 负责人, 职务, 类别, 学段, 联系电话), by
  2022-02-21; per county at least 1 county-level case and at most 3 school cases, a
  directly-run school 1–3 cases; 类别 is one of 语文、数学、英语、科学、相关因素、管理、综合、其他,
  学段 初中 or 小学;
- final — the finished case documents, by 2022-12-13, matched by title to the registered cases.

Tables are known by their header row whatever the file is called (.xlsx, a Word table, a
.csv); their good rows are registered, bad rows and rows over a limit are named in the reply.

## Files

- `roster-suzhou-2022.csv` — UTF-8 with BOM, header `unit,group,level,district,senders`:
  four counties (level `district`, with their coordinator's QQ address), their schools
  (level `school`, `district` = the county) and two directly-run schools (level `direct`).
  `group` is empty (any group); `senders` is `;`-separated.
- `inbox/city/*.eml` — raw messages (CRLF) in order of arrival; the first `Received:` header's
  date is the server receive time. Attachments are real .xlsx (openpyxl), .docx
  (python-docx) and GB18030 .csv files with fixed properties.
- `expected-suzhou-2022.json` — what intake decides for each message: a list of
  `{"file", "decision", "reasons", "warnings", "school", "kind", "stage", "attachment",
  "received_at"}`. `school` is the unit the ledger records (the county for a county's table,
  the registered case's unit for a final), `kind` is `contacts`, `topics`, `final` or null.
  An entry with an `issue` records a decision intake gets wrong today (the expectation is what
  intake does; `issue` says what it should do). tests/test_samples.py replays the inbox and
  checks every entry.

## Messages — `inbox/city/` (mailbox 1026875682@qq.com)

"""


def write_outputs(samples: list[Sample]) -> None:
    inbox = HERE / "inbox" / "city"
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    for s in samples:
        (HERE / "inbox" / s.file).write_bytes(s.raw)

    with open(HERE / f"roster-{CAMPAIGN}.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(["unit", "group", "level", "district", "senders"])
        for unit, level, district, senders in ROSTER:
            w.writerow([unit, "", level, district, ";".join(senders)])

    expected = [
        {
            "file": s.file,
            "decision": s.decision,
            "reasons": s.reasons,
            "warnings": s.warnings,
            "school": s.school,
            "kind": s.kind,
            "stage": s.stage,
            "attachment": s.attachment,
            "received_at": s.received.isoformat(),
            **({"issue": s.issue} if s.issue else {}),
        }
        for s in samples
    ]
    (HERE / f"expected-{CAMPAIGN}.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

    lines = [
        README,
        "| file | received (+0800) | sender client | unit | what it tests | expected |\n",
        "|---|---|---|---|---|---|\n",
    ]
    for s in samples:
        verdict = s.decision
        if s.reasons:
            verdict += ": " + ", ".join(s.reasons)
        if s.kind:
            verdict += f" ({s.kind})"
        if s.warnings:
            verdict += "; warnings " + ", ".join(s.warnings)
        if s.issue:
            verdict += " — known intake issue, see `issue` in the JSON"
        att = f" Attachment: `{s.attachment}`." if s.attachment else ""
        lines.append(
            f"| `{s.file.split('/', 1)[1]}` | {s.received:%m-%d %H:%M:%S} | {s.client} | "
            f"{s.school or '—'} | {s.tests}{att} | **{verdict}** |\n"
        )
    lines.append(
        "\n## Registered after the topics stage\n\n"
        "| holder | county-level | school cases | note |\n|---|---|---|---|\n"
        "| 吴江区 | 1 | 3 (04 row 6 bad 类别, row 8 over the limit) | Annex 1: 01 |\n"
        "| 吴中区 | 1 (from 10) | 3 | 10 replaces 06; Annex 1: 02 |\n"
        "| 姑苏区 | 1 | 2 | Annex 1 late (03) |\n"
        "| 相城区 | 0 | 0 | sent nothing: short of its county-level case |\n"
        "| 苏州市第十中学 (direct) | — | 2 | |\n"
        "| 苏州中学 (direct) | — | 0 | sent nothing: short of its minimum of 1 |\n"
    )
    (HERE / "README-suzhou.md").write_text("".join(lines), encoding="utf-8")


def main() -> None:
    samples = build_city()
    for s in samples:
        assert s.raw.count(b"\n") == s.raw.count(CRLF), s.file  # CRLF only
        assert s.raw.startswith(b"Received: "), s.file
        assert len(s.raw) < 80_000, (s.file, len(s.raw))
    write_outputs(samples)
    print(
        f"wrote {len(samples)} messages, roster-{CAMPAIGN}.csv, expected-{CAMPAIGN}.json "
        f"and README-suzhou.md under {HERE}"
    )


if __name__ == "__main__":
    main()
