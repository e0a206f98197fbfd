"""Exports that replace the organizers' hand-kept spreadsheet, and the judges' archive.

`export_xlsx` writes every entry, each school's status and, for a campaign with registered
cases, one sheet per county laid out as Annex 3; `export_csv` writes the entries alone in
UTF-8 with a BOM, so Chinese Excel opens it without garbled text; `export_bundle` collects
the current version of every file, named `组别-学校-类别-序号.ext`.

Text that schools wrote (file names, titles) is always written as text: never as a formula
in the workbook, and with a leading ' in the CSV when Excel would read it as one.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.campaigns.campaign import Campaign
from intake.campaigns.roster import RosterSchool
from intake.config import KindSettings
from intake.store.models import Entry, FindingRow, Message, RegistrationRow, StoredAttachment

Value = str | int | datetime

ENTRY_HEADER = (
    "组别",
    "学校/单位",
    "类别",
    "序号",
    "版本",
    "当前版本",
    "文件名",
    "收到时间",
    "决定",
    "提示",
    "回执号",
)
DECISIONS = {
    "accepted": "已接收",
    "rejected": "已退回",
    "ignored": "已忽略",
    "quarantined": "待人工处理",
}
WARNINGS = {
    "name_from_subject": "文件名不规范",
    "unknown_school": "名单外学校",
    "unsupported_file": "非文档附件",
    "same_file_twice": "同一材料重复",
    "bad_row": "表格有未登记的行",
    "over_limit_rows": "超出名额的行未登记",
    "below_minimum": "未达最低数量",
    "unsafe_member": "压缩包内有文件未取出",
    "large_file_not_kept": "超大附件未保存",
    "unregistered_case": "未对应已申报案例",
    "bad_font": "字体不符",
    "bad_size": "字号不符",
    "bad_margins": "页边距不符",
    "too_long": "字数超限",
    "too_many_signatories": "署名人数超限",
    "format_unchecked": "格式未检查",
}
LEVELS = {"school": "学校", "district": "区域", "direct": "直属学校"}
DIRECT_SHEET = "直属学校"
NO_DISTRICT_SHEET = "未填区域"
TEXT_FORMATS = ("phone", "mobile", "qq")  # numbers whose leading zeros matter
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
UNSAFE_IN_FILE_NAME = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
UNSAFE_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Already compressed: deflating them again costs time and gains nothing.
PACKED = {".docx", ".xlsx", ".pptx", ".zip", ".7z", ".rar", ".jpg", ".jpeg", ".png", ".mp4"}


@dataclass(frozen=True)
class BundleReport:
    """How many files went into the archive, and the entries left out for want of a file."""

    files: int
    missing: tuple[str, ...]


@dataclass(frozen=True)
class _Table:
    """One sheet: its title, header and rows; text columns keep leading zeros."""

    title: str
    header: Sequence[str]
    rows: list[list[Value]]
    text_columns: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Submitted:
    entry: Entry
    attachment: StoredAttachment
    message: Message
    warnings: tuple[str, ...]


# --- public API ---------------------------------------------------------------------------


def export_xlsx(session: Session, campaign: Campaign, path: Path) -> None:
    """Entries, school status and, for registered cases, Annex 3 per county, as one workbook."""
    submitted = _submitted(session, campaign)
    tables = [
        _entries_table(campaign, submitted),
        _status_table(campaign, [s for s in submitted if s.entry.current]),
        *_case_tables(session, campaign),
    ]
    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet every new workbook has
    taken: set[str] = set()
    for table in tables:
        _write_sheet(book.create_sheet(_sheet_name(table.title, taken)), table)
    with _replacing(path) as part:
        book.save(part)


def export_csv(session: Session, campaign: Campaign, path: Path) -> None:
    """The entries sheet as CSV: UTF-8 with a BOM, CRLF line ends."""
    table = _entries_table(campaign, _submitted(session, campaign))
    with _replacing(path) as part, part.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(table.header)
        writer.writerows([_csv_cell(value) for value in row] for row in table.rows)


def export_bundle(session: Session, campaigns: Sequence[Campaign], path: Path) -> BundleReport:
    """A zip of the current version of every file, named 组别-学校-类别-序号.ext; with several
    campaigns each has its folder. Entries whose file is not on disk are reported."""
    folders = _campaign_folders(campaigns)
    taken: set[str] = set()
    files, missing = 0, []
    with _replacing(path) as part, zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as archive:
        for campaign, folder in zip(campaigns, folders, strict=True):
            for item in _submitted(session, campaign, current_only=True):
                name = folder + _bundle_name(campaign, item)
                source = Path(item.attachment.stored_path) if item.attachment.stored_path else None
                if source is None or not source.is_file():
                    missing.append(f"{name}（{'尚未下载' if source is None else '文件不存在'}）")
                    continue
                member = _unique(name, taken)
                _add_file(archive, source, member, campaign.local(item.entry.received_at))
                files += 1
    return BundleReport(files, tuple(missing))


# --- what was submitted ---------------------------------------------------------------------


def _submitted(
    session: Session, campaign: Campaign, current_only: bool = False
) -> list[_Submitted]:
    """The campaign's entries with their file and message, sorted by group, school, kind,
    slot and version."""
    query = (
        select(Entry, StoredAttachment, Message)
        .join(StoredAttachment, Entry.attachment_pk == StoredAttachment.id)
        .join(Message, Entry.message_pk == Message.id)
        .where(Entry.campaign == campaign.id)
    )
    if current_only:
        query = query.where(Entry.current.is_(True))
    warned = _warnings(session, campaign)
    items = [
        _Submitted(entry, attachment, message, _codes(warned.get(message.id, []), attachment))
        for entry, attachment, message in session.execute(query)
    ]
    return sorted(items, key=_entry_order(campaign))


def _warnings(session: Session, campaign: Campaign) -> dict[int, list[tuple[int | None, str]]]:
    """The warnings of each message of the campaign: (file position or None, code)."""
    query = (
        select(FindingRow)
        .join(Message, FindingRow.message_pk == Message.id)
        .where(Message.campaign == campaign.id, FindingRow.severity == "warn")
        .order_by(FindingRow.id)
    )
    found: dict[int, list[tuple[int | None, str]]] = {}
    for row in session.scalars(query):
        found.setdefault(row.message_pk, []).append((row.attachment_position, row.code))
    return found


def _codes(found: list[tuple[int | None, str]], attachment: StoredAttachment) -> tuple[str, ...]:
    """The warnings that concern this file: its own and those on the whole message."""
    codes = [code for at, code in found if at is None or at == attachment.position]
    return tuple(dict.fromkeys(codes))


def _entry_order(campaign: Campaign) -> Callable[[_Submitted], tuple[object, ...]]:
    groups, kinds = list(campaign.settings.groups), list(campaign.kinds)

    def key(item: _Submitted) -> tuple[object, ...]:
        entry = item.entry
        return (
            _index(groups, entry.group),
            entry.school,
            _index(kinds, entry.kind),
            _slot_order(entry.slot),
            entry.version,
        )

    return key


def _index(keys: list[str], key: str) -> tuple[int, str]:
    return (keys.index(key), "") if key in keys else (len(keys), key)


def _slot_order(slot: str) -> tuple[int, str]:
    number = _number(slot)
    return (0, f"{number:09d}") if isinstance(number, int) else (1, slot)


def _number(text: str) -> int | str:
    """A plain number as a number (it sorts as one in Excel); anything else stays text."""
    plain = text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))
    return int(text) if plain and len(text) < 10 else text


def _group_label(campaign: Campaign, key: str) -> str:
    group = campaign.settings.groups.get(key)
    return group.label if group else key


def _kind_label(campaign: Campaign, key: str) -> str:
    kind = campaign.kinds.get(key)
    return kind.label if kind else key


# --- the entries sheet ----------------------------------------------------------------------


def _entries_table(campaign: Campaign, submitted: list[_Submitted]) -> _Table:
    return _Table("提交明细", ENTRY_HEADER, [_entry_row(campaign, item) for item in submitted])


def _entry_row(campaign: Campaign, item: _Submitted) -> list[Value]:
    entry, attachment, message = item.entry, item.attachment, item.message
    shown = f"{attachment.source}/{entry.filename}" if attachment.source else entry.filename
    received = campaign.local(entry.received_at).replace(tzinfo=None)
    return [
        _group_label(campaign, entry.group),
        entry.school,
        _kind_label(campaign, entry.kind),
        _number(entry.slot),
        entry.version,
        "是" if entry.current else "否",
        shown,
        received,
        DECISIONS.get(message.decision, message.decision),
        "；".join(WARNINGS.get(code, code) for code in item.warnings),
        message.receipt,
    ]


# --- the school status sheet ----------------------------------------------------------------


def _status_table(campaign: Campaign, current: list[_Submitted]) -> _Table:
    """One row per roster unit (and per unit seen that the roster lacks): its group, level and
    county when the roster has them, its current files per kind and whether it is complete."""
    held: Counter[tuple[str, str, str]] = Counter()
    for item in current:
        held[(item.entry.group, item.entry.school, item.entry.kind)] += 1
    units = _status_units(campaign, current)
    with_level = any(unit.level != "school" for unit in units)
    with_district = any(unit.district for unit in units)
    header = ["组别", "学校/单位"]
    header += ["级别"] * with_level + ["所属区域"] * with_district
    header += [kind.label for kind in campaign.kinds.values()] + ["状态"]
    rows = []
    for unit in units:
        groups = [unit.group] if unit.group else list(campaign.settings.groups)
        counts = {k: sum(held[(g, unit.name, k)] for g in groups) for k in campaign.kinds}
        row: list[Value] = [_unit_groups(campaign, unit, current), unit.name]
        row += [LEVELS.get(unit.level, unit.level)] * with_level + [unit.district] * with_district
        rows.append([*row, *counts.values(), _status(campaign, counts)])
    return _Table("学校状态", header, rows)


def _status_units(campaign: Campaign, current: list[_Submitted]) -> list[RosterSchool]:
    """The roster's units in its order by group, then those seen only in entries."""
    listed = list(campaign.roster.schools)
    names = {unit.name for unit in listed}
    seen = dict.fromkeys((i.entry.group, i.entry.school) for i in current if i.entry.school)
    extra = [RosterSchool(name, group) for group, name in seen if name not in names]
    groups = list(campaign.settings.groups)
    return sorted(listed, key=lambda u: _index(groups, u.group)) + extra


