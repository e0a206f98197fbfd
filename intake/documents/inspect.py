"""Open each submitted document and gather what the format rules check.

A .docx is read directly; a .doc or .wps is converted by LibreOffice first (and, without
LibreOffice, kept with a note that its format could not be checked); a PDF gives its page
count and text length only. A file that does not open is reported with a reason the school
can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from intake.campaigns.naming import split_ending
from intake.documents.convert import CONVERTIBLE, ConversionError, to_docx
from intake.documents.docx_facts import DocumentError, DocxFacts, read_docx_facts
from intake.documents.pdf_facts import PdfFacts, read_pdf_facts

Unchecked = Literal["", "pdf", "no_converter", "other"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inspection:
    """What opening one document found."""

    docx: DocxFacts | None = None
    pdf: PdfFacts | None = None
    converted: bool = False  # a .doc or .wps read through LibreOffice
    error: str = ""  # it does not open: what to tell the school
    unchecked: Unchecked = ""  # why its format could not be checked


def inspect(filename: str, payload: bytes, soffice: str | None) -> Inspection:
    ending = split_ending(filename)[1]
    try:
        if ending == ".docx":
            return Inspection(docx=read_docx_facts(payload, filename))
        if ending == ".pdf":
            return Inspection(pdf=read_pdf_facts(payload, filename), unchecked="pdf")
        if ending in CONVERTIBLE:
            return _converted(filename, payload, ending, soffice)
    except DocumentError as error:
        return Inspection(error=str(error))
    except Exception:
        # A reader's own failure on an odd but perhaps valid file must not cost the school
        # its submission: keep the file, say its format could not be checked.
        log.warning("%s: could not be inspected", filename, exc_info=True)
        return Inspection(unchecked="other")
    return Inspection(unchecked="other")


def _converted(filename: str, payload: bytes, ending: str, soffice: str | None) -> Inspection:
    if not payload.strip():
        raise DocumentError(f"文件“{filename}”是空的（0 字节），请检查附件后重新发送")
    if soffice is None:
        return Inspection(unchecked="no_converter")
    try:
        # Word also saves RTF and HTML under .doc, and opens them: let LibreOffice try any.
        converted = to_docx(payload, ending, soffice)
    except ConversionError:
        # Damaged, protected, or the converter itself failed: kept, format not checked.
        log.warning("%s: LibreOffice could not convert it", filename, exc_info=True)
        return Inspection(unchecked="no_converter")
    return Inspection(docx=read_docx_facts(converted, filename), converted=True)
