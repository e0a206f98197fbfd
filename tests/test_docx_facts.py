"""The format facts of a .docx: effective fonts, sizes, bold, margins, 字数, roles, signatories.

Documents come from python-docx (each fact set at exactly one level of Word's style hierarchy,
the rest pointing elsewhere) and from LibreOffice (what a real word processor writes).
"""

from __future__ import annotations

import base64
import copy
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Twips
from lxml import etree
from office import require_soffice, write_word_document

from intake.documents.docx_facts import (
    DocumentError,
    DocxFacts,
    ParagraphFacts,
    SectionMargins,
    read_docx_facts,
    signatories,
    word_count,
)

A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
MC_V_O = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
)
FILENAME = "双流区实验小学改进案例.docx"
MARGINS_2_5 = SectionMargins(top_cm=2.5, bottom_cm=2.5, left_cm=2.5, right_cm=2.5)


# ---------------------------------------------------------------------- python-docx documents


def blank_document() -> Any:
    """A python-docx document whose defaults name fonts no test expects: 等线, Calibri, 五号.

    python-docx's template points its defaults at the theme (which says 宋体 for Chinese);
    explicit names here make every test show which level its facts came from.
    """
    document = docx.Document()
    properties = default_run_properties(document)
    fonts = properties.find(qn("w:rFonts"))
    fonts.attrib.clear()
    fonts.set(qn("w:ascii"), "Calibri")
    fonts.set(qn("w:hAnsi"), "Calibri")
    fonts.set(qn("w:eastAsia"), "等线")
    properties.find(qn("w:sz")).set(qn("w:val"), "21")
    return document


def default_run_properties(document: Any) -> Any:
    defaults = document.styles.element.find(qn("w:docDefaults"))
    return defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))


def set_fonts(properties: Any, **attributes: str) -> None:
    """Set w:rFonts attributes on a w:rPr: set_fonts(rPr, eastAsia="宋体", ascii="…")."""
    fonts = properties.get_or_add_rFonts()
    for name, value in attributes.items():
        fonts.set(qn(f"w:{name}"), value)


def set_size(properties: Any, half_points: int) -> None:
    properties.get_or_add_sz().set(qn("w:val"), str(half_points))


def set_bold(properties: Any, value: str | None = None) -> None:
    bold = properties.get_or_add_b()
    if value is not None:
        bold.set(qn("w:val"), value)


def style_properties(style: Any) -> Any:
    return style.element.get_or_add_rPr()


def run_properties(run: Any) -> Any:
    return run._r.get_or_add_rPr()


def saved(document: Any) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def edit_member(payload: bytes, member: str, edit: Callable[[Any], None]) -> bytes:
    """The package with one XML member changed by `edit(root)` — as a hand edit would."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(payload)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                root = etree.fromstring(data)
                edit(root)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            target.writestr(info, data)
    return out.getvalue()


def only(facts: DocxFacts, text: str) -> ParagraphFacts:
    matches = [p for p in facts.paragraphs if p.text == text]
    assert len(matches) == 1, [p.text for p in facts.paragraphs]
    return matches[0]


def png() -> bytes:
    """A 1×1 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------- fonts, sizes, bold


def test_fonts_and_size_set_only_on_the_run() -> None:
    document = blank_document()
    run = document.add_paragraph().add_run("2021年改进案例")
    set_fonts(run_properties(run), eastAsia="宋体", ascii="Times New Roman")
    set_size(run_properties(run), 36)
    document.add_paragraph("双流区实验小学 张三")

    facts = read_docx_facts(saved(document), FILENAME)

    assert facts.paragraphs[0] == ParagraphFacts(
        index=0,
        text="2021年改进案例",
        role="title",
        east_asia_fonts=("宋体",),
        latin_fonts=("Times New Roman",),
        sizes=(18.0,),
        bold=False,
    )
    # The next paragraph says nothing itself: the document defaults show through.
    assert facts.paragraphs[1].east_asia_fonts == ("等线",)
    assert facts.paragraphs[1].sizes == (10.5,)


def test_fonts_only_in_a_paragraph_style_based_on_normal() -> None:
    document = blank_document()
    normal = document.styles["Normal"]
    case_font = document.styles.add_style("Case Font", WD_STYLE_TYPE.PARAGRAPH)
    case_font.base_style = normal
    set_fonts(style_properties(case_font), eastAsia="仿宋_GB2312", ascii="Times New Roman")
    case_body = document.styles.add_style("Case Body", WD_STYLE_TYPE.PARAGRAPH)
    case_body.base_style = case_font  # the font comes from one level up the basedOn chain
    set_size(style_properties(case_body), 24)
    document.add_paragraph("2021年工作总结", style=case_font)
    document.add_paragraph("学生阅读能力较强。", style=case_body)

    facts = read_docx_facts(saved(document), FILENAME)

    assert facts.paragraphs[0] == ParagraphFacts(
        index=0,
        text="2021年工作总结",
        role="title",
        east_asia_fonts=("仿宋",),
        latin_fonts=("Times New Roman",),
        sizes=(10.5,),
        bold=False,
    )
    assert facts.paragraphs[1] == ParagraphFacts(
        index=1,
        text="学生阅读能力较强。",
        role="body",
        east_asia_fonts=("仿宋",),
        latin_fonts=(),
        sizes=(12.0,),
        bold=False,
    )


