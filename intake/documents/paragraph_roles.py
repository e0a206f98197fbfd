"""Which paragraphs are the title, the author lines under it, the body, or none of these."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from intake.documents.paragraphs import ParagraphFacts, Role
from intake.documents.signatories import is_lone_name, parse_line

_SENTENCE_ENDS = tuple("。！？；.!?;")
_AUTHOR_LINE_MAX = 40
_AUTHOR_LINES_MAX = 3
_TITLE_LINE_MAX = 40
_HEADING_NUMBER = re.compile(
    r"^(第[一二三四五六七八九十百\d]+[章节部分条]|[一二三四五六七八九十]+[、.．]|"
    r"[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．]|[①-⑳])"
)
_SUBTITLE = re.compile(r"^(——|—|－－|--)")
# "附件2", "附件 1：", "附件二" alone on a line before the title (checked after NFKC).
_ANNEX = re.compile(r"附件\s*[\d一二三四五六七八九十]*\s*:?")


def assign_roles(paragraphs: Sequence[ParagraphFacts], asides: Sequence[bool]) -> list[Role]:
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
    while order and _is_annex_label(paragraphs[order[0]].text):
        roles[order.pop(0)] = "other"
    if not order:
        return roles
    for position, role in _heading_roles(paragraphs, order):
        roles[position] = role
    return roles


def _is_annex_label(text: str) -> bool:
    return _ANNEX.fullmatch(unicodedata.normalize("NFKC", text).strip()) is not None


def _heading_roles(
    paragraphs: Sequence[ParagraphFacts], order: Sequence[int]
) -> Iterator[tuple[int, Role]]:
    """The positions of the title, its subtitle or second line and the author lines, with their
    roles; `order` lists the positions of the paragraphs that are not aside, title first."""
    title = paragraphs[order[0]]
    yield order[0], "title"
    stage = "title"
    authors = 0
    after_unit = False
    for step, position in enumerate(order[1:], start=1):
        paragraph = paragraphs[position]
        text = paragraph.text.strip()
        if stage == "title" and _SUBTITLE.match(text):
            yield position, "title"
            continue
        if stage != "body" and authors < _AUTHOR_LINES_MAX:
            unit = _author_line(text, after_unit=after_unit)
            if unit is not None:
                yield position, "author"
                stage = "author"
                authors += 1
                after_unit = unit
                continue
        later = (paragraphs[p] for p in order[step + 1 :])
        if step == 1 and _continues_title(text, paragraph, title, later):
            yield position, "title"
            continue
        stage = "body"


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
    line = parse_line(text)
    if line.unit:
        return True
    if line.labelled:
        return False
    if not line.people or not line.names:
        return None
    if line.tokens > 1:
        return False
    if after_unit and all(is_lone_name(name) for name in line.names):
        return False
    return None
