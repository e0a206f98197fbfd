"""The chain: which rules run, in which order, and how their findings become a verdict.

The order is data. Message rules run first; the first that ignores or rejects the message
ends the chain (a bounce is not also "late"). File rules then look at every document, so
one reply can list every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from intake.campaigns.classify import Role
from intake.domain import Decision, Severity
from intake.rules.attachments import (
    Archives,
    FileNames,
    HasDocument,
    LargeFiles,
    OtherFiles,
    RegisteredCase,
)
from intake.rules.base import Finding, MessageFacts, MessageRule
from intake.rules.deadline import Deadline
from intake.rules.format import DocumentFormat
from intake.rules.quota import Placement, Quota
from intake.rules.registration import NewRow, Registration
from intake.rules.senders import Acknowledgement, AutoReply, Bounce, DuplicateMessage, OwnMail
from intake.rules.sizes import AttachmentSize, MessageSize
from intake.rules.tables import TableRows

MESSAGE_RULES: tuple[MessageRule, ...] = (
    OwnMail(),
    Bounce(),
    AutoReply(),
    DuplicateMessage(),
    Acknowledgement(),
    MessageSize(),
    Deadline(),
    Archives(),
    HasDocument(),
)
FILE_RULES: tuple[MessageRule, ...] = (
    AttachmentSize(),
    FileNames(),
    TableRows(),
    DocumentFormat(),
    RegisteredCase(),
    LargeFiles(),
    OtherFiles(),
)
QUOTA = Quota()
REGISTRATION = Registration()


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    findings: list[Finding]
    placements: list[Placement] = field(default_factory=list)
    # What became of each attachment, by position: accepted, rejected, supporting, …
    outcomes: dict[int, str] = field(default_factory=dict)
    # Rows of accepted registration tables to record.
    rows: list[NewRow] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        weights = (Severity.REJECT, Severity.IGNORE)
        return _codes(f for f in self.findings if f.severity in weights)

    @property
    def warnings(self) -> list[str]:
        return _codes(f for f in self.findings if f.severity is Severity.WARN)


def _codes(findings: Iterable[Finding]) -> list[str]:
    codes: list[str] = []
    for finding in findings:
        if finding.code not in codes:
            codes.append(finding.code)
    return codes


def evaluate(facts: MessageFacts) -> Verdict:
    findings: list[Finding] = []
    for rule in MESSAGE_RULES:
        found = rule.check(facts)
        findings.extend(found)
        # A finding on the whole message ends the chain; one on a file (a late file beside
        # an on-time one) only refuses that file.
        stop = next((f for f in found if _ends_chain(f)), None)
        if stop is not None:
            decision = Decision.IGNORED if stop.severity is Severity.IGNORE else Decision.REJECTED
            outcome = "ignored" if decision is Decision.IGNORED else "rejected"
            return Verdict(decision, findings, outcomes=_outcomes(facts, [], set(), outcome))
    for rule in FILE_RULES:
        findings.extend(rule.check(facts))
    rejected = {f.position for f in findings if f.severity is Severity.REJECT}
    named = [c for c in facts.documents() if c.position not in rejected]
    placements, quota_findings = QUOTA.place(facts, named)
    findings.extend(quota_findings)
    rows, row_findings = REGISTRATION.register(facts, placements)
    findings.extend(row_findings)
    decision = Decision.ACCEPTED if placements else Decision.REJECTED
    rejected |= {f.position for f in quota_findings if f.severity is Severity.REJECT}
    outcomes = _outcomes(facts, placements, rejected, "kept")
    return Verdict(decision, findings, placements, outcomes, rows)


def _ends_chain(finding: Finding) -> bool:
    weighty = finding.severity in (Severity.IGNORE, Severity.REJECT)
    return weighty and finding.position is None


def _outcomes(
    facts: MessageFacts, placements: list[Placement], rejected: set[int | None], otherwise: str
) -> dict[int, str]:
    """accepted / rejected for documents, the role for other files; `otherwise` for the rest."""
    placed = {p.position for p in placements}
    outcomes = {}
    for claim in facts.claims:
        if claim.role is not Role.DOCUMENT:
            outcomes[claim.position] = str(claim.role)
        elif claim.position in placed:
            outcomes[claim.position] = "accepted"
        else:
            outcomes[claim.position] = "rejected" if claim.position in rejected else otherwise
    return outcomes