def test_fonts_only_in_the_normal_style_with_simsun_normalised() -> None:
    document = blank_document()
    normal = style_properties(document.styles["Normal"])
    set_fonts(normal, eastAsia="SimSun", ascii="SimSun")
    set_size(normal, 24)
    document.add_paragraph("我校2021年PISA测试结果")

    paragraph = read_docx_facts(saved(document), FILENAME).paragraphs[0]

    assert paragraph.east_asia_fonts == ("宋体",)
    assert paragraph.latin_fonts == ("宋体",)
    assert paragraph.sizes == (12.0,)


def test_fonts_only_in_the_document_defaults() -> None:
    document = blank_document()
    set_fonts(default_run_properties(document), eastAsia="楷体_GB2312", ascii="Arial")
    set_size(default_run_properties(document), 28)
    document.add_paragraph("四号楷体的标题 ABC")

    paragraph = read_docx_facts(saved(document), FILENAME).paragraphs[0]

    assert paragraph == ParagraphFacts(
        index=0,
        text="四号楷体的标题 ABC",
        role="title",
        east_asia_fonts=("楷体",),
        latin_fonts=("Arial",),
        sizes=(14.0,),
        bold=False,
    )


def theme_document() -> Any:
    """Defaults that name fonts only through the theme, as Word 2007+ writes them."""
    document = blank_document()
    fonts = default_run_properties(document).find(qn("w:rFonts"))
    fonts.attrib.clear()
    for name, value in {
        "asciiTheme": "minorHAnsi",
        "hAnsiTheme": "minorHAnsi",
        "eastAsiaTheme": "minorEastAsia",
        "cstheme": "minorBidi",
    }.items():
        fonts.set(qn(f"w:{name}"), value)
    document.add_paragraph("理论学习 PISA")
    run = document.add_paragraph().add_run("标题用主题的标题字体")
    set_fonts(run_properties(run), eastAsiaTheme="majorEastAsia", eastAsia="楷体")
    return document


def set_theme_fonts(kind: str, *, latin: str, ea: str, hans: str) -> Callable[[Any], None]:
    def edit(theme: Any) -> None:
        scheme = theme.find(f".//{{{A_NS}}}{kind}Font")
        scheme.find(f"{{{A_NS}}}latin").set("typeface", latin)
        scheme.find(f"{{{A_NS}}}ea").set("typeface", ea)
        for font in scheme.findall(f"{{{A_NS}}}font"):
            if font.get("script") == "Hans":
                font.set("typeface", hans)

    return edit


def test_fonts_only_through_the_theme_ea_typeface() -> None:
    payload = saved(theme_document())
    member = "word/theme/theme1.xml"
    payload = edit_member(
        payload, member, set_theme_fonts("minor", latin="Times New Roman", ea="宋体", hans="黑体")
    )
    payload = edit_member(
        payload, member, set_theme_fonts("major", latin="Arial", ea="SimHei", hans="宋体")
    )

    facts = read_docx_facts(payload, FILENAME)

    # a:ea wins over the Hans entry; minorHAnsi is the theme's a:latin.
    assert facts.paragraphs[0].east_asia_fonts == ("宋体",)
    assert facts.paragraphs[0].latin_fonts == ("Times New Roman",)
    # A theme reference wins over the plain name next to it (w:eastAsia="楷体").
    assert facts.paragraphs[1].east_asia_fonts == ("黑体",)


def test_theme_hans_entry_when_its_ea_typeface_is_empty() -> None:
    payload = edit_member(
        saved(theme_document()),
        "word/theme/theme1.xml",
        set_theme_fonts("minor", latin="Cambria", ea="", hans="宋体"),
    )

    paragraph = read_docx_facts(payload, FILENAME).paragraphs[0]

    assert paragraph.east_asia_fonts == ("宋体",)
    assert paragraph.latin_fonts == ("Cambria",)


