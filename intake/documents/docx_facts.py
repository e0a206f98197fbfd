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
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.parser import parse_xml

# lxml elements: lxml ships without type information.
Element = Any

# "other": a paragraph in a table, a caption, an annex label before the title.
Role = Literal["title", "author", "body", "other"]

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
_TITLE_LINE_MAX = 40
# Words that end a unit's name on an author line ("双流区实验小学", "双流区教育科学研究院").
# A unit word counts only after at least one character of the unit's own name: "学校概况" is
# a heading, "实验学校" a unit.
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
# A district or county is a word of its own ("双流区 张三"); these words end in 区 but are not.
_NOT_DISTRICTS = ("社区", "小区", "园区", "片区", "山区", "景区", "误区", "盲区", "禁区", "雷区")
# A heading's words, never a unit's name: "以学生为中心", "基于…的小学…".
_NOT_UNIT_STARTS = ("以", "基于", "关于", "在", "对", "为", "让")
# Labels before the people they name ("作者：", "课题负责人：", "电话：").
_LABEL_WORDS = frozenset(
    {
        "作者",
        "第一作者",
        "第二作者",
        "第三作者",
        "通讯作者",
        "通信作者",
        "执笔",
        "执笔人",
        "撰稿",
        "撰稿人",
        "撰写",
        "撰写人",
        "主持",
        "主持人",
        "成员",
        "主要成员",
        "核心成员",
        "课题组成员",
        "研究成员",
        "参与人",
        "参与者",
        "负责人",
        "课题负责人",
        "项目负责人",
        "报告人",
        "申报人",
        "指导",
        "指导者",
        "指导教师",
        "指导老师",
        "联系人",
        "姓名",
        "单位",
        "工作单位",
        "学校",
        "地址",
        "通讯地址",
        "电话",
        "联系电话",
        "手机",
        "联系方式",
        "邮箱",
        "电子邮箱",
        "邮编",
    }
)
# A known label followed by a colon: the line names people ("作者：张三").
_LABEL = re.compile("(" + "|".join(sorted(_LABEL_WORDS, key=len, reverse=True)) + r")\s*:")
# Job titles: "校长", "张三校长" (张三), "语文教师", "教导主任" (no one).
_TITLES = (
    "校长",
    "主任",
    "书记",
    "老师",
    "教师",
    "组长",
    "干事",
    "园长",
    "院长",
    "所长",
    "局长",
    "主席",
    "教研员",
    "辅导员",
    "带头人",
)
# What goes before a job title without being a name: "语文教师", "教导主任", "骨干教师".
_TITLE_QUALIFIERS = frozenset(
    {
        *("语文", "数学", "英语", "外语", "物理", "化学", "生物", "历史", "地理", "政治"),
        *("道法", "道德与法治", "思品", "品德", "科学", "音乐", "美术", "体育", "健康"),
        *("体育与健康", "信息", "信息技术", "综合实践", "劳动", "书法", "舞蹈", "心理"),
        *("心理健康", "幼儿", "学前", "特教", "科任", "任课", "代课", "专任", "专职", "兼职"),
        *("实习", "见习", "特岗", "支教", "交流", "骨干", "优秀", "青年", "资深", "首席"),
        *("执行", "常务", "名誉", "学科", "班", "年级", "备课", "教研", "教导", "教务"),
        *("德育", "政教", "总务", "后勤", "安全", "卫生", "保健", "工会", "团委", "少先队"),
        *("大队", "中队", "党支部", "党总支", "支部", "校办", "研训", "科研", "教科"),
        *("电教", "图书", "实验", "年级组", "教研组", "备课组", "课题组"),
        *("特级", "高级", "正高级", "副高级", "中级", "初级", "一级", "二级", "三级"),
    }
)
_QUALIFIERS_LONGEST_FIRST = tuple(sorted(_TITLE_QUALIFIERS, key=len, reverse=True))
# Common Chinese surnames: a name glued to a unit's name ("双流区实验小学张三") or alone on a
# line below it must start with one, so "以双流区实验小学为例" and "实践" are not names.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史"
    "陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷"
    "詹申欧耿兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳"
    "柴蒙鲍华喻祁蒲滕屈饶牟艾尤阳穆农卓古吉缪简车褚娄窦戚岑宫卜冷晏席卫米柏宗瞿桂佟臧闵"
    "苟邬卞姬仇栾隋刁荣巫寇桑郎甄丛仲虞敖巩佘池苑迟邝匡鞠荆冀郁胥储栗燕楚鄢谌奚粟冼蔺"
    "阚帅屠朴廉禹漆卿狄晋扈晁芮邸雍辜裘亓邰赫杭逯茹嵇湛檀昝"
)
# A department or a class: "教导处", "教科室", "课题组", "德育科", "三年级", "五年级二班".
_DEPARTMENT = re.compile(
    r"(.[处室组部办]|中心|[务育研训教学政卫]科|年级|[一二三四五六七八九十\d]班)$"
)
_HEADING_NUMBER = re.compile(
    r"^(第[一二三四五六七八九十百\d]+[章节部分条]|[一二三四五六七八九十]+[、.．]|"
    r"[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．]|[①-⑳])"
)
_SUBTITLE = re.compile(r"^(——|—|－－|--)")
# "附件2", "附件 1：", "附件二" alone on a line before the title (checked after NFKC).
_ANNEX = re.compile(r"附件\s*[\d一二三四五六七八九十]*\s*:?")
# "图1 …", "表 2 …", "图1-2 …" (checked after NFKC).
_CAPTION_TEXT = re.compile(r"[图表]\s*\d")
_CAPTION_STYLE_WORDS = ("caption", "题注")
_BRACKETED = re.compile(r"[(\[【〔][^)\]】〕]*[)\]】〕]")
# One token of an author line and whether a colon follows it (the line is NFKC-normalised).
_TOKEN = re.compile(r"([^\s,;、:/|]+)\s*(:)?")
_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
# Two single characters spaced apart are one two-character name padded to line up: "张　三".
_PADDED_NAME = re.compile(
    r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]) +([\u4e00-\u9fff])(?![\u4e00-\u9fff])"
)
_NOT_NAMES = frozenset({"等", "等人"})
# Words of a section heading, never of a person's name ("摘要", "问题提出", "实施过程").
_TOPIC_WORDS = (
    "摘要",
    "前言",
    "引言",
    "序言",
    "目录",
    "关键",
    "正文",
    "概述",
    "概况",
    "简介",
    "结语",
    "结束语",
    "总结",
    "小结",
    "附件",
    "附录",
    "参考",
    "背景",
    "问题",
    "分析",
    "措施",
    "成效",
    "反思",
    "经验",
    "不足",
    "打算",
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
    "启示",
    "体会",
    "建议",
    "对策",
    "特色",
    "亮点",
    "困惑",
    "后记",
    "致谢",
    "说明",
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
    `role` is "title", "author" (a unit and author line), "body", or "other" for text that is
    none of these: paragraphs in tables, captions, an annex label before the title (see
    _roles); format rules on the body's size leave "other" paragraphs alone.
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
    `body_chars` is Word's 字数 (see word_count) over the paragraphs that are neither the title
    nor an author line (role "body" or "other": tables and captions count, as in Word),
    `total_chars` over all paragraphs. `signatories` are the people named on the
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
    body_chars = sum(word_count(p.text) for p in paragraphs if p.role in ("body", "other"))
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

    Bracketed parts are removed ("（双流区棠湖中学）"), a two-character name padded to three
    ("张　三") is joined again, and each line is split on spaces (also U+3000), 、，,；;: into
    tokens. A unit's name is cut from every token that holds one (up to and including its
    last unit word such as 小学, 中学, 学校, 研究院, 中心, 幼儿园: "双流区棠湖中学 张三
    双流区实验小学 李四" → 张三, 李四), as are districts ("双流区"). Not people: a word before
    a colon ("作者：", "主持人：", "电话："), labels without one ("课题负责人", "执笔"),
    job titles ("校长", "副校长", "教导主任", "语文教师", "班主任", "骨干教师"), departments
    and classes ("教导处", "教科室", "课题组", "三年级二班"), phone numbers, e-mail addresses and
    dates, "等". A title glued to a name is cut off ("张三校长", "校长张三" → 张三), and a
    token of two names joined by 和/与 is split. What remains of 2–4 Chinese characters is a
    name, unless it is a heading's word ("背景", "不足") or a place ("成都市").
    "双流区实验小学 校长 张三 教导主任 李四" → ("张三", "李四").
    """
    lines = (author_lines,) if isinstance(author_lines, str) else author_lines
    names: dict[str, None] = {}
    for line in lines:
        for name in _parse_line(line).names:
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
        self._names: dict[str, str] = {}
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
            name = style.find(f"{_W}name")
            self._names[style_id] = "" if name is None else name.get(f"{_W}val") or ""
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

    def is_caption(self, paragraph: Element) -> bool:
        """Whether the paragraph's style, or a style it is based on, is a caption style:
        an id or name containing "caption" (Word's built-in 题注 style) or "题注"."""
        style = paragraph.find(f"{_W}pPr/{_W}pStyle")
        current = None if style is None else style.get(f"{_W}val")
        seen: set[str] = set()
        while current and current not in seen:
            seen.add(current)
            words = f"{current} {self._names.get(current, '')}".lower()
            if any(word in words for word in _CAPTION_STYLE_WORDS):
                return True
            current = self._based_on.get(current)
        return False

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
    # In a table cell, or a caption: never the title, an author line or body text.
    aside: bool


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
            aside = _in_table(element) or styles.is_caption(element) or _is_caption_text(text)
            paragraphs.append(_Paragraph(index, text, runs, aside))
        index += 1
    facts = [_facts(p) for p in paragraphs]
    roles = _roles(facts, [p.aside for p in paragraphs])
    return tuple(replace(p, role=role) for p, role in zip(facts, roles, strict=True))


def _in_table(paragraph: Element) -> bool:
    return any(ancestor.tag == f"{_W}tc" for ancestor in paragraph.iterancestors())


def _is_caption_text(text: str) -> bool:
    return _CAPTION_TEXT.match(unicodedata.normalize("NFKC", text).strip()) is not None


def _facts(paragraph: _Paragraph) -> ParagraphFacts:
    """The paragraph's facts, with the role "body" until _roles decides."""
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
        role="body",
        east_asia_fonts=tuple(sorted(east_asia)),
        latin_fonts=tuple(sorted(latin)),
        sizes=tuple(sorted(sizes)),
        bold=bool(visible) and all(style.bold for _, style in visible),
    )


def _roles(paragraphs: Sequence[ParagraphFacts], asides: Sequence[bool]) -> list[Role]:
    """Title, author lines, body or other — for the non-empty paragraphs.

    Paragraphs in tables and captions (a caption style, or text starting "图1", "表 2") are
    "other": they take no part in finding the title and author lines, and the body's size
    is not theirs. An annex label before the title ("附件2", "附件 1：", "附件二") is "other"
    too.

    The first remaining paragraph is the title, with any subtitle right after it that starts
    with a dash ("——以双流区实验小学为例") and a second line right after it that looks the
    same (same sizes and boldness, when most later paragraphs look different) and is short
    (≤ 40 characters), not a sentence, not a numbered heading and not an author line. Up to
    three following paragraphs are author lines (see _author_line). The first paragraph that
    is none of these starts the body.
    """
    roles: list[Role] = ["other" if aside else "body" for aside in asides]
    order = [position for position, aside in enumerate(asides) if not aside]
    while order and _ANNEX.fullmatch(
        unicodedata.normalize("NFKC", paragraphs[order[0]].text).strip()
    ):
        roles[order.pop(0)] = "other"
    if not order:
        return roles
    title = paragraphs[order[0]]
    roles[order[0]] = "title"
    stage = "title"
    authors = 0
    after_unit = False
    for step, position in enumerate(order[1:], start=1):
        paragraph = paragraphs[position]
        text = paragraph.text.strip()
        if stage == "title" and _SUBTITLE.match(text):
            roles[position] = "title"
            continue
        if stage != "body" and authors < _AUTHOR_LINES_MAX:
            unit = _author_line(text, after_unit=after_unit)
            if unit is not None:
                roles[position] = "author"
                stage = "author"
                authors += 1
                after_unit = unit
                continue
        later = (paragraphs[p] for p in order[step + 1 :])
        if step == 1 and _continues_title(text, paragraph, title, later):
            roles[position] = "title"
            continue
        stage = "body"
    return roles


def _look(paragraph: ParagraphFacts) -> tuple[tuple[float, ...], bool]:
    return paragraph.sizes, paragraph.bold


def _continues_title(
    text: str, paragraph: ParagraphFacts, title: ParagraphFacts, later: Iterable[ParagraphFacts]
) -> bool:
    """A title's second line: the title's look, where the title looks unlike most of the
    paragraphs after it (in a document all in one look, the next line is the body's)."""
    looks = Counter(_look(other) for other in later).most_common(1)
    return (
        _look(paragraph) == _look(title)
        and len(text) <= _TITLE_LINE_MAX
        and not text.endswith(_SENTENCE_ENDS)
        and not _HEADING_NUMBER.match(text)
        and bool(looks)
        and looks[0][0] != _look(title)
    )


def _author_line(text: str, *, after_unit: bool) -> bool | None:
    """None when `text` is not an author line, else whether it names a unit.

    An author line is short (≤ 40 characters), does not end a sentence (。！？；), is not a
    numbered heading, and names a unit (a unit word such as 小学, 学校, 研究院 ending a
    unit's name, or a district "双流区"), carries a label (作者：, 执笔人：, 课题负责人：…),
    or lists people: names, job titles, labels, contact details, at least two of them apart
    ("张三 李四", "校长 张三"). A single phrase alone on the line ("存在不足", "学校概况",
    "背景") is a heading; only right below a unit line is it a name, when it is one that
    starts with a common surname ("双流区棠湖中学" then "张三").
    """
    if len(text) > _AUTHOR_LINE_MAX or text.endswith(_SENTENCE_ENDS):
        return None
    if _HEADING_NUMBER.match(text):
        return None
    line = _parse_line(text)
    if line.unit:
        return True
    if line.labelled:
        return False
    if not line.people or not line.names:
        return None
    if line.tokens > 1:
        return False
    if after_unit and all(_is_lone_name(name) for name in line.names):
        return False
    return None


@dataclass(frozen=True)
class _Line:
    """What one author line holds."""

    names: list[str]
    unit: bool  # a token names a unit or a district
    labelled: bool  # a known label with a colon: "作者："
    people: bool  # every token is a unit, a name, a label, a job title, a contact detail…
    tokens: int


def _parse_line(line: str) -> _Line:
    """The people on one line: units' names, labels, titles and contact details left out."""
    text = unicodedata.normalize("NFKC", line)
    bracketed = [match.group()[1:-1] for match in _BRACKETED.finditer(text)]
    unit = any(
        _unit_token(match.group(1)) is not None
        for part in bracketed
        for match in _TOKEN.finditer(part)
    )
    text = _BRACKETED.sub(" ", text)
    labelled = _LABEL.search(text) is not None
    text = _PADDED_NAME.sub(r"\1\2", text)
    names: list[str] = []
    people = True
    tokens = 0
    for match in _TOKEN.finditer(text):
        token, colon = match.group(1), match.group(2)
        tokens += 1
        found = _unit_token(token)
        if found is not None:
            unit = True
        elif colon:
            # "主持人：", "申报人：": a label, unless it is a heading's ("问题：", "关键词：").
            if token not in _LABEL_WORDS and any(word in token for word in _TOPIC_WORDS):
                people = False
            continue
        else:
            found = _people(token)
        if found is None:
            people = False
        else:
            names.extend(found)
    return _Line(names, unit, labelled, people, tokens)


def _unit_token(token: str) -> list[str] | None:
    """For a token naming a unit, the people after its name (none, "张三", "教导处" → []).

    None when the token names no unit: no unit word after the unit's own name ("学校概况"),
    nor a district, or something else follows it ("双流区实验小学的做法").
    """
    if _is_district(token):
        return []
    if token.startswith(_NOT_UNIT_STARTS):
        return None
    ends = [token.rfind(word) + len(word) for word in _UNIT_WORDS if token.rfind(word) >= 1]
    if not ends:
        return None
    rest = token[max(ends) :]
    if not rest:
        return []
    found = _people(rest)
    if found is None or not all(_starts_with_surname(name) for name in found):
        return None
    return found


def _is_district(token: str) -> bool:
    return (
        len(token) >= 3
        and token.endswith(("区", "县"))
        and _CJK.fullmatch(token) is not None
        and not token.endswith(_NOT_DISTRICTS)
    )


def _people(token: str) -> list[str] | None:
    """The names one token holds ([] for "等", a label, a title, a department, a phone number),
    or None when it is not about people at all."""
    if (
        token in _NOT_NAMES
        or token in _LABEL_WORDS
        or token in _TITLE_QUALIFIERS
        or _DEPARTMENT.search(token)
        or _is_contact(token)
    ):
        return []
    for suffix in ("等人", "等"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            token = token[: -len(suffix)]
            break
    holder = _title_holder(token)
    if holder is not None:
        return [holder] if holder else []
    # A title or label glued before the name: "校长张三", "执笔人李四".
    for cut in range(len(token) - 2, 1, -1):
        head, tail = token[:cut], token[cut:]
        if (head in _LABEL_WORDS or _title_holder(head) == "") and _is_name(tail):
            return [tail]
    if _is_name(token):
        return [token]
    if len(token) > 4:
        # "张三和李四": split at a 和/与 that leaves a name on both sides.
        for position, char in enumerate(token):
            if char in "和与" and _is_name(token[:position]):
                rest = _people(token[position + 1 :])
                if rest:
                    return [token[:position], *rest]
    return None


def _is_contact(token: str) -> bool:
    """A phone number, an e-mail address, a date: digits, Latin letters or "@"."""
    return any(
        char.isdigit() or (char.isascii() and char.isalpha()) or char == "@" for char in token
    )


def _title_holder(token: str) -> str | None:
    """For a token ending in a job title, the name before it ("张三校长" → "张三"), or "" for a
    title alone ("校长", "副校长", "语文教师", "三年级语文教师", "教科室主任"); None when
    the token does not end in a job title."""
    title = next((title for title in _TITLES if token.endswith(title)), None)
    if title is None:
        return None
    head = token[: -len(title)].removesuffix("副")
    while qualifier := next((q for q in _QUALIFIERS_LONGEST_FIRST if head.endswith(q)), ""):
        head = head[: -len(qualifier)]
    return head if _is_name(head) else ""


def _is_name(token: str) -> bool:
    return (
        _NAME.fullmatch(token) is not None
        and token not in _NOT_NAMES
        and token not in _LABEL_WORDS
        and token not in _TITLE_QUALIFIERS
        and not token.endswith(("区", "县", "市", "省", "局", "族"))
        and not token.endswith(_TITLES)
        and _DEPARTMENT.search(token) is None
        and not any(word in token for word in _TOPIC_WORDS)
        and not any(word in token for word in _UNIT_WORDS)
    )


def _is_lone_name(name: str) -> bool:
    """A phrase alone on a line that is a person's name: 2–3 characters, a common surname."""
    return len(name) <= 3 and _starts_with_surname(name)


def _starts_with_surname(name: str) -> bool:
    return name[:1] in _SURNAMES


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
