"""The page margins of each section."""

from __future__ import annotations

from dataclasses import dataclass

from intake.documents.docx_xml import TWIPS_PER_CM, Element, W, twips, walk


@dataclass(frozen=True)
class SectionMargins:
    """A section's page margins in centimetres, rounded to 2 decimals (1417 twips → 2.5)."""

    top_cm: float
    bottom_cm: float
    left_cm: float
    right_cm: float


def margins(body: Element) -> tuple[SectionMargins, ...]:
    margins = []
    for element in walk(body):
        if element.tag != f"{W}sectPr" or element.getparent().tag == f"{W}sectPrChange":
            continue
        page_margins = element.find(f"{W}pgMar")
        if page_margins is None:
            continue
        values = [
            abs(twips(page_margins.get(f"{W}{side}")) or 0.0) / TWIPS_PER_CM
            for side in ("top", "bottom", "left", "right")
        ]
        top, bottom, left, right = (round(value, 2) for value in values)
        margins.append(SectionMargins(top_cm=top, bottom_cm=bottom, left_cm=left, right_cm=right))
    return tuple(margins)
