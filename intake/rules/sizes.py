"""Size limits: a message or a file too large to handle safely is refused with a reply that
says how to send it instead, never opened (and a large message is never even downloaded)."""

from __future__ import annotations

from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts

MB = 1024 * 1024


def megabytes(size: int) -> str:
    return f"{size / MB:.1f}"


class MessageSize:
    name = "message_size"

    def check(self, facts: MessageFacts) -> list[Finding]:
        if not facts.max_size or facts.size <= facts.max_size:
            return []
        params = {"size_mb": megabytes(facts.size), "max_mb": facts.max_size // MB}
        return [Finding(self.name, "message_too_large", Severity.REJECT, params)]


class AttachmentSize:
    name = "attachment_size"

    def check(self, facts: MessageFacts) -> list[Finding]:
        findings = []
        for claim in facts.claims:
            size = len(facts.mail.attachments[claim.position].payload)
            if facts.max_attachment and size > facts.max_attachment:
                params = {
                    "filename": claim.filename,
                    "size_mb": megabytes(size),
                    "max_mb": facts.max_attachment // MB,
                }
                findings.append(
                    Finding(
                        self.name, "attachment_too_large", Severity.REJECT, params, claim.position
                    )
                )
        return findings
