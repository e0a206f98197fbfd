"""The rows of an accepted registration table become registered contacts or cases.

A table replaces the rows its sender registered before (a county re-sends its whole summary
table). Each row is placed: which unit it names, the county (区域) that unit belongs to and
its level (a school, the county itself, or a school run directly by the city). The campaign's
limits then count rows per unit or per county: rows beyond a maximum are not registered and
the reply names the rows kept; a count below a minimum is not refused but reported, to the
sender now and to organizers until it is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from intake.campaigns.campaign import Campaign
from intake.campaigns.classify import FileClaim
from intake.campaigns.columns import role_column
from intake.campaigns.naming import fold, looks_like_office
from intake.config import KindSettings, LimitSettings
from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts, RegisteredRow
from intake.rules.quota import Placement

# What a county writes in 区域 for a school run directly by the city.
_DIRECT_WORDS = ("直属", "市直", "市属")


@dataclass(frozen=True)
class NewRow:
    """A row to record, from the table at `position`."""

    position: int
    kind: str
    record: str  # "contact" or "case"
    submitter: str
    unit: str
    district: str
    level: str
    row: int
    title: str
    values: dict[str, str] = field(default_factory=dict)

    def as_registered(self) -> RegisteredRow:
        return RegisteredRow(
            self.kind, self.submitter, self.unit, self.district, self.level, self.row, self.title
        )


class Registration:
    name = "registration"

    def register(
        self, facts: MessageFacts, placements: list[Placement]
    ) -> tuple[list[NewRow], list[Finding]]:
        rows: list[NewRow] = []
        findings: list[Finding] = []
        claims = {claim.position: claim for claim in facts.claims}
        for placement in placements:
            claim = claims[placement.position]
            if claim.sheet is None:
                continue
            offered = place_rows(facts.campaign, facts.group, claim, placement.school)
            kept, found = self._apply_limits(facts, claim, placement.school, offered)
            rows.extend(kept)
            findings.extend(found)
            if kept:
                findings.append(self._summary(claim, kept))
        return rows, findings

    def _apply_limits(
        self, facts: MessageFacts, claim: FileClaim, submitter: str, offered: list[NewRow]
    ) -> tuple[list[NewRow], list[Finding]]:
        # The sender's earlier rows of this kind are replaced by this table.
        others = [r for r in facts.registered if r.kind == claim.kind and r.submitter != submitter]
        limits = facts.campaign.limits(claim.kind)
        kept: list[NewRow] = []
        refused: dict[tuple[int, str], list[NewRow]] = {}
        for row in offered:
            over = next(
                (
                    (number, _holder(limit, row))
                    for number, limit in enumerate(limits)
                    if limit.max
                    and _counts(limit, row)
                    and _count(
                        limit, _holder(limit, row), [*others, *(k.as_registered() for k in kept)]
                    )
                    >= limit.max
                ),
                None,
            )
            if over is None:
                kept.append(row)
            else:
                refused.setdefault(over, []).append(row)
        findings = [
            self._over(
                claim, limits[number], holder, rows, [*others, *(k.as_registered() for k in kept)]
            )
            for (number, holder), rows in refused.items()
        ]
        now = [*others, *(row.as_registered() for row in kept)]
        findings += self._shortfalls(facts, claim, limits, offered, submitter, now)
        return kept, findings

    def _over(
        self,
        claim: FileClaim,
        limit: LimitSettings,
        holder: str,
        rows: list[NewRow],
        registered: list[RegisteredRow],
    ) -> Finding:
        kept = [r for r in registered if _counts(limit, r) and _holder(limit, r) == holder]
        params: dict[str, Any] = {
            "filename": claim.filename,
            "record": rows[0].record,
            "holder": holder,
            "per": limit.per,
            "level": limit.level,
            "max": limit.max,
            "rows": [row.row for row in rows],
            "titles": [row.title for row in rows],
            "kept": [r.title or r.unit for r in kept],
        }
        return Finding(self.name, "over_limit_rows", Severity.WARN, params, claim.position)

    def _shortfalls(
        self,
        facts: MessageFacts,
        claim: FileClaim,
        limits: list[LimitSettings],
        offered: list[NewRow],
        submitter: str,
        registered: list[RegisteredRow],
    ) -> list[Finding]:
        findings = []
        for limit in limits:
            if not limit.min:
                continue
            for holder in _holders_to_check(facts, limit, offered, submitter):
                count = _count(limit, holder, registered)
                if count < limit.min:
                    params = {
                        "record": _record(facts.campaign.kinds[claim.kind]),
                        "holder": holder,
                        "per": limit.per,
                        "level": limit.level,
                        "min": limit.min,
                        "count": count,
                    }
                    findings.append(
                        Finding(self.name, "below_minimum", Severity.WARN, params, claim.position)
                    )
        return findings

    def _summary(self, claim: FileClaim, kept: list[NewRow]) -> Finding:
        params = {
            "filename": claim.filename,
            "count": len(kept),
            "rows": [row.row for row in kept],
            "titles": [row.title or _first_cells(row) for row in kept],
        }
        return Finding(self.name, "registered_rows", Severity.INFO, params, claim.position)


def _first_cells(row: NewRow) -> str:
    """How a reply names a row without a title, e.g. a contact: "吴江区教育局 沈明"."""
    return " ".join(value for value in list(row.values.values())[:2] if value) or row.unit


def place_rows(campaign: Campaign, group: str, claim: FileClaim, submitter: str) -> list[NewRow]:
    """Each good row with the unit, county and level it belongs to."""
    assert claim.sheet is not None
    kind = campaign.kinds[claim.kind]
    columns = {role: role_column(kind, role) for role in ("unit", "district", "title")}
    rows = []
    for record in claim.sheet.records:
        written_unit = record.values.get(columns["unit"], "") if columns["unit"] else ""
        written_district = record.values.get(columns["district"], "") if columns["district"] else ""
        unit, district, level = place_unit(
            campaign, group, written_unit or submitter, written_district
        )
        rows.append(
            NewRow(
                claim.position,
                claim.kind,
                _record(kind),
                submitter,
                unit,
                district,
                level,
                record.row,
                record.values.get(columns["title"], "") if columns["title"] else "",
                dict(record.values),
            )
        )
    return rows


def _record(kind: KindSettings) -> str:
    return kind.records or "case"


def place_unit(campaign: Campaign, group: str, unit: str, district: str) -> tuple[str, str, str]:
    """(unit, district, level) of a unit as a table names it, by the roster where it can.

    Only the county itself or one of its education offices is county-level (区域层面); any
    other unit is a school, so an unlisted school cannot pass for its county."""
    roster = campaign.roster
    named = roster.by_name(group, unit) if roster else None
    if named is not None:
        if named.level == "direct":
            return named.name, "", "direct"  # belongs to no county
        if named.level != "district" or fold(named.name) == fold(unit) or looks_like_office(unit):
            return named.name, named.district or district, named.level
        return unit, named.name, "school"  # "吴江区松陵一中": a school of that county
    in_roster = roster.by_name(group, district) if roster and district else None
    district = in_roster.name if in_roster is not None else district
    if any(word in fold(district) for word in _DIRECT_WORDS):
        return unit, "", "direct"
    own = looks_like_office(unit) or (bool(district) and fold(unit) == fold(district))
    return unit, district, "district" if own else "school"


def _counts(limit: LimitSettings, row: NewRow | RegisteredRow) -> bool:
    """Whether a limit counts this row: of its level, and with a county (or unit) to count
    it for; a row naming none is not anyone's."""
    return (not limit.level or row.level == limit.level) and bool(_holder(limit, row))


