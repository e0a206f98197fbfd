"""Is there a file at all, and does its name say which school and which kind it is?"""

from __future__ import annotations

from intake.campaigns.classify import Role, Source
from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts


class HasDocument:
    """A message needs at least one document: a picture alone, or only text, is not an entry."""

    name = "has_document"

    def check(self, facts: MessageFacts) -> list[Finding]:
        if facts.documents():
            return []
        params = {
            "links": [link.filename for link in facts.mail.links],
            "other_files": [c.filename for c in facts.claims if c.role is not Role.INLINE],
        }
        return [Finding(self.name, "missing_attachment", Severity.REJECT, params)]


class FileNames:
    """Each document must name its kind and its school; say so for every one that does not."""

    name = "file_name"

    def check(self, facts: MessageFacts) -> list[Finding]:
        findings = []
        for claim in facts.documents():
            params = {"filename": claim.filename}
            if not claim.kind:
                findings.append(
                    Finding(self.name, "bad_name", Severity.REJECT, params, claim.position)
                )
            elif not claim.school:
                params["missing"] = "school"
                findings.append(
                    Finding(self.name, "bad_name", Severity.REJECT, params, claim.position)
                )
            elif Source.FILE is not claim.kind_source or Source.FILE is not claim.school_source:
                # Found through the subject or the roster: accepted, but the name needs fixing.
                findings.append(
                    Finding(self.name, "name_from_subject", Severity.WARN, params, claim.position)
                )
            if claim.kind and claim.school and facts.campaign.roster and not claim.school_in_roster:
                params = {"filename": claim.filename, "school": claim.school}
                findings.append(
                    Finding(self.name, "unknown_school", Severity.WARN, params, claim.position)
                )
        return findings


class OtherFiles:
    """Files that are neither documents nor pictures or video: kept, listed, not judged."""

    name = "other_files"

    def check(self, facts: MessageFacts) -> list[Finding]:
        return [
            Finding(
                self.name, "unsupported_file", Severity.WARN, {"filename": c.filename}, c.position
            )
            for c in facts.claims
            if c.role is Role.OTHER
        ]
