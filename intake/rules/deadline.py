"""The deadline, judged on the server's receive time in the campaign's time zone."""

from __future__ import annotations

from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts


class Deadline:
    name = "deadline"

    def check(self, facts: MessageFacts) -> list[Finding]:
        closes_at = facts.campaign.closes_at()
        if facts.received_at < closes_at:
            return []
        params = {
            "deadline": facts.campaign.settings.deadline.isoformat(),
            "closes_at": closes_at.isoformat(),
            "received_at": facts.campaign.local(facts.received_at).isoformat(),
        }
        return [Finding(self.name, "late", Severity.REJECT, params)]
