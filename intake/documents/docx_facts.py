"""The format facts of a Word document (.docx), as an organizer checking it by eye sees them.

The document is opened (docx_package); every run is resolved to the font, size and boldness
Word displays it with, after styles, document defaults and theme fonts (docx_styles); the
paragraphs are read with the fonts they show (paragraphs) and given their roles — title, author
lines, body or other (paragraph_roles); the people on the author lines are named
(signatories) and Word's 字数 counted (word_count). Page margins (page_margins) and pictures
and videos (docx_media) complete the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from docx.opc.constants import RELATIONSHIP_TYPE as RT

from intake.documents.docx_media import pictures, videos
from intake.documents.docx_package import DocumentError, open_document, related_element
from intake.documents.docx_styles import RunStyle, Styles, theme_fonts
from intake.documents.docx_xml import Element
from intake.documents.page_margins import SectionMargins, margins
from intake.documents.paragraph_roles import assign_roles
from intake.documents.paragraphs import ParagraphFacts, paragraph_facts, read_paragraphs
from intake.documents.signatories import signatories
from intake.documents.word_count import word_count

__all__ = [
    "DocumentError",
    "DocxFacts",
    "ParagraphFacts",
    "RunStyle",
    "SectionMargins",
    "read_docx_facts",
    "signatories",
    "word_count",
]


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
    document = open_document(payload, filename)
    part = document.part
    styles = Styles(related_element(part, RT.STYLES), theme_fonts(related_element(part, RT.THEME)))
    body = document.element.body
    paragraphs = _paragraph_facts(body, styles)
    body_chars = sum(word_count(p.text) for p in paragraphs if p.role in ("body", "other"))
    authors = [p.text for p in paragraphs if p.role == "author"]
    return DocxFacts(
        paragraphs=paragraphs,
        margins=margins(body),
        body_chars=body_chars,
        total_chars=sum(word_count(p.text) for p in paragraphs),
        signatories=signatories(authors),
        pictures=pictures(body),
        videos=videos(body, part),
    )


def _paragraph_facts(body: Element, styles: Styles) -> tuple[ParagraphFacts, ...]:
    paragraphs = read_paragraphs(body, styles)
    facts = [paragraph_facts(p) for p in paragraphs]
    roles = assign_roles(facts, [p.aside for p in paragraphs])
    return tuple(replace(p, role=role) for p, role in zip(facts, roles, strict=True))
