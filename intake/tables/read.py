"""Every sheet or Word table of an attachment as a grid of stripped text.

Schools send .xlsx, .xls, .docx or .csv. Whatever the format, a cell becomes the text the
person typed: spreadsheet programs turn a phone number into the number 13912345678 (or the
float 13912345678.0 in .xls), and that must read "13912345678" again. Row numbers are the ones
the person sees, so that a reply can say "第5行".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import xlrd
from docx import Document
from docx.table import Table

_ZIP_MAGIC = b"PK\x03\x04"
# Legacy Office files (.xls, .doc) and password-protected .xlsx/.docx are OLE2 compound files.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted .xlsx/.docx is a compound file holding this stream (names are UTF-16LE).
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
# Styled but empty rows can run to row 1048576; a run this long means the table has ended.
_EMPTY_ROWS_AFTER_TABLE = 500

_SPREADSHEET_ENDINGS = frozenset({"xlsx", "xlsm", "xls"})
_CSV_DELIMITERS = (",", "\t")
# What to tell a sender whose file we cannot open: which format to send instead.
_RESAVE_EXCEL = "请另存为 .xlsx 后重新发送"
_RESAVE_WORD = "请另存为 .docx 后重新发送"
_WORD_ENDINGS = frozenset({"doc", "wps", "rtf", "odt", "pdf"})


class TableError(Exception):
    """A file that cannot be read as a table; the message tells the sender what to do."""


@dataclass(frozen=True)
class Grid:
    """One sheet or table: cells as stripped text, rows padded to the same width.

    `row_numbers[i]` is the row number a person sees for `cells[i]`: the spreadsheet row
    (1-based) for .xlsx/.xls/.csv, the table row (1-based, header counted) for .docx.
    """

    name: str
    cells: tuple[tuple[str, ...], ...]
    row_numbers: tuple[int, ...]


def read_grids(filename: str, payload: bytes) -> list[Grid]:
    """Every sheet (.xlsx/.xls), every table (.docx) or the one table (.csv) of a file.

    Raises TableError for unsupported, corrupt or password-protected files.
    """
    ending = _ending(filename)
    reader = _reader_for(filename, ending, payload)
    try:
        return reader(filename, payload)
    except TableError:
        raise
    except Exception as exc:
        # The office libraries fail on damaged files with whatever the parser hit (KeyError,
        # BadZipFile, struct.error, XML errors...): to the sender it is all one thing.
        raise TableError(_damaged(filename, ending)) from exc


def cell_text(value: object) -> str:
    """A spreadsheet value as the text the person typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


# ---------------------------------------------------------------------- dispatch


def _ending(filename: str) -> str:
    # NFKC turns a full-width "．ＸＬＳＸ" into ".XLSX"; mail clients keep trailing blanks.
    name = unicodedata.normalize("NFKC", filename).strip().rstrip(".").lower()
    return name.rsplit(".", 1)[1].strip() if "." in name else ""


Reader = Callable[[str, bytes], list[Grid]]


def _reader_for(filename: str, ending: str, payload: bytes) -> Reader:
    if not payload:
        raise TableError(f"无法读取“{filename}”：文件是空的（0 字节），请检查附件后重新发送")
    if ending in _SPREADSHEET_ENDINGS:
        return _spreadsheet_reader(filename, payload)
    if ending == "docx":
        return _docx_reader(filename, payload)
    if ending == "csv":
        return _read_csv
    hint = _RESAVE_WORD if ending in _WORD_ENDINGS else _RESAVE_EXCEL
    raise TableError(f"无法读取“{filename}”：只能读取 .xlsx、.xls、.docx 或 .csv 表格，{hint}")


def _spreadsheet_reader(filename: str, payload: bytes) -> Reader:
    # By content, not ending: a .xlsx renamed to .xls (or back) is common and still readable.
    if payload.startswith(_ZIP_MAGIC):
        return _read_xlsx
    if payload.startswith(_OLE_MAGIC):
        _refuse_encrypted(filename, payload)
        return _read_xls
    raise TableError(_damaged(filename, "xlsx"))


def _docx_reader(filename: str, payload: bytes) -> Reader:
    if payload.startswith(_OLE_MAGIC):
        _refuse_encrypted(filename, payload)
        raise TableError(f"无法读取“{filename}”：这是旧版 Word 文件，{_RESAVE_WORD}")
    if not payload.startswith(_ZIP_MAGIC):
        raise TableError(_damaged(filename, "docx"))
    return _read_docx


def _refuse_encrypted(filename: str, payload: bytes) -> None:
    if _ENCRYPTION_STREAM in payload:
        raise TableError(_encrypted(filename))