def test_sizes_from_half_points_and_bold_from_styles() -> None:
    document = blank_document()
    title_style = document.styles.add_style("Case Title", WD_STYLE_TYPE.PARAGRAPH)
    title_style.base_style = document.styles["Normal"]
    set_size(style_properties(title_style), 36)
    set_bold(style_properties(title_style))
    strong = document.styles.add_style("Case Strong", WD_STYLE_TYPE.CHARACTER)
    set_bold(style_properties(strong), "1")
    set_fonts(style_properties(strong), eastAsia="黑体")
    set_size(run_properties(document.add_paragraph(style=title_style).add_run("标题")), 36)
    body = document.add_paragraph()
    set_size(run_properties(body.add_run("小四号正文，")), 24)
    set_size(run_properties(body.add_run("一处五号字。")), 21)
    document.add_paragraph("本段全部加粗", style=title_style)
    not_bold = document.add_paragraph(style=title_style).add_run("样式加粗但字符取消加粗")
    set_bold(run_properties(not_bold), "false")
    document.add_paragraph().add_run("字符样式加粗", style=strong)
    partly = document.add_paragraph()
    partly.add_run("一半加粗", style=strong)
    partly.add_run("一半不加粗")
    off = document.add_paragraph().add_run("w:val=0")
    set_bold(run_properties(off), "0")

    facts = read_docx_facts(saved(document), FILENAME)

    assert [(p.text, p.sizes, p.bold) for p in facts.paragraphs] == [
        ("标题", (18.0,), True),
        ("小四号正文，一处五号字。", (10.5, 12.0), False),
        ("本段全部加粗", (18.0,), True),
        ("样式加粗但字符取消加粗", (18.0,), False),
        ("字符样式加粗", (10.5,), True),
        ("一半加粗一半不加粗", (10.5,), False),
        ("w:val=0", (10.5,), False),
    ]
    assert only(facts, "字符样式加粗").east_asia_fonts == ("黑体",)
    assert only(facts, "一半加粗一半不加粗").east_asia_fonts == ("等线", "黑体")


def test_whitespace_runs_and_empty_paragraphs_are_left_out() -> None:
    document = blank_document()
    paragraph = document.add_paragraph()
    set_fonts(run_properties(paragraph.add_run("　 ")), eastAsia="Arial Unicode MS")
    set_fonts(run_properties(paragraph.add_run("标题")), eastAsia="宋体")
    document.add_paragraph("")
    document.add_paragraph("   ")
    document.add_paragraph("正文。")

    facts = read_docx_facts(saved(document), FILENAME)

    assert [(p.index, p.text, p.east_asia_fonts) for p in facts.paragraphs] == [
        (0, "　 标题", ("宋体",)),
        (3, "正文。", ("等线",)),
    ]


