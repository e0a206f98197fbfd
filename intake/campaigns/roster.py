"""The optional roster: which schools take part, in which group, and from which addresses.

A unit is usually a school. Where a competition is run through counties (区域), the roster
also lists each county as a unit of level "district", the schools with the district they
belong to, and schools run directly by the city (level "direct").

With a roster, a school that writes its name short ("实验小学") or long ("双流区实验小学解读")
is still recognised, a message without a usable name can be placed by its sender, and the
digest can list the schools that have sent nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from intake.campaigns.naming import fold


class RosterError(Exception):
    """A roster file that cannot be read, with the line to fix."""


LEVELS = ("school", "district", "direct")


@dataclass(frozen=True)
class RosterSchool:
    name: str
    group: str  # "" when the unit writes to every group's mailbox
    senders: frozenset[str] = frozenset()
    level: str = "school"  # "school", "district" (a county itself) or "direct"
    district: str = ""  # the county a school belongs to; a county's own name for a county


@dataclass(frozen=True)
class Roster:
    schools: tuple[RosterSchool, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.schools)

    def with_senders(self, extra: dict[str, RosterSchool]) -> Roster:
        """This roster plus addresses learnt elsewhere (address -> the unit that uses it):
        added to a listed unit, or listing the unit when the roster does not."""
        schools = list(self.schools)
        for address, unit in extra.items():
            at = next((i for i, s in enumerate(schools) if fold(s.name) == fold(unit.name)), -1)
            if at < 0:
                schools.append(unit)
            elif address not in schools[at].senders:
                known = schools[at]
                schools[at] = RosterSchool(
                    known.name, known.group, known.senders | {address}, known.level, known.district
                )
        return Roster(tuple(schools))

    def in_group(self, group: str) -> list[RosterSchool]:
        return [school for school in self.schools if school.group in (group, "")]

    def by_sender(self, group: str, address: str) -> RosterSchool | None:
        matches = [s for s in self.in_group(group) if address.lower() in s.senders]
        return matches[0] if len(matches) == 1 else None

    def by_name(self, group: str, written: str) -> RosterSchool | None:
        """The one school whose name equals, contains or is contained in what was written."""
        written = fold(written)
        if not written:
            return None
        schools = self.in_group(group)
        exact = [s for s in schools if fold(s.name) == written]
        if exact:
            return exact[0]
        # "双流区实验小学解读" holds the name: take the longest such name.
        inside = sorted((s for s in schools if fold(s.name) in written), key=lambda s: -len(s.name))
        if inside:
            return inside[0]
        # "实验小学" is a short form: only when exactly one school ends with it.
        short = [s for s in schools if fold(s.name).endswith(written) and len(written) >= 3]
        return short[0] if len(short) == 1 else None


def load_roster(path: Path) -> Roster:
    """Read a CSV with the columns school (or unit), group, senders, and optionally level and
    district. Addresses are separated by ; or ,."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="gb18030")  # saved by Chinese Excel as "CSV"
    except OSError as error:
        raise RosterError(f"无法读取名单 {path}: {error.strerror}") from error
    rows = csv.DictReader(text.splitlines())
    columns = set(rows.fieldnames or [])
    name_column = "unit" if "unit" in columns else "school"
    if name_column not in columns:
        raise RosterError(f"{path}:1: 名单缺少列 school (missing column school or unit)")
    return Roster(tuple(_unit(path, line, row, name_column) for line, row in enumerate(rows, 2)))


def _unit(path: Path, line: int, row: dict[str, str], name_column: str) -> RosterSchool:
    def cell(column: str) -> str:
        return (row.get(column) or "").strip()

    name, level = cell(name_column), cell("level") or "school"
    if not name:
        raise RosterError(f"{path}:{line}: 单位名称为空 (the {name_column} column is required)")
    if level not in LEVELS:
        raise RosterError(f"{path}:{line}: level 应为 {'、'.join(LEVELS)} 之一，而不是 {level!r}")
    senders = cell("senders").replace(",", ";").split(";")
    addresses = frozenset(s.strip().lower() for s in senders if s.strip())
    district = cell("district") or (name if level == "district" else "")
    return RosterSchool(name, cell("group"), addresses, level, district)
