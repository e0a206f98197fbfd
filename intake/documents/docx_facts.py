"""The format facts of a Word document (.docx), as an organizer checking it by eye sees them.

A school's .docx rarely states its fonts on the text itself: Word, WPS and LibreOffice record
`w:eastAsia="宋体"` on the run, in its character or paragraph style, in the Normal style, in the
document defaults, or only as a theme font (`w:eastAsiaTheme="minorEastAsia"`, resolved from
word/theme/theme1.xml). python-docx's `font.name` reads only `w:ascii`, so every run is
resolved here in Word's order:

1. the run's own properties (`w:rPr`);
2. its character style (`w:rStyle`) and that style's `w:basedOn` chain;
3. its paragraph's style (`w:pStyle`, else the default paragraph style) and its chain;
4. the document defaults (`w:docDefaults/w:rPrDefault`).

Each property (East Asian font, Latin font, size, bold) is taken from the first level that
states it. A theme reference (`w:eastAsiaTheme`, `w:asciiTheme`) wins over the plain name at
the same level, as in Word; the theme's `a:ea` typeface is used, or its `a:font script="Hans"`
entry when `a:ea` is empty (Word's choice for a document in simplified Chinese). Table styles
and numbering formats are not applied, and toggle properties (bold) are not XOR-ed between the
paragraph and character style hierarchies: the first level that states bold decides.

Font names are normalised to the Chinese names Chinese Word shows ("SimSun" → "宋体",
"仿宋_GB2312" → "仿宋", …); other names are kept as written. A level that names no font leaves
the property to the next; when no level names one, the font is "" and such runs are left out
of a paragraph's font lists (Chinese Word then shows its own default, 宋体).

Which font a reader sees depends on the characters: Chinese text is drawn in the East Asian
font, digits and Latin letters in the Latin font. LibreOffice splits "我校2021年" into runs by
script and names only the font that script uses (`w:eastAsia` on "我校", `w:ascii` on "2021"),
so a paragraph's `east_asia_fonts` lists the East Asian font of runs that hold East Asian
characters, and `latin_fonts` the Latin font of runs that hold other visible characters.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.parser import parse_xml

# lxml elements: lxml ships without type information.
Element = Any

Role = Literal["title", "author", "body"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_PIC = "{http://schemas.openxmlformats.org/drawingml/2006/picture}"
_V = "{urn:schemas-microsoft-com:vml}"
_O = "{urn:schemas-microsoft-com:office:office}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_WP15 = "{http://schemas.microsoft.com/office/word/2012/wordprocessingDrawing}"

_ZIP_MAGIC = b"PK\x03\x04"
# Legacy .doc/.wps files and password-protected .docx files are OLE2 compound files.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# Streams of an encrypted OOXML package; names in a compound file are UTF-16LE.
_ENCRYPTION_MARKERS = tuple(
    name.encode(encoding)
    for name in ("EncryptedPackage", "EncryptionInfo")
    for encoding in ("utf-16-le", "ascii")
)
_RESAVE = "请用 Word 或 WPS 另存为 .docx 后重新发送"

# Word's "twentieths of a point" and the universal measures a strict file may use instead.
_TWIPS_PER_CM = 1440 / 2.54
_UNIT_TWIPS = {"cm": _TWIPS_PER_CM, "mm": _TWIPS_PER_CM / 10, "in": 1440.0, "pt": 20.0}
_UNIT_TWIPS |= {"pc": 240.0, "pi": 240.0}

_FONT_NAMES = {
    "simsun": "宋体",
    "nsimsun": "新宋体",
    "simhei": "黑体",
    "kaiti": "楷体",
    "kaiti_gb2312": "楷体",
    "楷体_gb2312": "楷体",
    "fangsong": "仿宋",
    "fangsong_gb2312": "仿宋",
    "仿宋_gb2312": "仿宋",
    "microsoft yahei": "微软雅黑",
}

_SENTENCE_ENDS = tuple("。！？；.!?;")
_AUTHOR_LINE_MAX = 40
_AUTHOR_LINES_MAX = 3
# Words that end a unit's name on an author line ("双流区实验小学", "双流区教育科学研究院").
_UNIT_WORDS = (
    "学校",
    "小学",
    "中学",
    "大学",
    "学院",
    "分校",
    "附小",
    "附中",
    "幼儿园",
    "教育局",
    "研究院",
    "研究所",
    "研究室",
    "教研室",
    "教科所",
    "中心",
)
# A district or county ends a word: "双流区 张三", not "区域背景".
_DISTRICT = re.compile(r"[\u4e00-\u9fff][区县](?=$|[\s,，、;；:：(（])")
_LABEL = re.compile(
    r"(课题组成员|执笔人|执笔|撰稿人|撰稿|撰写人|撰写|作者|单位|成员|负责人|报告人|"
    r"指导教师|指导老师)\s*:"
)
_HEADING_NUMBER = re.compile(
    r"^(第[一二三四五六七八九十百\d]+[章节部分条]|[一二三四五六七八九十]+[、.．]|"
    r"[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．]|[①-⑳])"
)
_SUBTITLE = re.compile(r"^(——|—|－－|--)")
_BRACKETED = re.compile(r"[(\[【〔][^)\]】〕]*[)\]】〕]")
_NAME_SEPARATORS = re.compile(r"[\s,;、:/|]+")
_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
# Two single characters spaced apart are one two-character name padded to line up: "张　三".
_PADDED_NAME = re.compile(
    r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]) +([\u4e00-\u9fff])(?![\u4e00-\u9fff])"
)
_NOT_NAMES = frozenset({"执笔", "执笔人", "作者", "等", "等人", "单位", "成员", "撰稿", "撰写"})
_TITLES_AFTER_NAME = ("副校长", "校长", "副主任", "主任", "书记", "老师", "教师", "组长")
# Words of a section heading, never of a person's name ("摘要", "问题提出", "实施过程").
_TOPIC_WORDS = (
    "摘要",
    "前言",
    "引言",
    "目录",
    "关键",
    "正文",
    "概述",
    "结语",
    "总结",
    "附件",
    "附录",
    "参考",
    "背景",
    "问题",
    "分析",
    "措施",
    "成效",
    "反思",
    "结果",
    "现状",
    "目标",
    "思路",
    "做法",
    "策略",
    "内容",
    "方法",
    "实施",
    "过程",
    "效果",
    "成果",
    "展望",
    "案例",
    "报告",
    "评价",
    "改进",
    "数据",
    "解读",
    "结论",
)

# Characters Word counts one by one in 字数 (see word_count).
_EAST_ASIAN_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3001, 0x303F),  # CJK symbols and punctuation, without the ideographic space
    (0x3040, 0x30FF),  # kana
    (0x3100, 0x312F),  # bopomofo
    (0x3190, 0x33FF),  # kanbun, enclosed CJK, CJK compatibility
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF01, 0xFF60),  # full-width forms: ！ ， ： （ ） Ａ １ …
    (0xFFE0, 0xFFE6),  # full-width signs: ￥ ￡ …
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
# Punctuation of Chinese text that lies outside the CJK blocks: “ ” ‘ ’ — … ·
_EAST_ASIAN_PUNCTUATION = frozenset("\u201c\u201d\u2018\u2019\u2014\u2015\u2026\u00b7")
# Joins letters and digits into one word when between them: "3.5", "1,000", "e-mail".
_WORD_JOINERS = frozenset(".,'-_")

_VIDEO_EXTENSIONS = re.compile(
    rb"\.(mp4|m4v|avi|wmv|mov|mpg|mpeg|flv|mkv|3gp|rmvb|rm|webm|asf)\x00", re.IGNORECASE
)
_VIDEO_PARTNAME = re.compile(r"\.(mp4|m4v|avi|wmv|mov|mpg|mpeg|flv|mkv|3gp|webm|asf)$", re.I)


class DocumentError(Exception):
    """A file that cannot be read as a .docx; the message tells the sender what to do."""


@dataclass(frozen=True)
class RunStyle:
    """How one run is displayed: its effective East Asian and Latin font, size and boldness.

    A font is "" when no level names one; `size_pt` is None when no level states a size
    (Word then shows 10 pt).
    """

    east_asia: str
    latin: str
    size_pt: float | None
    bold: bool


@dataclass(frozen=True)
class ParagraphFacts:
    """One non-empty paragraph.

    `index` counts every paragraph of the body in document order from 0, empty ones included
    (paragraphs in tables and text boxes too), so gaps show where empty paragraphs were.
    Fonts and sizes are the distinct effective values over the runs that carry visible text,
    sorted; a size no level states is left out. `bold` is true when every such run is bold.
    """

    index: int
    text: str
    role: Role
    east_asia_fonts: tuple[str, ...]
    latin_fonts: tuple[str, ...]
    sizes: tuple[float, ...]
    bold: bool


@dataclass(frozen=True)
class SectionMargins:
    """A section's page margins in centimetres, rounded to 2 decimals (1417 twips → 2.5)."""

    top_cm: float
    bottom_cm: float
    left_cm: float
    right_cm: float


