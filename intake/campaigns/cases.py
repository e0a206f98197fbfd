"""Finished cases are matched to the cases registered for them, by title and unit.

Schools retype titles: "基于监测的数学课堂改进" arrives as "吴江区实验小学-基于监测的
数学课堂改进（定稿）.docx", with other spaces, punctuation or full-width letters. Titles are
compared as letters and digits only; a registered title found inside the file name counts.
Where two units registered the same title, the unit the message names decides.
"""

from __future__ import annotations

from dataclasses import replace

from intake.campaigns.campaign import Campaign
from intake.campaigns.classify import FileClaim
from intake.campaigns.naming import fold, stem_of, title_key
from intake.rules.base import RegisteredRow

# A registered title shorter than this is too common to be found inside a longer name.
_MIN_INSIDE = 4


def match_cases(
    claims: list[FileClaim],
    campaign: Campaign,
    registered: tuple[RegisteredRow, ...],
    subject: str,
    sender: str,
) -> list[FileClaim]:
    """Each claim of a kind matched to registered cases, with its case (or its own title).

    The subject is tried only for a message with one document: it speaks for that one."""
    documents = [claim for claim in claims if claim.role == "document"]
    subject = subject if len(documents) == 1 else ""
    return [_match(claim, campaign, registered, subject, sender) for claim in claims]


def _match(
    claim: FileClaim,
    campaign: Campaign,
    registered: tuple[RegisteredRow, ...],
    subject: str,
    sender: str,
) -> FileClaim:
    kind = campaign.kinds.get(claim.kind)
    if kind is None or not kind.registered_in:
        return claim
    cases = [
        row
        for row in registered
        if row.kind == kind.registered_in and row.title and _may_be_theirs(claim, row)
    ]
    title = _without_unit(claim.title or stem_of(claim.filename), claim.school)
    best = _best(cases, title, claim.school) or _best(cases, subject, claim.school)
    if best is None:
        # Unregistered: kept apart by its own title, under the unit or, failing that, the sender.
        return replace(claim, school=claim.school or sender, title=title, slot=_slot(title))
    in_roster = bool(campaign.roster) and campaign.roster.by_name("", best.unit) is not None
    return replace(
        claim,
        school=best.unit,
        school_in_roster=in_roster or claim.school_in_roster,
        title=best.title,
        matched=best.title,
        slot=_slot(best.title),
    )


def _slot(title: str) -> str:
    return title_key(title)[:64] or "1"


def _without_unit(title: str, unit: str) -> str:
    folded = fold(title)
    if unit and fold(unit) in folded:
        folded = folded.replace(fold(unit), "", 1)
    return folded.strip(" -_—·.,，、:：;；()（）【】")


def _may_be_theirs(claim: FileClaim, case: RegisteredRow) -> bool:
    """A unit the roster knows may only send its own cases, or, for a county, its schools'."""
    if not (claim.school_in_roster and claim.school):
        return True
    return claim.school in (case.unit, case.district)


def _best(cases: list[RegisteredRow], name: str, unit: str) -> RegisteredRow | None:
    scored = []
    for case in cases:
        score = _score(title_key(case.title), title_key(name))
        if score:
            agrees = bool(unit) and unit in (case.unit, case.district)
            scored.append((agrees, score, case))
    if not scored:
        return None
    top = max((agrees, score) for agrees, score, _ in scored)
    winners = [case for agrees, score, case in scored if (agrees, score) == top]
    # Two registered cases fit equally well and nothing tells them apart: match neither.
    return winners[0] if len({(c.unit, c.title) for c in winners}) == 1 else None


def _score(registered: str, written: str) -> int:
    """Highest for the same title, then a name that holds the title, then a title that holds the
    name (the longer the better); 0 for no match."""
    if not registered or not written:
        return 0
    if registered == written:
        return 1000
    if len(registered) >= _MIN_INSIDE and registered in written:
        return 100 + len(registered)
    if len(written) >= 2 * _MIN_INSIDE and written in registered:
        return len(written)
    return 0
