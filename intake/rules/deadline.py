"""Deadlines, one per stage, judged on the server's receive time in the campaign's time zone.

A file is late when the stage its kind belongs to has closed. When every document of a
message is late for one stage (or it has none and every stage has closed) the whole message
is refused, naming the stage and its deadline; otherwise each late file is, with its stage.
"""

from __future__ import annotations

from typing import Any

from intake.campaigns.campaign import Stage
from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts


class Deadline:
    name = "deadline"

    def check(self, facts: MessageFacts) -> list[Finding]:
        claimed = [claim for claim in facts.documents() if claim.kind]
        if not claimed:
            stage = facts.campaign.stage_at(facts.received_at)
            return [] if stage.is_open(facts.received_at) else [self._late(facts, stage)]
        late = [
            (claim.position, stage)
            for claim in claimed
            if not (stage := facts.campaign.stage_of(claim.kind)).is_open(facts.received_at)
        ]
        if len(late) == len(claimed) and len({stage.key for _, stage in late}) == 1:
            return [self._late(facts, late[0][1])]
        # Some files on time, or late files of different stages: each late file is named
        # with its own stage.
        return [self._late(facts, stage, position) for position, stage in late]

    def _late(self, facts: MessageFacts, stage: Stage, position: int | None = None) -> Finding:
        params: dict[str, Any] = {
            "stage": stage.key,
            "stage_label": stage.label,
            "deadline": stage.deadline.isoformat(),
            "closes_at": stage.closes_at().isoformat(),
            "received_at": facts.campaign.local(facts.received_at).isoformat(),
        }
        if position is not None:
            params["filename"] = facts.claims[position].filename
        return Finding(self.name, "late", Severity.REJECT, params, position)