@dataclass(frozen=True)
class DocxFacts:
    """Everything an organizer checks by eye in a submitted .docx.

    Paragraphs are those of the document's body, in tables and text boxes included; headers,
    footers, footnotes and comments are not read. `margins` has one entry per section that
    states its margins, in document order.
    `body_chars` is Word's 字数 (see word_count) over the body paragraphs, `total_chars` over
    all paragraphs (title and author lines too). `signatories` are the people named on the
    author lines. `pictures` counts inline and floating images; `videos` counts embedded or
    linked videos and embedded objects that hold a video file.
    """

    paragraphs: tuple[ParagraphFacts, ...]
    margins: tuple[SectionMargins, ...]
    body_chars: int
    total_chars: int
    signatories: tuple[str, ...]
    pictures: int
    videos: int


def read_docx_facts(payload: bytes, filename: str = "") -> DocxFacts:
    """The format facts of a .docx; raises DocumentError for a file that is not one."""
    document = _open(payload, filename)
    part = document.part
    styles = _Styles(
        _related_element(part, RT.STYLES), _theme_fonts(_related_element(part, RT.THEME))
    )
    body = document.element.body
    paragraphs = _paragraph_facts(body, styles)
    body_chars = sum(word_count(p.text) for p in paragraphs if p.role == "body")
    authors = [p.text for p in paragraphs if p.role == "author"]
    return DocxFacts(
        paragraphs=paragraphs,
        margins=_margins(body),
        body_chars=body_chars,
        total_chars=sum(word_count(p.text) for p in paragraphs),
        signatories=signatories(authors),
        pictures=_pictures(body),
        videos=_videos(body, part),
    )


