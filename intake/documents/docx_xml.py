"""WordprocessingML as lxml gives it: namespaces, the body in document order, Word's values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# lxml elements: lxml ships without type information.
Element = Any

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
PIC = "{http://schemas.openxmlformats.org/drawingml/2006/picture}"
V = "{urn:schemas-microsoft-com:vml}"
OFFICE = "{urn:schemas-microsoft-com:office:office}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
WP15 = "{http://schemas.microsoft.com/office/word/2012/wordprocessingDrawing}"

# Word's "twentieths of a point" and the universal measures a strict file may use instead.
TWIPS_PER_CM = 1440 / 2.54
_UNIT_TWIPS = {"cm": TWIPS_PER_CM, "mm": TWIPS_PER_CM / 10, "in": 1440.0, "pt": 20.0}
_UNIT_TWIPS |= {"pc": 240.0, "pi": 240.0}


def walk(root: Element) -> Iterator[Element]:
    """Elements under `root` in document order, without mc:AlternateContent fallback copies."""
    stack = [root]
    while stack:
        element = stack.pop()
        yield element
        children = [
            child
            for child in element
            if isinstance(child.tag, str) and child.tag != f"{MC}Fallback"
        ]
        stack.extend(reversed(children))


def on(value: str | None, *, missing: bool = True) -> bool:
    """An ST_OnOff value; an element without w:val is on."""
    if value is None:
        return missing
    return value.strip().lower() not in {"0", "false", "off"}


def half_points(value: str | None) -> float | None:
    """A w:sz value in points: "36" half-points → 18.0 (a strict file may write "18pt")."""
    number, unit = _measure(value)
    if number is None:
        return None
    return number / 2 if unit is None else number * _UNIT_TWIPS[unit] / 20


def twips(value: str | None) -> float | None:
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
