"""What can be known of a PDF without judging its format: pages and the length of its text."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from intake.documents.docx_facts import DocumentError, word_count


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    chars: int  # counted as Word's 字数 counts, over the text pypdf can extract


def read_pdf_facts(payload: bytes, filename: str = "") -> PdfFacts:
    name = filename or "PDF"
    if not payload.startswith(b"%PDF"):
        raise DocumentError(
            f"文件“{name}”不是有效的 PDF 文件，可能已损坏或只是改了扩展名，"
            "请重新导出 PDF 或直接发送 Word 文档"
        )
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns about every odd object
    try:
        reader = PdfReader(io.BytesIO(payload))
        # A PDF that only restricts printing or editing opens without a password.
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"文件“{name}”设有密码，无法打开。请去掉密码后重新发送")
        text = "".join(page.extract_text() or "" for page in reader.pages)
        return PdfFacts(len(reader.pages), word_count(text))
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise DocumentError(
            f"文件“{name}”已损坏或不完整，无法打开，请重新导出 PDF 后发送"
        ) from error