def word_count(text: str) -> int:
    """Word's 字数 (中文字符和朝鲜语单词 + 非中文单词) of `text`.

    - Every East Asian character counts one: CJK ideographs (all extensions), kana, Hangul
      syllables, full-width forms (，。！？：；（）、 full-width letters and digits, ￥),
      the CJK symbols and punctuation block (、。《》「」【】〔〕…, not the ideographic space
      U+3000), and the punctuation Chinese text borrows from general punctuation:
      “ ” ‘ ’ — ― … ·.
    - Every maximal run of other letters and digits (Latin, Greek, …) counts one word; "."
      "," "'" "-" "_" between two of them join the run ("3.5", "1,000", "e-mail" are one).
    - Spaces and other ASCII punctuation count nothing.

    "我校2021年PISA测试" is 我 校 2021 年 PISA 测 试 = 7.
    """
    count = 0
    in_word = False
    for position, char in enumerate(text):
        if _is_east_asian(char):
            count += 1
            in_word = False
        elif char.isalnum():
            if not in_word:
                count += 1
                in_word = True
        elif in_word and char in _WORD_JOINERS and _word_continues(text, position + 1):
            continue
        else:
            in_word = False
    return count


def signatories(author_lines: Iterable[str]) -> tuple[str, ...]:
    """The people named on the author line(s), in order, each once.

    From each line: bracketed parts are removed ("（双流区棠湖中学）"), then the unit's name
    (everything up to and including the last unit word such as 小学, 中学, 学校, 研究院,
    中心, 幼儿园) and labels such as "作者：", "执笔人：", "单位：". The rest is split on
    spaces (also U+3000), 、，,；; and on 和/与 between two names; a two-character name padded
    to three ("张　三") is joined again. Tokens of 2–4 Chinese characters are names; "等",
    "执笔人" and the like, titles after a name ("张三校长" → 张三) and districts ("双流区")
    are not. "双流区实验小学  张三 李四、王五" → ("张三", "李四", "王五").
    """
    lines = (author_lines,) if isinstance(author_lines, str) else author_lines
    names: dict[str, None] = {}
    for line in lines:
        for name in _line_names(line, drop_unit=True)[0]:
            names.setdefault(name, None)
    return tuple(names)