def _holder(limit: LimitSettings, row: NewRow | RegisteredRow) -> str:
    return row.district if limit.per == "district" else row.unit


def _count(limit: LimitSettings, holder: str, rows: Iterable[RegisteredRow]) -> int:
    return sum(1 for row in rows if _counts(limit, row) and _holder(limit, row) == holder)


def _holders_to_check(
    facts: MessageFacts, limit: LimitSettings, offered: list[NewRow], submitter: str
) -> list[str]:
    """The counties (or units) this table speaks for, whose minimum is checked."""
    roster = facts.campaign.roster
    if limit.per == "district":
        holders = {row.district for row in offered if row.district}
        own = roster.by_name(facts.group, submitter) if roster else None
        if own is not None and own.level == "district":
            holders.add(own.name)
        return sorted(holders)
    units = {row.unit for row in offered if not limit.level or row.level == limit.level}
    return sorted(units)


@dataclass(frozen=True)
class Shortfall:
    """A county or unit with fewer registered rows than a limit's minimum."""

    kind: str
    record: str  # what is counted: "case" or "contact"
    holder: str
    per: str
    level: str
    min: int
    count: int


def shortfalls(campaign: Campaign, registered: Iterable[RegisteredRow]) -> list[Shortfall]:
    """Every holder below a minimum, including the roster's units that registered nothing."""
    rows = list(registered)
    found = []
    for limit in campaign.settings.limits:
        if not limit.min:
            continue
        counted = [row for row in rows if row.kind == limit.kind]
        for holder in _all_holders(campaign, limit, counted):
            count = _count(limit, holder, counted)
            if count < limit.min:
                record = _record(campaign.kinds[limit.kind])
                found.append(
                    Shortfall(limit.kind, record, holder, limit.per, limit.level, limit.min, count)
                )
    return found


def _all_holders(campaign: Campaign, limit: LimitSettings, rows: list[RegisteredRow]) -> list[str]:
    if limit.per == "district":
        listed = {unit.name for unit in campaign.roster.schools if unit.level == "district"}
        return sorted(listed | {row.district for row in rows if row.district})
    wanted = limit.level or "school"
    listed = {unit.name for unit in campaign.roster.schools if unit.level == wanted}
    return sorted(listed | {row.unit for row in rows if _counts(limit, row)})