def _unit_groups(campaign: Campaign, unit: RosterSchool, current: list[_Submitted]) -> str:
    """The unit's group; for one that writes to every group, the groups it wrote to."""
    if unit.group or len(campaign.settings.groups) == 1:
        return _group_label(campaign, unit.group or next(iter(campaign.settings.groups)))
    used = dict.fromkeys(i.entry.group for i in current if i.entry.school == unit.name)
    return "、".join(_group_label(campaign, group) for group in used)


def _status(campaign: Campaign, counts: dict[str, int]) -> str:
    if not any(counts.values()):
        return "未提交"
    missing = [
        kind.label for key, kind in campaign.kinds.items() if kind.required and not counts[key]
    ]
    return f"缺必交材料：{'、'.join(missing)}" if missing else "已交齐"


# --- Annex 3: registered cases per county ---------------------------------------------------


def _case_tables(session: Session, campaign: Campaign) -> list[_Table]:
    case_kinds = {k: kind for k, kind in campaign.kinds.items() if kind.records == "case"}
    tables = []
    for key, kind in case_kinds.items():
        prefix = f"{kind.label}-" if len(case_kinds) > 1 else ""
        query = (
            select(RegistrationRow)
            .where(
                RegistrationRow.campaign == campaign.id,
                RegistrationRow.kind == key,
                RegistrationRow.current.is_(True),
            )
            .order_by(RegistrationRow.id)
        )
        by_sheet: dict[str, list[RegistrationRow]] = {}
        for row in session.scalars(query):
            by_sheet.setdefault(_county_sheet(row), []).append(row)
        for county in _county_order(campaign, by_sheet):
            tables.append(_case_table(prefix + county, kind, by_sheet[county]))
    return tables


