"""How many files of a kind a school may hold, and which earlier file a new one replaces.

A kind with one file per school (the report) keeps every later file as a new version of it.
A kind with several (the cases) tells them apart by the number in the name ("（一）", "2"):
the same number again is a new version of that case, a new number is a new case, and a new
case beyond the limit is refused, naming the ones the school already holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from intake.campaigns.classify import FileClaim
from intake.config import KindSettings
from intake.domain import Severity
from intake.rules.base import Finding, HeldFile, MessageFacts


@dataclass(frozen=True)
class Placement:
    """Where an accepted file goes: which slot of which kind, as which version."""

    position: int
    school: str
    kind: str
    slot: str
    version: int
    previous: HeldFile | None = None


class Quota:
    name = "quota"

    def place(
        self, facts: MessageFacts, claims: list[FileClaim]
    ) -> tuple[list[Placement], list[Finding]]:
        """Place each named document, in the order the message carries them."""
        placements: list[Placement] = []
        findings: list[Finding] = []
        held = _current_holdings(facts)
        for claim in claims:
            kind = facts.campaign.kinds[claim.kind]
            slots = held.setdefault((claim.school, claim.kind), {})
            placed, finding = self._place_one(claim, kind, slots, placements)
            if placed is not None:
                placements.append(placed)
                slots[placed.slot] = HeldFile(
                    claim.kind, placed.slot, placed.version, claim.filename, facts.received_at
                )
            if finding is not None:
                findings.append(finding)
        return placements, findings

    def _place_one(
        self,
        claim: FileClaim,
        kind: KindSettings,
        slots: dict[str, HeldFile],
        earlier: list[Placement],
    ) -> tuple[Placement | None, Finding | None]:
        slot = "1" if kind.max_per_school == 1 else claim.slot
        if any(
            p.school == claim.school and p.kind == claim.kind and p.slot == slot for p in earlier
        ):
            # The same file twice in one message, e.g. as .docx and .pdf: keep the first.
            params: dict[str, Any] = {"filename": claim.filename}
            return None, Finding(
                self.name, "same_file_twice", Severity.WARN, params, claim.position
            )
        if slot in slots and (kind.max_per_school != 1 or kind.when_full == "supersede"):
            previous = slots[slot]
            placed = Placement(
                claim.position, claim.school, claim.kind, slot, previous.version + 1, previous
            )
            params = {
                "filename": claim.filename,
                "version": placed.version,
                "previous": previous.filename,
                "previous_received_at": previous.received_at.isoformat(),
            }
            return placed, Finding(self.name, "new_version", Severity.INFO, params, claim.position)
        if slot not in slots and (not kind.max_per_school or len(slots) < kind.max_per_school):
            return Placement(claim.position, claim.school, claim.kind, slot, 1), None
        params = {
            "filename": claim.filename,
            "kind": claim.kind,
            "max": kind.max_per_school,
            "held": [held.filename for held in slots.values()],
        }
        return None, Finding(self.name, "over_limit", Severity.REJECT, params, claim.position)


def _current_holdings(facts: MessageFacts) -> dict[tuple[str, str], dict[str, HeldFile]]:
    held: dict[tuple[str, str], dict[str, HeldFile]] = {}
    for school, files in facts.holdings.items():
        for file in files:
            held.setdefault((school, file.kind), {})[file.slot] = file
    return held
