"""Opening a .docx package, with a reason the sender can act on when it does not open."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import docx
from docx.oxml.parser import parse_xml

from intake.documents.docx_xml import Element

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


class DocumentError(Exception):
    """A file that cannot be read as a .docx; the message tells the sender what to do."""


def open_document(payload: bytes, filename: str) -> Any:
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


def related_element(part: Any, reltype: str) -> Element | None:
    """The XML of the part `part` relates to by `reltype`, or None (never a made-up default)."""
    for rel in part.rels.values():
        if rel.reltype == reltype and not rel.is_external:
            target = rel.target_part
            element = getattr(target, "element", None)
            return element if element is not None else parse_xml(target.blob)
    return None