def test_paragraphs_in_tables_are_listed_and_counted() -> None:
    document = blank_document()
    document.add_paragraph("标题")
    document.add_paragraph("表1 各年级阅读得分")
    table = document.add_table(rows=2, cols=2)
    for row, texts in zip(table.rows, [["年级", "得分"], ["五年级", "512"]], strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    document.add_paragraph("结语。")

    facts = read_docx_facts(saved(document), FILENAME)

    # The caption and the cells are not body text for the size check, but Word counts them.
    assert [(p.index, p.text, p.role) for p in facts.paragraphs] == [
        (0, "标题", "title"),
        (1, "表1 各年级阅读得分", "other"),
        (2, "年级", "other"),
        (3, "得分", "other"),
        (4, "五年级", "other"),
        (5, "512", "other"),
        (6, "结语。", "body"),
    ]
    assert facts.body_chars == 9 + 2 + 2 + 3 + 1 + 3


def test_captions_by_style_or_by_number_are_not_body() -> None:
    document = blank_document()
    document.add_paragraph("标题")
    document.add_paragraph("双流区实验小学 张三")
    document.add_paragraph("正文。")
    # Chinese Word gives its built-in caption style an id such as "a7"; the name is "caption".
    caption = document.styles.add_style("Figure Label", WD_STYLE_TYPE.PARAGRAPH)
    caption.style_id = "a7"
    caption.element.name_val = "caption"
    chinese = document.styles.add_style("图片题注", WD_STYLE_TYPE.PARAGRAPH)
    based = document.styles.add_style("Picture Note", WD_STYLE_TYPE.PARAGRAPH)
    based.base_style = document.styles["Caption"]
    document.add_paragraph("学生阅读时间分布", style=caption)
    document.add_paragraph("各年级得分", style=chinese)
    document.add_paragraph("教师访谈记录", style=based)
    for text in ["图1 学生阅读时间", "表 2 各年级得分", "图１－２ 课堂实录"]:
        document.add_paragraph(text)
    document.add_paragraph("图书馆每周开放五天。")

    facts = read_docx_facts(saved(document), FILENAME)

    assert [p.role for p in facts.paragraphs] == [
        "title",
        "author",
        "body",
        *["other"] * 6,
        "body",
    ]
    assert facts.body_chars == sum(
        word_count(p.text) for p in facts.paragraphs if p.role in ("body", "other")
    )


def test_a_table_before_the_title_is_not_the_title() -> None:
    document = blank_document()
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "学校"
    table.rows[0].cells[1].text = "双流区实验小学"
    document.add_paragraph("关于提升学生阅读素养的改进案例")
    document.add_paragraph("双流区实验小学 张三")

    facts = read_docx_facts(saved(document), FILENAME)

    assert [p.role for p in facts.paragraphs] == ["other", "other", "title", "author"]
    assert facts.signatories == ("张三",)


def sized_paragraph(document: Any, text: str, half_points: int, *, bold: bool = False) -> None:
    run = document.add_paragraph().add_run(text)
    set_size(run_properties(run), half_points)
    if bold:
        set_bold(run_properties(run))


@pytest.mark.parametrize("label", ["附件2", "附件 1：", "附件二", "附件：", "附件３"])
def test_an_annex_label_before_the_title_is_not_the_title(label: str) -> None:
    document = blank_document()
    sized_paragraph(document, label, 32)
    sized_paragraph(document, "关于提升学生阅读素养的改进案例", 36, bold=True)
    sized_paragraph(document, "双流区实验小学 张三", 24)
    sized_paragraph(document, "我校学生阅读能力较强。", 24)

    facts = read_docx_facts(saved(document), FILENAME)

    assert [p.role for p in facts.paragraphs] == ["other", "title", "author", "body"]
    assert facts.signatories == ("张三",)


def test_a_title_over_two_paragraphs_with_the_same_look() -> None:
    document = blank_document()
    sized_paragraph(document, "附件1", 32)
    sized_paragraph(document, "基于2021年质量监测结果的", 36, bold=True)
    sized_paragraph(document, "小学语文阅读教学改进案例", 36, bold=True)
    sized_paragraph(document, "——以双流区实验小学为例", 30)
    sized_paragraph(document, "双流区实验小学 张三", 24)
    sized_paragraph(document, "我校学生阅读能力较强。", 24)

    facts = read_docx_facts(saved(document), FILENAME)

    assert [p.role for p in facts.paragraphs] == [
        "other",
        "title",
        "title",
        "title",
        "author",
        "body",
    ]


@pytest.mark.parametrize(
    ("second", "role"),
    [
        # A different size or boldness is not the title's second line.
        (("小学语文阅读教学改进案例", 36, False), "body"),
        (("小学语文阅读教学改进案例", 32, True), "body"),
        # A sentence, a numbered heading and an author line never are.
        (("我校学生阅读能力较强。", 36, True), "body"),
        (("一、问题的提出", 36, True), "body"),
        (("双流区实验小学 张三", 36, True), "author"),
    ],
)
def test_what_is_not_a_second_title_line(second: tuple[str, int, bool], role: str) -> None:
    document = blank_document()
    sized_paragraph(document, "基于2021年质量监测结果的", 36, bold=True)
    text, size, bold = second
    sized_paragraph(document, text, size, bold=bold)
    sized_paragraph(document, "我校学生阅读能力较强。", 24)

    facts = read_docx_facts(saved(document), FILENAME)

    assert [p.role for p in facts.paragraphs] == ["title", role, "body"]


def test_a_document_in_one_look_has_a_one_line_title() -> None:
    document = blank_document()
    for text in ["关于提升学生阅读素养的改进案例", "存在的问题与改进", "我校学生阅读能力较强。"]:
        sized_paragraph(document, text, 24)
    sized_paragraph(document, "改进措施", 24, bold=True)
    sized_paragraph(document, "开展整本书阅读。", 24)

    facts = read_docx_facts(saved(document), FILENAME)

    assert [p.role for p in facts.paragraphs] == ["title", "body", "body", "body", "body"]


# ---------------------------------------------------------------------- margins


def test_margins_of_every_section() -> None:
    document = blank_document()
    first = document.sections[0]
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(first, side, Twips(1417))
    document.add_paragraph("第一节")
    second = document.add_section(WD_SECTION.NEW_PAGE)
    second.top_margin, second.bottom_margin = Twips(1134), Twips(1134)
    second.left_margin, second.right_margin = Twips(1701), Twips(1304)
    document.add_paragraph("第二节")

    facts = read_docx_facts(saved(document), FILENAME)

    assert facts.margins == (
        MARGINS_2_5,
        SectionMargins(top_cm=2.0, bottom_cm=2.0, left_cm=3.0, right_cm=2.3),
    )


# ---------------------------------------------------------------------- roles and signatories


def test_title_author_lines_and_body() -> None:
    document = blank_document()
    for text in [
        "关于提升学生阅读素养的改进案例",
        "",
        "——基于2021年PISA测试结果",
        "双流区实验小学  张三 李四",
        "作者：王五、赵六（双流区棠湖中学）",
        "一、问题的提出",
        "我校2021年PISA测试结果显示，学生阅读能力较强。",
        "",
        "执笔人：孙七",
    ]:
        document.add_paragraph(text)

    facts = read_docx_facts(saved(document), FILENAME)

    assert [(p.index, p.role) for p in facts.paragraphs] == [
        (0, "title"),
        (2, "title"),
        (3, "author"),
        (4, "author"),
        (5, "body"),
        (6, "body"),
        (8, "body"),
    ]
    assert facts.signatories == ("张三", "李四", "王五", "赵六")
    # 一、问题的提出 = 7; 我校 2021 年 PISA 测试结果显示 ， 学生阅读能力较强 。 = 2+1+1+1+6+1+8+1;
    # 执笔人：孙七 = 6.
    assert facts.body_chars == 7 + 21 + 6
    # The title and subtitle (—— 基于 2021 年 PISA 测试结果), then the two author lines.
    title = 15 + 2 + 2 + 1 + 1 + 1 + 4
    authors = 7 + 2 + 2 + 17
    assert facts.total_chars == facts.body_chars + title + authors


@pytest.mark.parametrize(
    ("texts", "roles"),
    [
        # A unit line, then one name on its own line.
        (["标题", "双流区棠湖中学", "张三", "正文。"], ["title", "author", "author", "body"]),
        # A lone heading word is not a name; a sentence is not an author line.
        (["标题", "摘要", "张三 李四"], ["title", "body", "body"]),
        (["标题", "双流区实验小学开展了活动。"], ["title", "body"]),
        # Two names without a unit are an author line; a district ends a word.
        (["标题", "张三　李四", "成都市双流区 王五"], ["title", "author", "author"]),
        (["标题", "区域背景分析"], ["title", "body"]),
        # At most three author lines; a numbered heading never is one.
        (
            ["标题", "双流区", "甲中学", "乙中学", "丙中学"],
            ["title", "author", "author", "author", "body"],
        ),
        (["标题", "（一）双流区实验小学的做法"], ["title", "body"]),
        # An unnumbered short heading after the author line is a heading, not an author line.
        *[
            (
                ["标题", "双流区实验小学 张三", heading, "正文。"],
                ["title", "author", "body", "body"],
            )
            for heading in ["存在不足", "今后打算", "主要经验", "学校概况", "一、背景", "背景"]
        ],
        (["标题", "双流区棠湖中学", "反思", "正文。"], ["title", "author", "body", "body"]),
        (["标题", "学校概况", "正文。"], ["title", "body", "body"]),
        (["标题", "走出误区", "正文。"], ["title", "body", "body"]),
        # A name glued to the unit's name starts with a surname; "为例" does not.
        (["标题", "双流区实验小学张三", "正文。"], ["title", "author", "body"]),
        (["标题", "以双流区实验小学为例", "正文。"], ["title", "body", "body"]),
        (["标题", "以学生为中心", "正文。"], ["title", "body", "body"]),
        (["标题", "双流区棠湖中学", "实践", "正文。"], ["title", "author", "body", "body"]),
        # A single name counts only right after a unit line; a title or a label may go with it.
        (["标题", "作者：张三", "李四", "正文。"], ["title", "author", "body", "body"]),
        (["标题", "双流区棠湖中学", "李小明", "正文。"], ["title", "author", "author", "body"]),
        (["标题", "校长 张三", "正文。"], ["title", "author", "body"]),
        (["标题", "主持人：张三  成员：李四", "正文。"], ["title", "author", "body"]),
        # Long lines are body text.
        (["标题", "双流区实验小学" + "的" * 40], ["title", "body"]),
        (["只有标题"], ["title"]),
    ],
)
def test_role_heuristics(texts: list[str], roles: list[str]) -> None:
    document = blank_document()
    for text in texts:
        document.add_paragraph(text)

    facts = read_docx_facts(saved(document), FILENAME)

    assert [p.role for p in facts.paragraphs] == roles


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["双流区实验小学  张三 李四、王五"], ("张三", "李四", "王五")),
        (["作者：王五、赵六（双流区棠湖中学）"], ("王五", "赵六")),
        (["成都市双流区教育科学研究院 执笔人：张三和李四"], ("张三", "李四")),
        (["双流区棠湖中学　　张　三　李小明等"], ("张三", "李小明")),
        (["单位：双流区实验小学 作者：张三，李四；王五"], ("张三", "李四", "王五")),
        (["双流区实验小学"], ()),
        (["王和平 李四与赵六"], ("王和平", "李四", "赵六")),
        (["双流区实验小学 张三校长 李四老师"], ("张三", "李四")),
        (["双流区实验小学 张三", "张三 李四"], ("张三", "李四")),
        (["成都市双流区 王五"], ("王五",)),
        ("双流区实验小学 张三", ("张三",)),
        ([], ()),
        # Labels, job titles, departments and contact details are not people.
        (["双流区实验小学 校长 张三 教导主任 李四"], ("张三", "李四")),
        (["主持人：张三  成员：李四"], ("张三", "李四")),
        (["课题负责人：张三"], ("张三",)),
        (["第一作者：张三 通讯作者：李四"], ("张三", "李四")),
        (["双流区实验小学 语文教师 张三"], ("张三",)),
        (["双流区实验小学 张三 电话：13812345678"], ("张三",)),
        (["双流区实验小学教导处 张三"], ("张三",)),
        (
            ["双流区实验小学 课题组 张三 副校长 李四 班主任 王五 骨干教师 赵六"],
            ("张三", "李四", "王五", "赵六"),
        ),
        (["双流区实验小学 张三副校长 教科室主任 李四 邮箱：zs@163.com"], ("张三", "李四")),
        (["双流区实验小学 校长张三 三年级语文教师 李四 手机 13812345678"], ("张三", "李四")),
        (["申报人：张三 联系电话：028-85812345"], ("张三",)),
        (["张三 语文 李四 数学"], ("张三", "李四")),
        (["双流区实验小学 执笔人张三 语文教师李四 女 汉族"], ("张三", "李四")),
        # Every unit's name is cut, not only the last one.
        (["双流区棠湖中学 张三  双流区实验小学 李四"], ("张三", "李四")),
        (["双流区棠湖中学张三 双流区实验小学李四"], ("张三", "李四")),
        (["双流区中心小学 张三"], ("张三",)),
    ],
)
def test_signatories(lines: list[str], expected: tuple[str, ...]) -> None:
    assert signatories(lines) == expected


