"""Where a campaign stands in a digest: what units hold against the roster and the quotas."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from intake.campaigns.campaign import Campaign
from intake.campaigns.naming import title_key
from intake.campaigns.roster import RosterSchool
from intake.config import LimitSettings
from intake.reports.digest_model import AtLimit, CaseLine, KindTotal, MissingKind, QuotaIssue
from intake.rules.base import RegisteredRow
from intake.rules.registration import shortfalls


class Held(NamedTuple):
    """A current entry (store.models.Entry) as the digest reads it: the columns it needs."""

    group: str
    school: str
    kind: str
    slot: str
    filename: str
    received_at: datetime
    message_pk: int


def kind_totals(
    campaign: Campaign, group: str, held: list[Held], entries: list[Held]
) -> tuple[KindTotal, ...]:
    """Per kind: who in the group holds it, and how many of the roster's units do (a file
    counts in whichever group's mailbox it arrived, as for the missing ones)."""
    units = {unit.name for unit in _roster_units(campaign, group)}
    totals = []
    for key, kind in campaign.kinds.items():
        files = [entry for entry in held if entry.kind == key]
        anywhere = {entry.school for entry in entries if entry.kind == key}
        totals.append(
            KindTotal(
                kind=key,
                label=kind.label,
                required=kind.required,
                max_per_school=kind.max_per_school,
                schools=len({entry.school for entry in files}),
                files=len(files),
                roster=len(units),
                roster_holding=len(units & anywhere),
            )
        )
    return tuple(totals)


def missing_kinds(campaign: Campaign, group: str, entries: list[Held]) -> tuple[MissingKind, ...]:
    """Roster units of the group without a current file of each required kind.

    A file counts in whichever group's mailbox it arrived. A unit the roster lists for every
    group ("" as its group) is listed under the campaign's first group only."""
    if not campaign.roster:
        return ()
    units = _roster_units(campaign, group)
    found = []
    for key, kind in campaign.kinds.items():
        if not kind.required:
            continue
        holding = {entry.school for entry in entries if entry.kind == key}
        absent = tuple(unit.name for unit in units if unit.name not in holding)
        if absent:
            found.append(MissingKind(key, kind.label, absent))
    return tuple(found)


def _roster_units(campaign: Campaign, group: str) -> list[RosterSchool]:
    first = next(iter(campaign.settings.groups))
    return [
        unit
        for unit in campaign.roster.schools
        if unit.group == group or (not unit.group and group == first)
    ]


def schools_at_limit(campaign: Campaign, held: list[Held]) -> tuple[AtLimit, ...]:
    counts = Counter((entry.school, entry.kind) for entry in held)
    found = []
    for (school, key), count in sorted(counts.items()):
        kind = campaign.kinds.get(key)
        if kind is not None and kind.max_per_school > 1 and count >= kind.max_per_school:
            found.append(AtLimit(school, key, kind.label, count, kind.max_per_school))
    return tuple(found)


def unregistered_cases(
    campaign: Campaign,
    held: list[Held],
    registered: tuple[RegisteredRow, ...],
    receipts: dict[int, str],
) -> tuple[CaseLine, ...]:
    """Current files of kinds matched to registered cases that match none of them now (a case
    never registered, or whose row a newer table dropped)."""
    # Looked up, not searched: a season holds thousands of files and hundreds of cases.
    cases = {(row.kind, row.unit, title_key(row.title)[:64] or "1") for row in registered}
    found = []
    for entry in held:
        kind = campaign.kinds.get(entry.kind)
        if kind is None or not kind.registered_in:
            continue
        known = (kind.registered_in, entry.school, entry.slot) in cases
        if not known:
            found.append(
                CaseLine(
                    school=entry.school,
                    kind=entry.kind,
                    label=kind.label,
                    filename=entry.filename,
                    received_at=campaign.local(entry.received_at),
                    receipt=receipts.get(entry.message_pk, ""),
                )
            )
    return tuple(found)


def quota_issues(
    campaign: Campaign, registered: tuple[RegisteredRow, ...]
) -> tuple[QuotaIssue, ...]:
    """Counties or units below a minimum (shortfalls(), including those that registered
    nothing) or above a maximum (rows registered before a lower maximum was configured)."""
    kinds = campaign.kinds
    found = []
    limits: dict[tuple[str, str, str], LimitSettings] = {
        (limit.kind, limit.per, limit.level): limit for limit in campaign.settings.limits
    }
    for short in shortfalls(campaign, registered):
        limit = limits.get((short.kind, short.per, short.level))
        found.append(
            QuotaIssue(
                kind=short.kind,
                kind_label=kinds[short.kind].label,
                record=short.record,
                holder=short.holder,
                per=short.per,
                level=short.level,
                count=short.count,
                min=short.min,
                max=limit.max if limit is not None else 0,
                problem="below",
            )
        )
    for limit in campaign.settings.limits:
        if not limit.max:
            continue
        for holder, count in sorted(_counts(limit, registered).items()):
            if count > limit.max:
                found.append(
                    QuotaIssue(
                        kind=limit.kind,
                        kind_label=kinds[limit.kind].label,
                        record=kinds[limit.kind].records or "case",
                        holder=holder,
                        per=limit.per,
                        level=limit.level,
                        count=count,
                        min=limit.min,
                        max=limit.max,
                        problem="above",
                    )
                )
    return tuple(found)


def _counts(limit: LimitSettings, rows: Iterable[RegisteredRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.kind != limit.kind or (limit.level and row.level != limit.level):
            continue
        holder = row.district if limit.per == "district" else row.unit
        if holder:
            counts[holder] += 1
    return counts