# ---------------------------------------------------------------------- opening


def _open(payload: bytes, filename: str) -> Any:
    name = f"文件“{filename}”" if filename else "该文件"
    if not payload:
        raise DocumentError(f"{name}是空的（0 字节），请检查附件后重新发送")
    if payload.startswith(_OLE_MAGIC):
        if any(marker in payload for marker in _ENCRYPTION_MARKERS):
            raise DocumentError(f"{name}设置了打开密码，无法读取，请取消密码后重新发送")
        raise DocumentError(
            f"{name}是旧版 Word 文档（.doc）或 WPS 文档，只是扩展名为 .docx，{_RESAVE}"
        )
    not_word = f"{name}不是有效的 Word 文档（.docx），可能已损坏或只是改了扩展名，{_RESAVE}"
    if not payload.startswith(_ZIP_MAGIC):
        raise DocumentError(not_word)
    damaged = (
        f"{name}已损坏或不完整（可能没有下载或发送完整），无法打开，"
        f"请用 Word 或 WPS 打开检查，另存为 .docx 后重新发送"
    )
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise DocumentError(damaged) from exc
    if "[Content_Types].xml" not in members or not any(m.startswith("word/") for m in members):
        raise DocumentError(not_word)
    try:
        return docx.Document(io.BytesIO(payload))
    except ValueError as exc:
        # python-docx: "file … is not a Word file, content type is …" (a workbook, a template).
        if "not a Word file" in str(exc):
            raise DocumentError(not_word) from exc
        raise DocumentError(damaged) from exc
    except Exception as exc:
        # A damaged package fails with whatever the reader hit: BadZipFile (CRC), zlib.error,
        # KeyError (a missing part), XMLSyntaxError… To the sender it is all one thing.
        raise DocumentError(damaged) from exc


def _related_element(part: Any, reltype: str) -> Element | None:
    """The XML of the part `part` relates to by `reltype`, or None (never a made-up default)."""
    for rel in part.rels.values():
        if rel.reltype == reltype and not rel.is_external:
            target = rel.target_part
            element = getattr(target, "element", None)
            return element if element is not None else parse_xml(target.blob)
    return None


# ---------------------------------------------------------------------- styles


@dataclass(frozen=True)
class _Layer:
    """What one level (a run, a style, the defaults) states; None where it says nothing."""

    east_asia: str | None = None
    latin: str | None = None
    size_pt: float | None = None
    bold: bool | None = None