def _county_sheet(row: RegistrationRow) -> str:
    if row.level == "direct":
        return DIRECT_SHEET
    return row.district or NO_DISTRICT_SHEET


def _county_order(campaign: Campaign, by_sheet: dict[str, list[RegistrationRow]]) -> list[str]:
    """Counties in the roster's order, then the others by name; directly-run schools last."""
    listed = [u.name for u in campaign.roster.schools if u.level == "district"]
    rank = {name: at for at, name in enumerate(listed)}
    last = {DIRECT_SHEET: 1, NO_DISTRICT_SHEET: 2}
    return sorted(by_sheet, key=lambda c: (last.get(c, 0), rank.get(c, len(rank)), c))


def _case_table(title: str, kind: KindSettings, rows: list[RegistrationRow]) -> _Table:
    """The kind's columns as the form has them; the counter column numbered 1..n anew."""
    header = [column.name for column in kind.columns]
    text = frozenset(i for i, c in enumerate(kind.columns) if c.format in TEXT_FORMATS)
    lines: list[list[Value]] = []
    for number, row in enumerate(rows, 1):
        lines.append(
            [
                number if column.counter else str(row.values.get(column.name, "") or "")
                for column in kind.columns
            ]
        )
    return _Table(title, header, lines, text)


# --- writing the workbook and the CSV -------------------------------------------------------


