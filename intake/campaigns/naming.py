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
_NUMERALS = {
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
    "十": "10",
}
_SLOT = re.compile(r"(\d{1,2}|[一二三四五六七八九十])")
# Where a school's name usually ends; used to cut off extra words such as
# "双流区实验小学解读和改进活动报告" → "双流区实验小学" when no roster says better.
_SCHOOL_END = re.compile(r".*(?:学校|小学|中学|初中部|初中|学部|分校|校区|附小|附中|实验校)")


@dataclass(frozen=True)
class NameMatch:
    """What a name says: the kind, the school as written, and a case number if any."""

    kind: str
    school: str
    slot: str  # "1", "2" … from "（一）", "1", "-2"; "" when the name has no number


def fold(text: str) -> str:
    """One comparable form: NFKC, no white space, no quotes or brackets around the name."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", folded).strip(_SEPARATORS)


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

    The longest kind word wins, so "改进案例" is not mistaken for a shorter word it contains.
    """
    stem = fold(split_ending(text)[0] if is_document(text) or is_supporting(text) else text)
    candidates = sorted(patterns.items(), key=lambda item: -len(_kind_word(item[1])))
    for kind, pattern in candidates:
        word = fold(_kind_word(pattern))
        position = stem.rfind(word)
        if word and position >= 0:
            school = _school_part(stem[:position], pattern)
            return NameMatch(kind, school, _slot(stem[position + len(word) :]))
    return None


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
    match = _SLOT.search(after.strip(_SEPARATORS))
    if not match:
        return ""
    return _NUMERALS.get(
        match.group(1), str(int(match.group(1))) if match.group(1).isdigit() else ""
    )


def looks_like_school(name: str) -> bool:
    """True for "双流区实验小学", false for "教育质量综合评价结果解读和改进活动"."""
    return _SCHOOL_END.match(name) is not None


def expected_name(pattern: str, school: str) -> str:
    """The name the notice asks for, for replies: "双流区实验小学报告"."""
    return pattern.replace("{school}", school or "XX学校")
