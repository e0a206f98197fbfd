"""Registration tables schools send (.xlsx, .xls, .docx, .csv): read, find the header, check rows.

`read_sheet(filename, payload, columns)` is the entry point; `columns` describes one expected
table (Annex 1 contacts, Annex 3 cases) as a sequence of `ColumnSpec`.
"""

from intake.tables.columns import ColumnSpec, Located, best_grid, locate, normalise_header
from intake.tables.read import Grid, TableError, read_grids
from intake.tables.validate import Record, RowProblem, Sheet, is_mobile, is_phone, is_qq, read_sheet

__all__ = [
    "ColumnSpec",
    "Grid",
    "Located",
    "Record",
    "RowProblem",
    "Sheet",
    "TableError",
    "best_grid",
    "is_mobile",
    "is_phone",
    "is_qq",
    "locate",
    "normalise_header",
    "read_grids",
    "read_sheet",
]