# ---------------------------------------------------------------------- 字数


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("我校2021年PISA测试", 7),
        ("", 0),
        ("  \t\n", 0),
        ("Hello world", 2),
        ("学生，你好！", 6),
        ("“双减”政策", 6),
        ("《课程标准》（2022年版）", 11),
        ("3.5 分", 2),
        ("e-mail, PISA.", 2),
        ("１２３ＡＢ", 5),
        ("——", 2),
        ("第1章 Word 2016", 5),
        ("a + b = c", 3),
        ("　", 0),
    ],
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count


# ---------------------------------------------------------------------- pictures and videos


def test_pictures_counted_once_each() -> None:
    document = blank_document()
    document.add_paragraph("标题")
    document.add_picture(io.BytesIO(png()))
    paragraph = document.add_paragraph()
    paragraph.add_run().add_picture(io.BytesIO(png()))
    rel_id = document.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    drawing = copy.deepcopy(paragraph.runs[0]._r.find(qn("w:drawing")))
    v_ns = f"{nsdecls('w', 'r')} {MC_V_O}"
    # Word's floating picture: DrawingML plus a VML copy for old readers (one picture).
    alternate = parse_xml(
        f'<w:r {v_ns}><mc:AlternateContent><mc:Choice Requires="wps"/>'
        f'<mc:Fallback><w:pict><v:shape><v:imagedata r:id="{rel_id}"/></v:shape></w:pict>'
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )
    alternate.find(f"{MC}AlternateContent").find(f"{MC}Choice").append(drawing)
    # An old-style VML picture (one), and an embedded object's preview image (none).
    vml = parse_xml(
        f'<w:r {v_ns}><w:pict><v:shape><v:imagedata r:id="{rel_id}"/></v:shape></w:pict></w:r>'
    )
    ole = parse_xml(
        f'<w:r {v_ns}><w:object><v:shape><v:imagedata r:id="{rel_id}"/></v:shape>'
        '<o:OLEObject Type="Embed" ProgID="Excel.Sheet.12"/></w:object></w:r>'
    )
    target = document.add_paragraph("图1 学生阅读时间")._p
    for run in (alternate, vml, ole):
        target.append(run)

    facts = read_docx_facts(saved(document), FILENAME)

    assert facts.pictures == 4
    assert facts.videos == 0
    assert [p.text for p in facts.paragraphs] == ["标题", "图1 学生阅读时间"]


