"""The optional roster: which schools take part, in which group, and from which addresses.

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


@dataclass(frozen=True)
class RosterSchool:
    name: str
    group: str
    senders: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Roster:
    schools: tuple[RosterSchool, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.schools)

    def in_group(self, group: str) -> list[RosterSchool]:
        return [school for school in self.schools if school.group == group]

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
    """Read a CSV with the columns school, group, senders (addresses separated by ; or ,)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="gb18030")  # saved by Chinese Excel as "CSV"
    except OSError as error:
        raise RosterError(f"无法读取名单 {path}: {error.strerror}") from error
    rows = csv.DictReader(text.splitlines())
    missing = {"school", "group"} - set(rows.fieldnames or [])
    if missing:
        raise RosterError(f"{path}:1: 名单缺少列 {', '.join(sorted(missing))} (missing columns)")
    schools = []
    for line, row in enumerate(rows, start=2):
        name, group = (row.get("school") or "").strip(), (row.get("group") or "").strip()
        if not name or not group:
            raise RosterError(f"{path}:{line}: 学校或组别为空 (school and group are required)")
        senders = (row.get("senders") or "").replace(",", ";").split(";")
        addresses = frozenset(s.strip().lower() for s in senders if s.strip())
        schools.append(RosterSchool(name, group, addresses))
    return Roster(tuple(schools))
