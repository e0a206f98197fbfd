"""The non-empty paragraphs of a document's body, their text and the fonts they show.

Which font a reader sees depends on the characters: Chinese text is drawn in the East Asian
font, digits and Latin letters in the Latin font. LibreOffice splits "我校2021年" into runs by
script and names only the font that script uses (`w:eastAsia` on "我校", `w:ascii` on "2021"),
so a paragraph's `east_asia_fonts` lists the East Asian font of runs that hold East Asian
characters, and `latin_fonts` the Latin font of runs that hold other visible characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from intake.documents.docx_styles import RunStyle, Styles
from intake.documents.docx_xml import MC, Element, W, walk
from intake.documents.word_count import has_east_asian, has_other_than_east_asian

# "other": a paragraph in a table, a caption, an annex label before the title.
Role = Literal["title", "author", "body", "other"]

# "图1 …", "表 2 …", "图1-2 …" (checked after NFKC).
_CAPTION_TEXT = re.compile(r"[图表]\s*\d")


@dataclass(frozen=True)
class ParagraphFacts:
    """One non-empty paragraph.

    `index` counts every paragraph of the body in document order from 0, empty ones included
    (paragraphs in tables and text boxes too), so gaps show where empty paragraphs were.
    Fonts and sizes are the distinct effective values over the runs that carry visible text,
    sorted; a size no level states is left out. `bold` is true when every such run is bold.
    `role` is "title", "author" (a unit and author line), "body", or "other" for text that is
    none of these: paragraphs in tables, captions, an annex label before the title (see
    paragraph_roles); format rules on the body's size leave "other" paragraphs alone.
    """

    index: int
    text: str
    role: Role
    east_asia_fonts: tuple[str, ...]
    latin_fonts: tuple[str, ...]
    sizes: tuple[float, ...]
    bold: bool


def _runs(paragraph: Element) -> Iterator[Element]:
    """The runs of one paragraph, not of the paragraphs in its text boxes, nor deleted ones."""
    stack = list(reversed([c for c in paragraph if isinstance(c.tag, str)]))
    skipped = {f"{W}p", f"{W}del", f"{W}moveFrom", f"{MC}Fallback", f"{W}pPr"}
    while stack:
        element = stack.pop()
        if element.tag == f"{W}r":
            yield element
        elif element.tag not in skipped:
            stack.extend(reversed([c for c in element if isinstance(c.tag, str)]))


def _run_text(run: Element) -> str:
    parts = []
    for child in run:
        tag = child.tag
        if tag == f"{W}t":
            parts.append(child.text or "")
        elif tag in (f"{W}tab", f"{W}ptab"):
            parts.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif tag == f"{W}noBreakHyphen":
            parts.append("-")
    return "".join(parts)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph as read: its text and the text and style of each of its runs."""

    index: int
    text: str
    runs: tuple[tuple[str, RunStyle], ...]
    # In a table cell, or a caption: never the title, an author line or body text.
    aside: bool


def read_paragraphs(body: Element, styles: Styles) -> list[Paragraph]:
    """The non-empty paragraphs of the body, each with its runs' text and effective style."""
    paragraphs = []
    index = 0
    for element in walk(body):
        if element.tag != f"{W}p":
            continue
        paragraph_style = styles.paragraph_style(element)
        runs = tuple(
            (_run_text(run), styles.run_style(run, paragraph_style)) for run in _runs(element)
        )
        text = "".join(text for text, _ in runs)
        if text.strip():
            aside = _in_table(element) or styles.is_caption(element) or _is_caption_text(text)
            paragraphs.append(Paragraph(index, text, runs, aside))
        index += 1
    return paragraphs


def _in_table(paragraph: Element) -> bool:
    return any(ancestor.tag == f"{W}tc" for ancestor in paragraph.iterancestors())


def _is_caption_text(text: str) -> bool:
    return _CAPTION_TEXT.match(unicodedata.normalize("NFKC", text).strip()) is not None


def paragraph_facts(paragraph: Paragraph) -> ParagraphFacts:
    """The paragraph's facts, with the role "body" until assign_roles decides."""
    east_asia: set[str] = set()
    latin: set[str] = set()
    sizes: set[float] = set()
    visible = [(text, style) for text, style in paragraph.runs if text.strip()]
    for text, style in visible:
        if style.east_asia and has_east_asian(text):
            east_asia.add(style.east_asia)
        if style.latin and has_other_than_east_asian(text):
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