def test_videos_embedded_as_a_part_or_inside_an_object() -> None:
    document = blank_document()
    document.add_paragraph("标题")
    package = document.part.package
    video = Part(
        PackURI("/word/media/media1.mp4"), "video/mp4", b"\x00\x00\x00\x18ftypmp42", package
    )
    document.part.relate_to(
        video, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/video"
    )
    # "插入对象 → 由文件创建": an OLE package whose native data names the file.
    native = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "班会实录.MP4".encode("gbk") + b"\x00"
    )
    embedded = Part(
        PackURI("/word/embeddings/oleObject1.bin"),
        "application/vnd.openxmlformats-officedocument.oleObject",
        native,
        package,
    )
    rel_id = document.part.relate_to(embedded, RT.OLE_OBJECT)
    run = parse_xml(
        f"<w:r {nsdecls('w', 'r')} {MC_V_O}><w:object>"
        f'<o:OLEObject Type="Embed" ProgID="Package" r:id="{rel_id}"/></w:object></w:r>'
    )
    document.add_paragraph("课堂实录见视频。")._p.append(run)

    facts = read_docx_facts(saved(document), FILENAME)

    assert facts.videos == 2
    assert facts.pictures == 0


# ---------------------------------------------------------------------- files that are not .docx


def word_payload() -> bytes:
    document = blank_document()
    document.add_paragraph("标题")
    document.add_paragraph("正文" * 500)
    return saved(document)


def other_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("案例.txt", "正文")
    return buffer.getvalue()