def _damaged(filename: str, ending: str) -> str:
    if ending == "docx":
        return f"无法读取文档“{filename}”：文件已损坏或不是 Word 文件，{_RESAVE_WORD}"
    if ending == "csv":
        return f"无法读取表格“{filename}”：文件已损坏或不是 CSV 表格，{_RESAVE_EXCEL}"
    return f"无法读取表格“{filename}”：文件已损坏或不是 Excel 文件，{_RESAVE_EXCEL}"


def _encrypted(filename: str) -> str:
    return f"无法读取“{filename}”：文件设置了打开密码，请取消密码后重新发送"


# ---------------------------------------------------------------------- formats


def _read_xlsx(filename: str, payload: bytes) -> list[Grid]:
    with warnings.catch_warnings():
        # Files from WPS and Excel add-ins carry extensions openpyxl only warns about
        # ("Data Validation extension is not supported"); the cell values are still right.
        warnings.simplefilter("ignore", UserWarning)
        return _xlsx_grids(payload)


def _xlsx_grids(payload: bytes) -> list[Grid]:
    workbook = openpyxl.load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
    try:
        grids = []
        for sheet in workbook.worksheets:
            # The stored dimension can claim 16384 columns; without it each row is only as
            # wide as its last stored cell.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(min_row=1, values_only=True)
            grids.append(_grid(sheet.title, _numbered(rows)))
        return grids
    finally:
        workbook.close()


def _read_xls(filename: str, payload: bytes) -> list[Grid]:
    try:
        book = xlrd.open_workbook(file_contents=payload)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise TableError(_encrypted(filename)) from exc
        raise
    grids = []
    for sheet in book.sheets():
        rows = (
            [_xls_value(cell, book.datemode) for cell in sheet.row(i)] for i in range(sheet.nrows)
        )
        grids.append(_grid(sheet.name, _numbered(rows)))
    return grids


def _xls_value(cell: Any, datemode: int) -> object:
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate_as_datetime(cell.value, datemode)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "")
    return cell.value


def _read_docx(filename: str, payload: bytes) -> list[Grid]:
    document = Document(io.BytesIO(payload))
    return [
        _grid(f"表格{number}", _numbered(_docx_rows(table)))
        for number, table in enumerate(document.tables, start=1)
    ]


def _docx_rows(table: Table) -> Iterator[list[str]]:
    for row in table.rows:
        # A row may start after the first grid column; pad so columns stay aligned.
        texts = [""] * row.grid_cols_before
        previous = None
        for cell in row.cells:
            # python-docx repeats a horizontally merged cell once per grid column it spans;
            # keep its text once so a merged title is not read as several equal cells.
            same = previous is not None and cell._tc is previous._tc
            texts.append("" if same else cell.text)
            previous = cell
        yield texts


def _read_csv(filename: str, payload: bytes) -> list[Grid]:
    text = _decode_csv(filename, payload)
    best: list[list[str]] = []
    for delimiter in _CSV_DELIMITERS:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        # The right delimiter splits the header into many columns, the wrong one does not.
        if _width(rows) > _width(best):
            best = rows
    stem = filename.rsplit(".", 1)[0].strip() or filename
    return [_grid(stem, _numbered(best))]


def _decode_csv(filename: str, payload: bytes) -> str:
    # Excel's "Unicode text" is UTF-16 with a BOM; "CSV UTF-8" has a BOM; plain "CSV" from
    # Chinese Excel is GB18030 (GBK), which would also "decode" UTF-8 bytes, so UTF-8 first.
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return payload.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(f"无法读取表格“{filename}”：文件编码无法识别，{_RESAVE_EXCEL}")


def _width(rows: list[list[str]]) -> int:
    return max((len(row) for row in rows), default=0)


# ---------------------------------------------------------------------- cells


def _numbered(rows: Iterable[Iterable[object]]) -> Iterator[tuple[int, list[str]]]:
    return ((number, [cell_text(value) for value in row]) for number, row in enumerate(rows, 1))


def _grid(name: str, rows: Iterable[tuple[int, list[str]]]) -> Grid:
    kept: list[tuple[int, list[str]]] = []
    empty_run = 0
    for number, texts in rows:
        while texts and not texts[-1]:
            texts.pop()
        empty_run = 0 if texts else empty_run + 1
        if empty_run >= _EMPTY_ROWS_AFTER_TABLE:
            break
        kept.append((number, texts))
    while kept and not kept[-1][1]:
        kept.pop()
    width = max((len(texts) for _, texts in kept), default=0)
    return Grid(
        name=name,
        cells=tuple(tuple(texts + [""] * (width - len(texts))) for _, texts in kept),
        row_numbers=tuple(number for number, _ in kept),
    )


def _float_text(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    # repr is the shortest text that reads back as the same float: "3.5", never "3.50".
    return repr(value)


def _datetime_text(value: dt.datetime) -> str:
    # A spreadsheet date is a datetime at midnight; keep a time only when one was entered.
    if value.time() == dt.time():
        return value.date().isoformat()
    return value.isoformat(sep=" ", timespec="seconds")
