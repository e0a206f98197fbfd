"""Reading a school and a kind out of a file name such as "双流区实验小学改进案例（一）.docx".

Schools write names by hand, so the notice's "XX学校报告" arrives as "XX学校 报告.docx",
"XX学校-改进案例1.doc", "ＸＸ学校改进案例（二）.wps" and so on. Names are folded to one form
(NFKC turns full-width letters, digits and brackets into plain ones) before matching.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Endings a submitted document may have; anything else is not a document of a kind.
DOCUMENT_ENDINGS = (".docx", ".doc", ".wps", ".pdf", ".zip", ".rar", ".7z")
# Registration tables a county fills in and mails back; documents only in campaigns that
# ask for a table.
TABLE_ENDINGS = (".xlsx", ".xlsm", ".xls", ".csv", ".et")
# Pictures, video and sound back a report ("精选图片，若有必要可附交视频").
SUPPORTING_ENDINGS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".bmp",
    ".webp",
    ".heic",
    ".mp4",
    ".mov",
    ".avi",
    ".wmv",
    ".mkv",
    ".flv",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".mp3",
    ".m4a",
    ".wav",
)
_SEPARATORS = " \t-_—–·.,，、:：;；()[]【】<>《》\"'“”‘’"
_QUOTES = "\"'“”‘’《》「」"
_DIGITS = "一二三四五六七八九"
# A case number written right after the kind word: "1", "-2", "（一）", "(十二)". Not "（2021）",
# "（5.20修改）" or "（第二稿）", which are dates and drafts, not case numbers.
_SLOT = re.compile(r"^[-_—·.、(\[【]*(\d{1,2}(?![\d.])|[一二三四五六七八九十]{1,3})")
# What people put before the name: "Re:", "转发：", "【未受理】", "附件1：", "1.".
_NOISE = re.compile(
    r"^(?:(?:re|fw|fwd|回复|答复|转发)[:：]|【[^】]*】|\[[^\]]*\]|\([^)]{1,6}\)|附件\d*[:：.、-]?|\d{1,2}[.、:：-])",
    re.IGNORECASE,
)
# Where a school's name usually ends; used to cut off extra words such as
# "双流区实验小学解读和改进活动报告" → "双流区实验小学" when no roster says better.
_SCHOOL_END = re.compile(
    r".*(?:学校|小学|中学|初中部|初中|学部|分校|校区|附小|附中|实验校|[一二三四五六七八九十]中|幼儿园)"
)
# Education offices: a row naming one is the county's own (区域层面) entry, not a school's.
_OFFICE = re.compile(
    r"教育局|教体局|教育体育|教体文旅委|文旅委|委员会|教研室|教研院|教科院|教科所|教研所|教育科学研究"
    r"|教师发展中心|教育发展中心|教育质量监测|教育中心|社会事业局|管委会|人民政府"
)


@dataclass(frozen=True)
class NameMatch:
    """What a name says: the kind, the school as written, and a case number if any."""

    kind: str
    school: str
    slot: str  # "1", "2" … from "（一）", "1", "-2"; "1" when the name has no number


def fold(text: str) -> str:
    """One comparable form: NFKC (full-width to plain), no white space, no quotes around it."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded).strip(_QUOTES)


def stem_of(filename: str) -> str:
    """The file name without its ending and without the "附件1：" or "Re:" put before it."""
    return _without_noise(fold(split_ending(filename)[0]))


def split_ending(filename: str) -> tuple[str, str]:
    """("stem", ".ext") with the ending lower-cased; ("name", "") when there is none."""
    folded = unicodedata.normalize("NFKC", filename).strip()
    match = re.match(r"^(.*?)(\.[A-Za-z0-9]{1,5})$", folded)
    if not match:
        return folded, ""
    return match.group(1), match.group(2).lower()


def is_document(filename: str) -> bool:
    return split_ending(filename)[1] in DOCUMENT_ENDINGS


def is_supporting(filename: str) -> bool:
    return split_ending(filename)[1] in SUPPORTING_ENDINGS


def match_name(text: str, patterns: dict[str, str]) -> NameMatch | None:
    """Find which kind's pattern ("{school}报告") a name or subject follows.

    The kind word that comes first wins ("XX学校报告（附改进案例）" is a report); at the same
    place the longer word wins, so "改进案例" is not mistaken for a word it contains.
    """
    stem = _without_noise(
        fold(split_ending(text)[0] if is_document(text) or is_supporting(text) else text)
    )
    found = []
    for kind, pattern in patterns.items():
        word = fold(_kind_word(pattern))
        position = stem.find(word) if word else -1
        if position >= 0:
            found.append((position, -len(word), kind, pattern, word))
    if not found:
        return None
    position, _, kind, pattern, word = min(found)
    school = _school_part(stem[:position], pattern)
    return NameMatch(kind, school, _slot(stem[position + len(word) :]))


def _without_noise(stem: str) -> str:
    while (match := _NOISE.match(stem)) is not None and match.end() < len(stem):
        stem = stem[match.end() :].lstrip(_QUOTES + " -_—·.,，、:：;；")
    return stem


def _kind_word(pattern: str) -> str:
    return pattern.split("{school}", 1)[1]


def _school_part(before: str, pattern: str) -> str:
    prefix = fold(pattern.split("{school}", 1)[0])
    if prefix and before.startswith(prefix):
        before = before[len(prefix) :]
    before = before.strip(_SEPARATORS)
    match = _SCHOOL_END.match(before)
    return match.group(0) if match else before


def _slot(after: str) -> str:
    """The case number after the kind word; "1" when there is none (the first case)."""
    match = _SLOT.match(after)
    if not match:
        return "1"
    number = match.group(1)
    return str(int(number)) if number.isdigit() else str(_chinese_number(number) or 1)


def _chinese_number(text: str) -> int:
    """一 … 九十九; 0 for anything else."""
    tens, _, units = text.rpartition("十")
    if "十" not in text:
        return _DIGITS.index(text) + 1 if len(text) == 1 else 0
    value = (_DIGITS.index(tens) + 1 if tens else 1) * 10
    return (
        value + (_DIGITS.index(units) + 1 if units else 0)
        if len(tens) <= 1 and len(units) <= 1
        else 0
    )


def title_key(text: str) -> str:
    """A title reduced to letters and digits, for matching "基于监测的 数学课堂改进。" with
    "基于监测的数学课堂改进": width, spacing and punctuation do not count."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).lower()


def keyword_position(text: str, keywords: tuple[str, ...]) -> int:
    """Where the first of the keywords appears in a name, or -1."""
    folded = fold(text)
    places = [folded.find(fold(word)) for word in keywords if word]
    found = [place for place in places if place >= 0]
    return min(found) if found else -1


def looks_like_office(name: str) -> bool:
    """True for "吴江区教育局" or "吴中区教师发展中心"."""
    return _OFFICE.search(fold(name)) is not None


def looks_like_school(name: str) -> bool:
    """True for "双流区实验小学", false for "教育质量综合评价结果解读和改进活动"."""
    return _SCHOOL_END.match(name) is not None


def expected_name(pattern: str, school: str) -> str:
    """The name the notice asks for, for replies: "双流区实验小学报告"."""
    return pattern.replace("{school}", school or "XX学校")