def _write_sheet(sheet: Worksheet, table: _Table) -> None:
    """Header bold and frozen, every string written as text, widths fitted to the text."""
    bold = Font(bold=True)
    for column, title in enumerate(table.header, 1):
        _put(sheet, 1, column, title).font = bold
    for line, row in enumerate(table.rows, 2):
        for column, value in enumerate(row, 1):
            cell = _put(sheet, line, column, value)
            if isinstance(value, datetime):
                cell.number_format = DATE_FORMAT
            elif column - 1 in table.text_columns:
                cell.number_format = "@"
    sheet.freeze_panes = "A2"
    for column, width in enumerate(_widths(table), 1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _put(sheet: Worksheet, row: int, column: int, value: Value) -> Cell | MergedCell:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"  # "=…" from a school stays text, never a formula
    else:
        cell.value = value
    return cell


def _widths(table: _Table) -> list[float]:
    """Column widths in characters; a CJK character counts two."""
    widths = [_display_width(title) for title in table.header]
    for row in table.rows:
        for at, value in enumerate(row):
            shown = "2021-05-20 09:00:00" if isinstance(value, datetime) else str(value)
            widths[at] = max(widths[at], _display_width(shown))
    return [min(max(width + 2, 6), 60) for width in widths]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _csv_cell(value: Value) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _sheet_name(title: str, taken: set[str]) -> str:
    """A name Excel accepts: at most 31 characters, none of []:*?/\\, not quoted, unique."""
    name = UNSAFE_IN_SHEET_NAME.sub("_", title).strip("'") or "Sheet"
    return _unique(name[:31], taken, limit=31)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A file written beside `path` that replaces it only once it is complete."""
    part = path.with_name(path.name + ".part")
    try:
        yield part
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


# --- the bundle -----------------------------------------------------------------------------


def _campaign_folders(campaigns: Sequence[Campaign]) -> list[str]:
    if len(campaigns) < 2:
        return [""] * len(campaigns)
    taken: set[str] = set()
    return [_unique(_safe(c.settings.name or c.id), taken) + "/" for c in campaigns]


def _bundle_name(campaign: Campaign, item: _Submitted) -> str:
    entry = item.entry
    parts = (
        _group_label(campaign, entry.group),
        entry.school,
        _kind_label(campaign, entry.kind),
        entry.slot,
    )
    suffix = PurePosixPath(entry.filename.replace("\\", "/")).suffix.lower()[1:]
    return "-".join(_safe(part) for part in parts) + ("." + _safe(suffix) if suffix else "")


def _safe(text: str, empty: str = "_") -> str:
    """A name every file system takes: no / \\ : * ? " < > | or control characters."""
    return UNSAFE_IN_FILE_NAME.sub("_", text).strip(" .") if text else empty


def _unique(name: str, taken: set[str], limit: int = 0) -> str:
    """`name`, or `name (2)`, `name (3)` … before the extension, whichever is still free
    (compared without case, as Windows compares them)."""
    folder, _, base = name.rpartition("/")
    stem, dot, ext = base.rpartition(".") if "." in base.lstrip(".") else (base, "", "")
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        mark = f" ({number})"
        cut = stem[: limit - len(mark) - len(dot + ext)] if limit else stem
        candidate = f"{folder}/" * bool(folder) + f"{cut}{mark}{dot}{ext}"
    taken.add(candidate.casefold())
    return candidate


def _add_file(archive: zipfile.ZipFile, source: Path, name: str, received: datetime) -> None:
    """Stream one file into the archive, dated when it was received (local time)."""
    info = zipfile.ZipInfo(name, date_time=received.timetuple()[:6])
    info.file_size = source.stat().st_size  # lets zipfile choose ZIP64 for large files
    suffix = PurePosixPath(name).suffix
    info.compress_type = zipfile.ZIP_STORED if suffix in PACKED else zipfile.ZIP_DEFLATED
    with source.open("rb") as src, archive.open(info, "w") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