def workbook() -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(word_payload())) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"wordprocessingml.document.main+xml", b"spreadsheetml.sheet.main+xml"
                )
            target.writestr(info, data)
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
NOT_WORD = "文件“{}”不是有效的 Word 文档（.docx），可能已损坏或只是改了扩展名，请用 Word 或 WPS 另存为 .docx 后重新发送"
DAMAGED = "文件“{}”已损坏或不完整（可能没有下载或发送完整），无法打开，请用 Word 或 WPS 打开检查，另存为 .docx 后重新发送"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (lambda: b"", "文件“{}”是空的（0 字节），请检查附件后重新发送"),
        (lambda: "这不是文档".encode("gb18030"), NOT_WORD),
        (lambda: b"%PDF-1.7\n", NOT_WORD),
        (other_zip, NOT_WORD),
        (workbook, NOT_WORD),
        (lambda: word_payload()[: len(word_payload()) // 2], DAMAGED),
        (lambda: word_payload()[:-30], DAMAGED),
        (
            lambda: (
                OLE
                + "EncryptionInfo".encode("utf-16-le")
                + b"\x00" * 64
                + "EncryptedPackage".encode("utf-16-le")
            ),
            "文件“{}”设置了打开密码，无法读取，请取消密码后重新发送",
        ),
        (
            lambda: OLE + "WordDocument".encode("utf-16-le"),
            "文件“{}”是旧版 Word 文档（.doc）或 WPS 文档，只是扩展名为 .docx，请用 Word 或 WPS 另存为 .docx 后重新发送",
        ),
    ],
    ids=[
        "empty",
        "text",
        "pdf",
        "other-zip",
        "workbook",
        "half",
        "no-central-directory",
        "encrypted",
        "old-doc",
    ],
)
def test_files_that_are_not_a_docx(payload: Callable[[], bytes], message: str) -> None:
    with pytest.raises(DocumentError) as raised:
        read_docx_facts(payload(), FILENAME)

    assert str(raised.value) == message.format(FILENAME)


def test_a_damaged_member_is_reported_as_damaged() -> None:
    payload = bytearray(word_payload())
    with zipfile.ZipFile(io.BytesIO(bytes(payload))) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    payload[start + 10 : start + 40] = b"\xff" * 30

    with pytest.raises(DocumentError) as raised:
        read_docx_facts(bytes(payload), FILENAME)

    assert str(raised.value) == DAMAGED.format(FILENAME)


def test_without_a_file_name_the_message_says_this_file() -> None:
    with pytest.raises(DocumentError) as raised:
        read_docx_facts(b"")

    assert str(raised.value) == "该文件是空的（0 字节），请检查附件后重新发送"


# ---------------------------------------------------------------------- LibreOffice

PIXEL = base64.b64encode(png()).decode()

SCHOOL_PAGE = f"""<html><head><meta charset="utf-8"><style>@page {{ margin: 2.5cm }}</style></head>
<body>
<p style="font-family:'宋体'; font-size:18pt; font-weight:bold">关于我校2021年PISA测试的改进案例</p>
<p style="font-family:'宋体'; font-size:12pt">双流区实验小学　张三　李四</p>
<p style="font-family:SimSun; font-size:12pt">我校2021年PISA测试结果显示，学生阅读能力较强。</p>
<p style="font-family:'宋体'; font-size:12pt"><img src="data:image/png;base64,{PIXEL}" width="40" height="40"></p>
<p style="font-family:'黑体'; font-size:12pt">一、改进措施：开展“整本书阅读”活动。</p>
</body></html>
"""

STYLED_TEXT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:font-face-decls>
  <style:font-face style:name="宋体" svg:font-family="宋体" style:font-family-generic="system"/>
  <style:font-face style:name="黑体" svg:font-family="黑体" style:font-family-generic="system"/>
  <style:font-face style:name="Times New Roman" svg:font-family="'Times New Roman'" style:font-family-generic="roman"/>
 </office:font-face-decls>
 <office:styles>
  <style:default-style style:family="paragraph">
   <style:text-properties style:font-name="Times New Roman" fo:font-size="12pt" style:font-name-asian="宋体" style:font-size-asian="12pt"/>
  </style:default-style>
  <style:style style:name="Standard" style:family="paragraph" style:class="text"/>
  <style:style style:name="CaseTitle" style:display-name="Case Title" style:family="paragraph" style:parent-style-name="Standard">
   <style:text-properties fo:font-size="18pt" style:font-size-asian="18pt" fo:font-weight="bold" style:font-weight-asian="bold"/>
  </style:style>
  <style:style style:name="Marked" style:family="text">
   <style:text-properties fo:font-weight="bold" style:font-weight-asian="bold" style:font-name-asian="黑体"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin-top="2.5cm" fo:margin-bottom="2.5cm" fo:margin-left="2.5cm" fo:margin-right="2.5cm"/></style:page-layout>
  <style:page-layout style:name="pm2"><style:page-layout-properties fo:page-width="29.7cm" fo:page-height="21cm" fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="3cm" fo:margin-right="3.17cm"/></style:page-layout>
  <style:style style:name="Landscape" style:family="paragraph" style:parent-style-name="Standard" style:master-page-name="Wide"/>
 </office:automatic-styles>
 <office:master-styles>
  <style:master-page style:name="Standard" style:page-layout-name="pm1"/>
  <style:master-page style:name="Wide" style:page-layout-name="pm2"/>
 </office:master-styles>
 <office:body><office:text>
  <text:p text:style-name="CaseTitle">基于2021年质量监测结果的改进案例</text:p>
  <text:p text:style-name="Standard">作者：王五、赵六（双流区棠湖中学）</text:p>
  <text:p text:style-name="Standard"/>
  <text:p text:style-name="Standard">（一）问题描述</text:p>
  <text:p text:style-name="Standard"><text:span text:style-name="Marked">重点结论</text:span></text:p>
  <text:p text:style-name="Landscape">附表：各年级PISA阅读得分</text:p>
 </office:text></office:body>
