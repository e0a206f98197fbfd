"""Read one expected table from an attachment and check every row.

A row with any problem is reported with the row number the sender sees, never silently
dropped or half-accepted: the reply can then say "第7行 类别“体育”不在可选范围内".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from intake.tables.columns import ColumnSpec, Located, best_grid, compact
from intake.tables.read import Grid, read_grids

ProblemCode = Literal["missing", "not_allowed", "bad_phone", "bad_mobile", "bad_qq"]

# A notes line under the table: "注：1.请各县…", "备注：", "说明：".
_NOTE_PREFIXES = ("注", "备注", "说明")

_MOBILE = re.compile(r"(?:\+?86|0086)?1[3-9]\d{9}")
# Area code 0 + 2–3 digits, then a local number of 7–8 digits that never starts with 0 or 1.
_LOCAL = re.compile(r"[2-9]\d{6,7}")
_LANDLINE = re.compile(r"(?:0\d{2,3})?[2-9]\d{6,7}")
_SEPARATED_AREA = re.compile(r"(?:\(0\d{2,3}\)-?|0\d{2,3}-)(.+)")
_EXTENSION = re.compile(r"(.+?)(?:转|-)(\d{1,6})")
# Spaces around these only space out one number: "0512 - 87660108", "( 0512 ) 87660108".
_SPACE_AROUND_JOINERS = re.compile(r"\s*([-)转])\s*|(\()\s*")
# Dash-like characters people type between digit groups; NFKC has made "－" a "-" already.
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63-]")
# Between two numbers in one cell; whitespace is handled separately (it may sit inside one).
_NUMBER_SEPARATORS = re.compile(r"[/、,;]")
_QQ = re.compile(r"[1-9]\d{4,10}")
_QQ_MAIL = re.compile(r"@qq\.com$", re.IGNORECASE)

_Check = Callable[[str], bool]


@dataclass(frozen=True)
class Record:
    """A row without problems: spec name -> cell text (stripped; canonical if `allowed`)."""

    row: int
    values: dict[str, str]


@dataclass(frozen=True)
class RowProblem:
    """One problem of one cell; a row may have several."""

    row: int
    column: str
    value: str
    code: ProblemCode
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    """The rows read from the matching sheet or table of a file."""

    records: tuple[Record, ...]
    problems: tuple[RowProblem, ...]
    missing_columns: tuple[str, ...]
    sheet_name: str


def read_sheet(filename: str, payload: bytes, columns: Sequence[ColumnSpec]) -> Sheet | None:
    """The table described by `columns` from a file, or None if the file holds no such table.

    Raises TableError when the file cannot be read at all.
    """
    return sheet_from(read_grids(filename, payload), columns)


def sheet_from(grids: Sequence[Grid], columns: Sequence[ColumnSpec]) -> Sheet | None:
    """The table described by `columns` among grids already read, or None."""
    found = best_grid(grids, columns)
    if found is None:
        return None
    grid, located = found
    missing_columns = tuple(
        spec.name for spec in columns if spec.required and spec.name in located.missing
    )
    records: list[Record] = []
    problems: list[RowProblem] = []
    for number, row in _data_rows(grid, located, columns):
        record, row_problems = _check_row(number, row, located, columns)
        problems.extend(row_problems)
        if not row_problems:
            records.append(record)
    return Sheet(tuple(records), tuple(problems), missing_columns, grid.name)


def is_mobile(text: str) -> bool:
    """One or more Chinese mobile numbers, e.g. "139 1234 5678" or "+86 13912345678"."""
    return _each_number(text, _one_mobile)


def is_phone(text: str) -> bool:
    """One or more mobile or landline numbers: "(0512)87660108", "13912345678/0512-87660108"."""
    return _each_number(text, lambda number: _one_mobile(number) or _one_landline(number))


def is_qq(text: str) -> bool:
    """A QQ number: 5–11 digits, no leading 0; "12345678@qq.com" counts as its number."""
    number = _QQ_MAIL.sub("", compact(text))
    return _QQ.fullmatch(number) is not None


# ---------------------------------------------------------------------- rows


def _data_rows(
    grid: Grid, located: Located, columns: Sequence[ColumnSpec]
) -> list[tuple[int, tuple[str, ...]]]:
    counters = {
        located.column_of[s.name] for s in columns if s.counter and s.name in located.column_of
    }
    rows = []
    start = located.header_row_index + 1
    for number, row in zip(grid.row_numbers[start:], grid.cells[start:], strict=True):
        filled = [index for index, cell in enumerate(row) if cell]
        if _is_note(row, filled):
            # Notes run on over several lines ("2.联系电话请填手机"): the table has ended.
            break
        # Empty and template rows (only 序号 filled in) are not entries.
        if set(filled) - counters:
            rows.append((number, row))
    return rows


def _is_note(row: tuple[str, ...], filled: list[int]) -> bool:
    return len(filled) == 1 and compact(row[filled[0]]).startswith(_NOTE_PREFIXES)


def _check_row(
    number: int, row: tuple[str, ...], located: Located, columns: Sequence[ColumnSpec]
) -> tuple[Record, list[RowProblem]]:
    values: dict[str, str] = {}
    problems: list[RowProblem] = []
    for spec in columns:
        index = located.column_of.get(spec.name)
        text = row[index] if index is not None else ""
        value, problem = _check_cell(number, spec, text, found=index is not None)
        values[spec.name] = value
        if problem is not None:
            problems.append(problem)
    return Record(number, values), problems


def _check_cell(
    number: int, spec: ColumnSpec, text: str, *, found: bool
) -> tuple[str, RowProblem | None]:
    if not text:
        # A column missing from the header is reported once per sheet, not on every row.
        missing = spec.required and found
        return "", RowProblem(number, spec.name, "", "missing") if missing else None
    if spec.allowed:
        canonical = _canonical(text, spec.allowed)
        if canonical is None:
            return text, RowProblem(number, spec.name, text, "not_allowed", spec.allowed)
        return canonical, None
    code = _format_problem(text, spec)
    return text, RowProblem(number, spec.name, text, code) if code else None


def _canonical(text: str, allowed: tuple[str, ...]) -> str | None:
    key = compact(text)
    return next((choice for choice in allowed if compact(choice) == key), None)


def _format_problem(text: str, spec: ColumnSpec) -> ProblemCode | None:
    if spec.format == "phone" and not is_phone(text):
        return "bad_phone"
    if spec.format == "mobile" and not is_mobile(text):
        return "bad_mobile"
    if spec.format == "qq" and not is_qq(text):
        return "bad_qq"
    return None


# ---------------------------------------------------------------------- numbers


def _each_number(text: str, valid: _Check) -> bool:
    # A stray separator at the end ("13912345678、") is not a second, broken number.
    parts = [part for part in _NUMBER_SEPARATORS.split(_tidy_number(text)) if part.strip()]
    return bool(parts) and all(_number_or_spaced_pair(part, valid) for part in parts)


def _tidy_number(text: str) -> str:
    # NFKC makes "（０５１２）" ASCII; spaces stay, as they may separate two numbers.
    spaced = " ".join(compact(piece) for piece in text.split())
    return _SPACE_AROUND_JOINERS.sub(r"\1\2", _DASHES.sub("-", spaced))


def _number_or_spaced_pair(part: str, valid: _Check) -> bool:
    # "0512 87660108" is one number, "13912345678 0512-87660108" is two: try one first. A
    # space becomes a dash, so "0512 1234567" keeps its area code apart as "0512-1234567" does.
    pieces = part.split()
    if valid("-".join(pieces)):
        return True
    return len(pieces) > 1 and all(valid(piece) for piece in pieces)


def _one_mobile(number: str) -> bool:
    return _MOBILE.fullmatch(number.replace("-", "")) is not None


def _one_landline(number: str) -> bool:
    if _landline_without_extension(number):
        return True
    extension = _EXTENSION.fullmatch(number)
    return extension is not None and _landline_without_extension(extension.group(1))


def _landline_without_extension(number: str) -> bool:
    # With the area code set apart ("(0512)…", "0512-…") the rest must be a local number;
    # written together ("051287660108") any split into area code and local number will do.
    separated = _SEPARATED_AREA.fullmatch(number)
    if separated:
        return _LOCAL.fullmatch(separated.group(1).replace("-", "")) is not None
    return _LANDLINE.fullmatch(number.replace("-", "")) is not None
