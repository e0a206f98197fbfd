"""Which row of a grid is the header, and which column holds which field.

Headers differ between schools' copies of the same template: "联系 电话", "ＱＱ号",
"手机号码（必填）", "*案例标题", columns in another order, a title row above. Matching works
on normalised text so all of these find their column.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from intake.tables.read import Grid

#: Only the first rows can be the header; a title and a blank line or two come before it.
HEADER_SEARCH_ROWS = 10

# After NFKC, "（必填）" is "(必填)"; 【】 and 〔〕 have no ASCII form and stay as they are.
_TRAILING_NOTE = re.compile(r"(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕)$")
_MARKS = "*:"
# Zero-width characters are not whitespace to str.split() but pasted headers carry them.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

Format = Literal["", "phone", "mobile", "qq"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an expected table.

    `allowed`: if non-empty, a cell must be one of these (compared without whitespace, NFKC).
    `counter`: a running number like 序号; a row holding only counters is a blank template row.
    """

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    allowed: tuple[str, ...] = ()
    format: Format = ""
    counter: bool = False


@dataclass(frozen=True)
class Located:
    """Where a grid's header is: its row index in `Grid.cells` and each found column."""

    header_row_index: int
    column_of: dict[str, int]
    missing: tuple[str, ...]


def normalise_header(text: str) -> str:
    """A header cell reduced to what identifies it: "＊联系 电话（必填）：" -> "联系电话"."""
    reduced = compact(text)
    while True:
        before = reduced
        reduced = _TRAILING_NOTE.sub("", reduced.strip(_MARKS)).strip(_MARKS)
        if reduced == before:
            break
    return "".join(char.lower() if char.isascii() else char for char in reduced)


def compact(text: str) -> str:
    """NFKC without any whitespace: full-width letters become ASCII, U+3000 and newlines go."""
    return "".join(unicodedata.normalize("NFKC", text).translate(_INVISIBLE).split())


def locate(grid: Grid, columns: Sequence[ColumnSpec]) -> Located | None:
    """The header row among the first rows: the one matching most specs.

    None unless it matches at least half of the specs (rounded up) and at least two, so a
    title or data row that happens to mention one header word is never taken for a header.
    """
    best: Located | None = None
    for index, row in enumerate(grid.cells[:HEADER_SEARCH_ROWS]):
        column_of = _match_row(row, columns)
        if best is None or len(column_of) > len(best.column_of):
            missing = tuple(spec.name for spec in columns if spec.name not in column_of)
            best = Located(index, column_of, missing)
    needed = max(2, math.ceil(len(columns) / 2))
    return best if best is not None and len(best.column_of) >= needed else None


def best_grid(grids: Sequence[Grid], columns: Sequence[ColumnSpec]) -> tuple[Grid, Located] | None:
    """The sheet or table whose header matches most specs (the first one on a tie)."""
    best: tuple[Grid, Located] | None = None
    for grid in grids:
        located = locate(grid, columns)
        if located is None:
            continue
        if best is None or len(located.column_of) > len(best[1].column_of):
            best = (grid, located)
    return best


def _match_row(row: Sequence[str], columns: Sequence[ColumnSpec]) -> dict[str, int]:
    headers = [normalise_header(cell) for cell in row]
    column_of: dict[str, int] = {}
    # Exact matches first for every spec, so a prefix match ("负责人联系电话" for 负责人)
    # never takes a column another spec names exactly.
    for spec in columns:
        _claim(spec, headers, column_of, lambda header, name: header == name)
    # Longer names first: "联系电话" must not lose "联系电话（办公）" to a spec named "联系".
    for spec in sorted(columns, key=lambda spec: -len(normalise_header(spec.name))):
        if spec.name not in column_of:
            _claim(spec, headers, column_of, lambda header, name: header.startswith(name))
    return column_of


def _claim(
    spec: ColumnSpec,
    headers: Sequence[str],
    column_of: dict[str, int],
    matches: Callable[[str, str], bool],
) -> None:
    taken = set(column_of.values())
    names = [normalise_header(name) for name in (spec.name, *spec.aliases)]
    for index, header in enumerate(headers):
        if header and index not in taken and any(name and matches(header, name) for name in names):
            column_of[spec.name] = index
            return