def _theme_fonts(theme: Element | None) -> dict[str, str]:
    """Theme font names by w:…Theme value: "minorEastAsia" → "宋体", "minorHAnsi" → …"""
    fonts: dict[str, str] = {}
    if theme is None:
        return fonts
    for kind in ("major", "minor"):
        scheme = next(theme.iter(f"{_A}{kind}Font"), None)
        if scheme is None:
            continue
        latin = _typeface(scheme.find(f"{_A}latin"))
        east_asia = _typeface(scheme.find(f"{_A}ea"))
        if not east_asia:
            hans = [f for f in scheme.iterfind(f"{_A}font") if f.get("script") == "Hans"]
            east_asia = _typeface(hans[0]) if hans else ""
        complex_script = _typeface(scheme.find(f"{_A}cs"))
        for key, value in (
            ("Ascii", latin),
            ("HAnsi", latin),
            ("EastAsia", east_asia),
            ("Bidi", complex_script),
        ):
            if value:
                fonts[f"{kind}{key}"] = value
    return fonts


def _typeface(element: Element | None) -> str:
    return "" if element is None else (element.get("typeface") or "").strip()


class _Styles:
    """The styles part and theme of one document, resolving runs to what Word displays."""

    def __init__(self, styles: Element | None, theme_fonts: dict[str, str]) -> None:
        self._theme = theme_fonts
        self._properties: dict[str, Element | None] = {}
        self._based_on: dict[str, str] = {}
        self._chains: dict[str, tuple[_Layer, ...]] = {}
        self.default_paragraph_style: str | None = None
        self.defaults = _Layer()
        if styles is None:
            return
        for style in styles.iterfind(f"{_W}style"):
            style_id = style.get(f"{_W}styleId")
            if not style_id:
                continue
            self._properties[style_id] = style.find(f"{_W}rPr")
            based_on = style.find(f"{_W}basedOn")
            if based_on is not None and based_on.get(f"{_W}val"):
                self._based_on[style_id] = based_on.get(f"{_W}val")
            if (
                style.get(f"{_W}type") == "paragraph"
                and _on(style.get(f"{_W}default"), missing=False)
                and self.default_paragraph_style is None
            ):
                self.default_paragraph_style = style_id
        defaults = styles.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr")
        self.defaults = self.layer(defaults)

    def paragraph_style(self, paragraph: Element) -> str | None:
        style = paragraph.find(f"{_W}pPr/{_W}pStyle")
        style_id = None if style is None else style.get(f"{_W}val")
        if style_id in self._properties:
            return str(style_id)
        return self.default_paragraph_style

    def run_style(self, run: Element, paragraph_style: str | None) -> RunStyle:
        properties = run.find(f"{_W}rPr")
        layers = [self.layer(properties)]
        if properties is not None:
            character_style = properties.find(f"{_W}rStyle")
            if character_style is not None:
                layers.extend(self.chain(character_style.get(f"{_W}val")))
        layers.extend(self.chain(paragraph_style))
        layers.append(self.defaults)
        east_asia = next((x.east_asia for x in layers if x.east_asia is not None), "")
        latin = next((x.latin for x in layers if x.latin is not None), "")
        size = next((x.size_pt for x in layers if x.size_pt is not None), None)
        bold = next((x.bold for x in layers if x.bold is not None), False)
        return RunStyle(east_asia=east_asia, latin=latin, size_pt=size, bold=bold)

    def chain(self, style_id: str | None) -> tuple[_Layer, ...]:
        """The layers of a style and its basedOn ancestors, nearest first."""
        if not style_id or style_id not in self._properties:
            return ()
        cached = self._chains.get(style_id)
        if cached is not None:
            return cached
        layers: list[_Layer] = []
        seen: set[str] = set()
        current: str | None = style_id
        while current is not None and current in self._properties and current not in seen:
            seen.add(current)
            layers.append(self.layer(self._properties[current]))
            current = self._based_on.get(current)
        self._chains[style_id] = tuple(layers)
        return self._chains[style_id]

    def layer(self, properties: Element | None) -> _Layer:
        if properties is None:
            return _Layer()
        fonts = properties.find(f"{_W}rFonts")
        size = properties.find(f"{_W}sz")
        bold = properties.find(f"{_W}b")
        return _Layer(
            east_asia=self._font(fonts, "eastAsiaTheme", "eastAsia"),
            latin=self._font(fonts, "asciiTheme", "ascii"),
            size_pt=None if size is None else _half_points(size.get(f"{_W}val")),
            bold=None if bold is None else _on(bold.get(f"{_W}val")),
        )

    def _font(self, fonts: Element | None, theme_attribute: str, attribute: str) -> str | None:
        if fonts is None:
            return None
        theme = fonts.get(f"{_W}{theme_attribute}")
        name = self._theme.get(theme) if theme else None
        name = name or (fonts.get(f"{_W}{attribute}") or "").strip()
        return _font_name(name) if name else None


