"""Real office files made with LibreOffice, the way a school's office makes them.

Spreadsheets are typed in as CSV and converted by Calc, so cells that look like numbers become
numbers exactly as in Excel: a phone number is stored as 13912345678, 序号 as 1. Word tables
are written as HTML and converted by Writer. Recipe and timings: /work/shared/TESTING.md.
"""

from __future__ import annotations

import csv
import html
import io
import os
import shutil
import signal
import subprocess
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Literal

import docx
import pytest
from servers.dovecot import truthy_env

#: One conversion takes about 1.5 s; a first start in a fresh profile can take several.
SOFFICE_TIMEOUT = 120.0

MISSING_MESSAGE = (
    "LibreOffice is not installed: run `apt-get install --no-install-recommends "
    "libreoffice-writer-nogui libreoffice-calc-nogui` (or `python3 tasks.py test`)"
)

# Calc's CSV import options: comma (44), double quote (34), UTF-8 (76), start at line 1.
_CSV_IMPORT = "CSV:44,34,76,1"
_WRITER_HTML_IMPORT = "HTML (StarWriter)"
_WRITER_FLAT_ODT_IMPORT = "OpenDocument Text Flat XML"
_DOCX_EXPORT = "docx:MS Word 2007 XML"


def soffice_available() -> bool:
    return _find_soffice() is not None


def require_soffice() -> str:
    """The soffice binary, or skip the test (fail it on CI, where a skip would hide a gap)."""
    binary = _find_soffice()
    if binary is None:
        if truthy_env("CI"):
            pytest.fail(f"{MISSING_MESSAGE} [CI is set, so this is a failure, not a skip]")
        pytest.skip(MISSING_MESSAGE)
    return binary


def write_spreadsheet(
    rows: list[list[str]], dest: Path, fmt: Literal["xlsx", "xls", "csv"]
) -> Path:
    """Write `rows` as a spreadsheet at `dest`.

    "csv" is what Chinese Excel saves: GB18030 with CRLF line ends, no LibreOffice needed.
    """
    if fmt == "csv":
        dest.write_bytes(_csv_text(rows).encode("gb18030"))
        return dest
    with tempfile.TemporaryDirectory(prefix="intake-office-") as work:
        source = Path(work) / "table.csv"
        source.write_text(_csv_text(rows), encoding="utf-8")
        converted = _convert(source, fmt, _CSV_IMPORT)
        shutil.move(converted, dest)
    return dest


def write_word_table(title: str, rows: list[list[str]], dest: Path, notes: str = "") -> Path:
    """A .docx with a title paragraph, one bordered table and an optional notes paragraph.

    A one-cell row in a wider table spans the whole width, as a merged title or notes row in
    a Word template does.
    """
    with tempfile.TemporaryDirectory(prefix="intake-office-") as work:
        source = Path(work) / "table.html"
        source.write_text(_html_document(title, rows, notes), encoding="utf-8")
        converted = _convert(source, _DOCX_EXPORT, _WRITER_HTML_IMPORT)
        shutil.move(converted, dest)
    tables = docx.Document(str(dest)).tables
    assert tables, f"LibreOffice wrote {dest} without a table"
    return dest


def write_word_document(source: str, dest: Path, fmt: Literal["html", "fodt"]) -> Path:
    """A .docx converted by Writer from `source`, an HTML page or a flat OpenDocument text.

    HTML puts what its inline styles say on the runs (`font-family`, `font-size`,
    `font-weight`; `@page { margin: … }` sets the margins), as a page pasted into a word
    processor does. A flat .fodt states paragraph and character styles, the default style and
    page layouts, which Writer exports as w:pStyle/w:rStyle, w:docDefaults and w:pgMar: the way
    to make a Word file whose formatting lives only in its styles.
    """
    import_filter = _WRITER_HTML_IMPORT if fmt == "html" else _WRITER_FLAT_ODT_IMPORT
    with tempfile.TemporaryDirectory(prefix="intake-office-") as work:
        source_path = Path(work) / f"document.{fmt}"
        source_path.write_text(source, encoding="utf-8")
        converted = _convert(source_path, _DOCX_EXPORT, import_filter)
        shutil.move(converted, dest)
    return dest


def _find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _html_document(title: str, rows: list[list[str]], notes: str) -> str:
    width = max((len(row) for row in rows), default=1)
    body = [f"<p>{html.escape(title)}</p>"] if title else []
    body.append('<table border="1">')
    for row in rows:
        if len(row) == 1 and width > 1:
            cells = f'<td colspan="{width}">{html.escape(row[0])}</td>'
        else:
            cells = "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
        body.append(f"<tr>{cells}</tr>")
    body.append("</table>")
    if notes:
        body.append(f"<p>{html.escape(notes)}</p>")
    lines = "\n".join(body)
    return f'<html><head><meta charset="utf-8"></head><body>\n{lines}\n</body></html>\n'


def _convert(source: Path, export: str, import_filter: str) -> Path:
    """Convert `source` in its own folder; returns the converted file."""
    binary = require_soffice()
    out_dir = source.parent / "out"
    # Two soffice processes sharing a profile fail silently: every call gets its own.
    with tempfile.TemporaryDirectory(prefix="intake-soffice-profile-") as profile:
        command = [
            binary,
            "--headless",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            f"--infilter={import_filter}",
            "--convert-to",
            export,
            "--outdir",
            str(out_dir),
            str(source),
        ]
        returncode, output = _run(command)
    extension = export.split(":", 1)[0]
    converted = out_dir / f"{source.stem}.{extension}"
    if not converted.exists():
        raise AssertionError(
            f"LibreOffice did not write {converted.name} (exit {returncode}):\n{output}"
        )
    return converted


def _run(command: list[str]) -> tuple[int, str]:
    # soffice starts a child (soffice.bin); a session of its own lets a timeout stop both.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=SOFFICE_TIMEOUT)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(
            f"LibreOffice did not finish within {SOFFICE_TIMEOUT:.0f} s: {' '.join(command)}\n"
            + output.decode(errors="replace")
        ) from None
    return process.returncode, output.decode(errors="replace")
