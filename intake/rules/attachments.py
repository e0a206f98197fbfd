"""Is there a file at all, and does its name say which school and which kind it is?"""

from __future__ import annotations

from typing import Any

from intake.campaigns.classify import FileClaim, Role, Source
from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts


class Archives:
    """An archive that cannot be opened, and members left out for their paths, are named.

    When the message has no other document, the archive's problem is the reason it is
    refused (rather than "no attachment")."""

    name = "archives"

    def check(self, facts: MessageFacts) -> list[Finding]:
        alone = not facts.documents()
        findings = []
        for position, opened in sorted(facts.archives.items()):
            base: dict[str, Any] = {"filename": opened.filename}
            if opened.error:
                params = {**base, "code": opened.error_code, "error": opened.error}
                where = None if alone else position
                findings.append(Finding(self.name, "bad_archive", Severity.REJECT, params, where))
                continue
            if opened.unsafe:
                params = {**base, "paths": list(opened.unsafe)}
                findings.append(
                    Finding(self.name, "unsafe_member", Severity.WARN, params, position)
                )
            if opened.locked:
                params = {**base, "paths": list(opened.locked)}
                findings.append(
                    Finding(self.name, "locked_member", Severity.WARN, params, position)
                )
        return findings


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
            elif _named_elsewhere(facts, claim):
                # Found through the subject or the roster: accepted, but the name needs fixing.
                findings.append(
                    Finding(self.name, "name_from_subject", Severity.WARN, params, claim.position)
                )
            if _unknown_unit(facts, claim):
                params = {"filename": claim.filename, "school": claim.school}
                findings.append(
                    Finding(self.name, "unknown_school", Severity.WARN, params, claim.position)
                )
        return findings


def _named_elsewhere(facts: MessageFacts, claim: FileClaim) -> bool:
    """A file the notice gives a name for, whose name did not say its kind and school."""
    if not facts.campaign.kinds[claim.kind].name_pattern:
        return False
    return Source.FILE is not claim.kind_source or Source.FILE is not claim.school_source


def _unknown_unit(facts: MessageFacts, claim: FileClaim) -> bool:
    if not (claim.kind and claim.school and facts.campaign.roster) or claim.school_in_roster:
        return False
    # An unregistered case is reported as such; its unit is often only the sender's address.
    return not facts.campaign.kinds[claim.kind].registered_in


class RegisteredCase:
    """A finished case should answer a case registered earlier; one that does not is kept,
    and organizers are shown it."""

    name = "registered_case"

    def check(self, facts: MessageFacts) -> list[Finding]:
        findings = []
        for claim in facts.documents():
            kind = facts.campaign.kinds.get(claim.kind)
            if kind is None or not kind.registered_in:
                continue
            params = {"filename": claim.filename, "title": claim.title, "unit": claim.school}
            if claim.matched:
                findings.append(
                    Finding(self.name, "registered_case", Severity.INFO, params, claim.position)
                )
            else:
                findings.append(
                    Finding(self.name, "unregistered_case", Severity.WARN, params, claim.position)
                )
        return findings


class LargeFiles:
    """超大附件 links: kept as files to download, or, when they are not kept, named so the
    school knows to send them as attachments."""

    name = "large_files"

    def check(self, facts: MessageFacts) -> list[Finding]:
        findings = []
        kept = set()
        for position, attachment in enumerate(facts.mail.attachments):
            if attachment.link is None:
                continue
            kept.add(attachment.link.url)
            params = {
                "filename": attachment.filename,
                "size": attachment.link.size_text,
                "expires": attachment.link.expires_text,
            }
            findings.append(Finding(self.name, "large_file_link", Severity.INFO, params, position))
        attached = {attachment.filename for attachment in facts.mail.attachments}
        for link in facts.mail.links:
            # A link to a file that is attached as well needs nothing from the school.
            if link.url not in kept and link.filename not in attached:
                params = {"filename": link.filename, "size": link.size_text}
                findings.append(Finding(self.name, "large_file_not_kept", Severity.WARN, params))
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