def _font_name(name: str) -> str:
    """The name Chinese Word shows for a font: "SimSun" → "宋体"."""
    name = name.strip()
    return _FONT_NAMES.get(name.lower(), name)


def _on(value: str | None, *, missing: bool = True) -> bool:
    """An ST_OnOff value; an element without w:val is on."""
    if value is None:
        return missing
    return value.strip().lower() not in {"0", "false", "off"}


def _half_points(value: str | None) -> float | None:
    """A w:sz value in points: "36" half-points → 18.0 (a strict file may write "18pt")."""
    number, unit = _measure(value)
    if number is None:
        return None
    return number / 2 if unit is None else number * _UNIT_TWIPS[unit] / 20


def _twips(value: str | None) -> float | None:
    """A w:pgMar value in twips: "1417" (a strict file may write "2.5cm")."""
    number, unit = _measure(value)
    if number is None:
        return None
    return number if unit is None else number * _UNIT_TWIPS[unit]


def _measure(value: str | None) -> tuple[float | None, str | None]:
    """A plain number (unit None) or a universal measure such as "2.5cm"."""
    match = re.fullmatch(r"\s*(-?[0-9]*\.?[0-9]+)\s*(cm|mm|in|pt|pc|pi)?\s*", value or "")
    if match is None:
        return None, None
    return float(match.group(1)), match.group(2)


# ---------------------------------------------------------------------- paragraphs


def _walk(root: Element) -> Iterator[Element]:
    """Elements under `root` in document order, without mc:AlternateContent fallback copies."""
    stack = [root]
    while stack:
        element = stack.pop()
        yield element
        children = [
            child
            for child in element
            if isinstance(child.tag, str) and child.tag != f"{_MC}Fallback"
        ]
        stack.extend(reversed(children))


def _runs(paragraph: Element) -> Iterator[Element]:
    """The runs of one paragraph, not of the paragraphs in its text boxes, nor deleted ones."""
    stack = list(reversed([c for c in paragraph if isinstance(c.tag, str)]))
    skipped = {f"{_W}p", f"{_W}del", f"{_W}moveFrom", f"{_MC}Fallback", f"{_W}pPr"}
    while stack:
        element = stack.pop()
        if element.tag == f"{_W}r":
            yield element
        elif element.tag not in skipped:
            stack.extend(reversed([c for c in element if isinstance(c.tag, str)]))


def _run_text(run: Element) -> str:
    parts = []
    for child in run:
        tag = child.tag
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag in (f"{_W}tab", f"{_W}ptab"):
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


@dataclass(frozen=True)
class _Paragraph:
    index: int
    text: str
    runs: tuple[tuple[str, RunStyle], ...]


def _paragraph_facts(body: Element, styles: _Styles) -> tuple[ParagraphFacts, ...]:
    paragraphs = []
    index = 0
    for element in _walk(body):
        if element.tag != f"{_W}p":
            continue
        paragraph_style = styles.paragraph_style(element)
        runs = tuple(
            (_run_text(run), styles.run_style(run, paragraph_style)) for run in _runs(element)
        )
        text = "".join(text for text, _ in runs)
        if text.strip():
            paragraphs.append(_Paragraph(index, text, runs))
        index += 1
    roles = _roles([p.text.strip() for p in paragraphs])
    return tuple(_facts(p, role) for p, role in zip(paragraphs, roles, strict=True))