</office:document>
"""


@pytest.fixture(scope="module")
def libreoffice_documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    require_soffice()
    folder = tmp_path_factory.mktemp("docx-facts")
    made = {
        "html": write_word_document(SCHOOL_PAGE, folder / "page.docx", "html"),
        "fodt": write_word_document(STYLED_TEXT, folder / "styled.docx", "fodt"),
    }
    return {kind: Path(path).read_bytes() for kind, path in made.items()}


@pytest.mark.office
def test_libreoffice_page_with_fonts_on_the_runs(libreoffice_documents: dict[str, bytes]) -> None:
    facts = read_docx_facts(libreoffice_documents["html"], FILENAME)

    assert facts == DocxFacts(
        paragraphs=(
            ParagraphFacts(
                index=0,
                text="关于我校2021年PISA测试的改进案例",
                role="title",
                east_asia_fonts=("宋体",),
                latin_fonts=("宋体",),
                sizes=(18.0,),
                bold=True,
            ),
            ParagraphFacts(
                index=1,
                text="双流区实验小学　张三　李四",
                role="author",
                east_asia_fonts=("宋体",),
                latin_fonts=(),
                sizes=(12.0,),
                bold=False,
            ),
            ParagraphFacts(
                index=2,
                text="我校2021年PISA测试结果显示，学生阅读能力较强。",
                role="body",
                east_asia_fonts=("宋体",),
                latin_fonts=("宋体",),
                sizes=(12.0,),
                bold=False,
            ),
            ParagraphFacts(
                index=4,
                text="一、改进措施：开展“整本书阅读”活动。",
                role="body",
                east_asia_fonts=("黑体",),
                latin_fonts=(),
                sizes=(12.0,),
                bold=False,
            ),
        ),
        margins=(MARGINS_2_5,),
        body_chars=21 + 19,
        total_chars=4 + 1 + 1 + 1 + 7 + 11 + 21 + 19,
        signatories=("张三", "李四"),
        pictures=1,
        videos=0,
    )


@pytest.mark.office
def test_libreoffice_text_with_formatting_only_in_styles(
    libreoffice_documents: dict[str, bytes],
) -> None:
    facts = read_docx_facts(libreoffice_documents["fodt"], FILENAME)

    assert facts.paragraphs == (
        ParagraphFacts(
            index=0,
            text="基于2021年质量监测结果的改进案例",
            role="title",
            east_asia_fonts=("宋体",),
            latin_fonts=("Times New Roman",),
            sizes=(18.0,),
            bold=True,
        ),
        ParagraphFacts(
            index=1,
            text="作者：王五、赵六（双流区棠湖中学）",
            role="author",
            east_asia_fonts=("宋体",),
            latin_fonts=(),
            sizes=(12.0,),
            bold=False,
        ),
        ParagraphFacts(
            index=3,
            text="（一）问题描述",
            role="body",
            east_asia_fonts=("宋体",),
            latin_fonts=(),
            sizes=(12.0,),
            bold=False,
        ),
        ParagraphFacts(
            index=4,
            text="重点结论",
            role="body",
            east_asia_fonts=("黑体",),
            latin_fonts=(),
            sizes=(12.0,),
            bold=True,
        ),
        ParagraphFacts(
            index=5,
            text="附表：各年级PISA阅读得分",
            role="body",
            east_asia_fonts=("宋体",),
            latin_fonts=("Times New Roman",),
            sizes=(12.0,),
            bold=False,
        ),
    )
    assert facts.margins == (
        MARGINS_2_5,
        SectionMargins(top_cm=2.0, bottom_cm=2.0, left_cm=3.0, right_cm=3.17),
    )
    assert facts.signatories == ("王五", "赵六")
    assert facts.body_chars == 7 + 4 + 6 + 1 + 4  # 附表：各年级 PISA 阅读得分
    assert facts.total_chars == 15 + 17 + facts.body_chars
    assert (facts.pictures, facts.videos) == (0, 0)