def _facts(paragraph: _Paragraph, role: Role) -> ParagraphFacts:
    east_asia: set[str] = set()
    latin: set[str] = set()
    sizes: set[float] = set()
    visible = [(text, style) for text, style in paragraph.runs if text.strip()]
    for text, style in visible:
        if style.east_asia and any(_is_east_asian(c) for c in text):
            east_asia.add(style.east_asia)
        if style.latin and any(not c.isspace() and not _is_east_asian(c) for c in text):
            latin.add(style.latin)
        if style.size_pt is not None:
            sizes.add(style.size_pt)
    return ParagraphFacts(
        index=paragraph.index,
        text=paragraph.text,
        role=role,
        east_asia_fonts=tuple(sorted(east_asia)),
        latin_fonts=tuple(sorted(latin)),
        sizes=tuple(sorted(sizes)),
        bold=bool(visible) and all(style.bold for _, style in visible),
    )


def _roles(texts: list[str]) -> list[Role]:
    """Title, author lines, body — for the non-empty paragraphs' stripped texts.

    The first paragraph is the title, with any subtitle right after it that starts with a
    dash ("——以双流区实验小学为例"). Up to three following paragraphs are author lines when
    each is short (≤ 40 characters), does not end a sentence (。！？；), is not a numbered
    heading, and names a unit (学校, 小学, 中学, 学院, 教育局, 研究院, 中心, 幼儿园, a word
    ending in 区 or 县 …), carries a label (作者：, 执笔人：, 单位：…) or is a list of names
    (two or more; a single name only right after another author line). The first paragraph
    that is not such a line starts the body.
    """
    roles: list[Role] = []
    stage: Role = "title"
    authors = 0
    for position, text in enumerate(texts):
        if position == 0 or (stage == "title" and _SUBTITLE.match(text)):
            roles.append("title")
        elif stage != "body" and authors < _AUTHOR_LINES_MAX and _is_author_line(text, authors):
            stage = "author"
            authors += 1
            roles.append("author")
        else:
            stage = "body"
            roles.append("body")
    return roles


def _is_author_line(text: str, lines_before: int) -> bool:
    if len(text) > _AUTHOR_LINE_MAX or text.endswith(_SENTENCE_ENDS):
        return False
    if _HEADING_NUMBER.match(text):
        return False
    if any(word in text for word in _UNIT_WORDS) or _DISTRICT.search(text):
        return True
    names, labelled, only_names = _line_names(text, drop_unit=False)
    if labelled:
        return True
    return only_names and (len(names) >= 2 or (len(names) == 1 and lines_before > 0))


def _line_names(line: str, *, drop_unit: bool) -> tuple[list[str], bool, bool]:
    """The names on one line, whether it carried a label, and whether it holds only names."""
    text = unicodedata.normalize("NFKC", line)
    text = _BRACKETED.sub(" ", text)
    if drop_unit:
        ends = [text.rfind(word) + len(word) for word in _UNIT_WORDS if word in text]
        if ends:
            text = text[max(ends) :]
    text, labels = _LABEL.subn(" ", text)
    text = _PADDED_NAME.sub(r"\1\2", text)
    names: list[str] = []
    only_names = True
    for token in _NAME_SEPARATORS.split(text):
        if not token:
            continue
        found = _token_names(token)
        if found is None:
            only_names = False
        else:
            names.extend(found)
    return names, labels > 0, only_names and bool(names)


def _token_names(token: str) -> list[str] | None:
    """The names one token holds ([] for "等"), or None when it is not names at all."""
    if token in _NOT_NAMES:
        return []
    for suffix in ("等人", "等"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            token = token[: -len(suffix)]
            break
    for title in _TITLES_AFTER_NAME:
        if token.endswith(title) and len(token) - len(title) >= 2:
            token = token[: -len(title)]
            break
    if _is_name(token):
        return [token]
    if len(token) > 4:
        # "张三和李四": split at a 和/与 that leaves a name on both sides.
        for position, char in enumerate(token):
            if char in "和与" and _is_name(token[:position]):
                rest = _token_names(token[position + 1 :])
                if rest:
                    return [token[:position], *rest]
    return None


def _is_name(token: str) -> bool:
    return (
        _NAME.fullmatch(token) is not None
        and token not in _NOT_NAMES
        and not token.endswith(("区", "县", "市", "省", "局"))
        and not any(word in token for word in _TOPIC_WORDS)
        and not any(word in token for word in _UNIT_WORDS)
    )


def _is_east_asian(char: str) -> bool:
    if char in _EAST_ASIAN_PUNCTUATION:
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _EAST_ASIAN_RANGES)


def _word_continues(text: str, position: int) -> bool:
    return position < len(text) and text[position].isalnum() and not _is_east_asian(text[position])


# ---------------------------------------------------------------------- layout and media


def _margins(body: Element) -> tuple[SectionMargins, ...]:
    margins = []
    for element in _walk(body):
        if element.tag != f"{_W}sectPr" or element.getparent().tag == f"{_W}sectPrChange":
            continue
        page_margins = element.find(f"{_W}pgMar")
        if page_margins is None:
            continue
        values = [
            abs(_twips(page_margins.get(f"{_W}{side}")) or 0.0) / _TWIPS_PER_CM
            for side in ("top", "bottom", "left", "right")
        ]
        top, bottom, left, right = (round(value, 2) for value in values)
        margins.append(SectionMargins(top_cm=top, bottom_cm=bottom, left_cm=left, right_cm=right))
    return tuple(margins)


def _pictures(body: Element) -> int:
    """Images in the body: DrawingML pictures (pic:pic) and VML images (v:imagedata).

    The VML copy Word keeps for old readers (mc:Fallback) and the preview image of an
    embedded object (w:object) are not pictures of their own; a picture that plays a video
    counts as a video.
    """
    count = 0
    for element in _walk(body):
        if element.tag == f"{_PIC}pic":
            count += not _plays_video(element)
        elif element.tag == f"{_V}imagedata":
            count += not any(a.tag == f"{_W}object" for a in element.iterancestors())
    return count


def _plays_video(picture: Element) -> bool:
    return any(
        element.tag in (f"{_A}videoFile", f"{_WP15}webVideoPr") for element in picture.iter()
    )


def _videos(body: Element, part: Any) -> int:
    """Videos: pictures that play one, embedded objects holding a video file, video parts."""
    rels = part.rels
    counted: set[str] = set()
    count = 0
    for element in _walk(body):
        if element.tag == f"{_PIC}pic" and _plays_video(element):
            count += 1
            for marker in element.iter(f"{_A}videoFile"):
                for attribute in (f"{_R}link", f"{_R}embed"):
                    target = _internal_target(rels, marker.get(attribute))
                    if target is not None:
                        counted.add(str(target.partname))
        elif element.tag == f"{_O}OLEObject":
            target = _internal_target(rels, element.get(f"{_R}id"))
            if target is not None and _is_video_part(target):
                count += 1
                counted.add(str(target.partname))
    for other in part.package.iter_parts():
        if str(other.partname) not in counted and _is_video_part(other):
            count += 1
    return count


def _internal_target(rels: Any, rel_id: str | None) -> Any:
    rel = rels.get(rel_id) if rel_id else None
    return None if rel is None or rel.is_external else rel.target_part


def _is_video_part(part: Any) -> bool:
    content_type = str(part.content_type).lower()
    if content_type.startswith("video/") or _VIDEO_PARTNAME.search(str(part.partname)):
        return True
    # An object made from a file ("Package") stores the file's name: …\班会实录.mp4
    return "oleobject" in content_type and _VIDEO_EXTENSIONS.search(part.blob) is not None
