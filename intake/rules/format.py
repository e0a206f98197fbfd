"""The notice's format rules on each Word document: font, sizes, margins, length, signatories.

Which problems refuse the file and which only warn is the campaign's choice (`format.reject`).
Problems of one kind in one part of the document (say, the body's size) are one finding that
quotes the first paragraphs concerned, so the reply stays readable and still says where.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from intake.campaigns.classify import FileClaim
from intake.config import FormatSettings, KindSettings
from intake.documents.docx_facts import DocxFacts, ParagraphFacts
from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts

_QUOTED = 3  # paragraphs quoted per finding
_QUOTE_CHARS = 12


class DocumentFormat:
    name = "format"

    def check(self, facts: MessageFacts) -> list[Finding]:
        rules = facts.campaign.settings.format
        findings: list[Finding] = []
        for claim in facts.documents():
            kind = facts.campaign.kinds.get(claim.kind)
            inspection = facts.inspections.get(claim.position)
            if kind is None or kind.columns or inspection is None:
                continue
            base = {"filename": claim.filename}
            if inspection.error:
                params = {**base, "error": inspection.error}
                findings.append(
                    self._finding("unreadable_document", Severity.REJECT, params, claim)
                )
            elif inspection.unchecked:
                params = {**base, "why": inspection.unchecked}
                findings.append(self._finding("format_unchecked", Severity.WARN, params, claim))
            if inspection.docx is not None:
                findings += self._docx(rules, kind, inspection.docx, claim)
        return findings

    def _docx(
        self, rules: FormatSettings, kind: KindSettings, docx: DocxFacts, claim: FileClaim
    ) -> list[Finding]:
        problems = [
            *_fonts(rules, docx.paragraphs),
            *_sizes(rules, docx.paragraphs),
            *_margins(rules, docx),
            *_limits(kind, docx),
        ]
        return [
            self._finding(
                f"bad_{check}" if check not in ("length", "signatories") else _LIMIT_CODES[check],
                Severity.REJECT if check in rules.reject else Severity.WARN,
                {"filename": claim.filename, "check": check, **params},
                claim,
            )
            for check, params in problems
        ]

    def _finding(
        self, code: str, severity: Severity, params: dict[str, Any], claim: FileClaim
    ) -> Finding:
        return Finding(self.name, code, severity, params, claim.position)


_LIMIT_CODES = {"length": "too_long", "signatories": "too_many_signatories"}
Problem = tuple[str, dict[str, Any]]


def _fonts(rules: FormatSettings, paragraphs: Iterable[ParagraphFacts]) -> list[Problem]:
    if not rules.font:
        return []
    wrong = [p for p in paragraphs if p.east_asia_fonts and p.east_asia_fonts != (rules.font,)]
    return _grouped("font", wrong, lambda p: p.east_asia_fonts, rules.font)


def _sizes(rules: FormatSettings, paragraphs: Iterable[ParagraphFacts]) -> list[Problem]:
    required = {"title": rules.title_size, "author": rules.author_size, "body": rules.body_size}
    problems: list[Problem] = []
    for role, size in required.items():
        if not size:
            continue
        wrong = [p for p in paragraphs if p.role == role and p.sizes and p.sizes != (size,)]
        problems += _grouped("size", wrong, lambda p: p.sizes, size)
    return problems


def _grouped(check: str, wrong: list[ParagraphFacts], found: Any, required: Any) -> list[Problem]:
    """One problem per part of the document (title, author line, body) with its quotes."""
    problems: list[Problem] = []
    for role in ("title", "author", "body", "other"):
        here = [p for p in wrong if p.role == role]
        if not here:
            continue
        values = sorted({value for p in here for value in found(p)}, key=str)
        params = {
            "role": role,
            "required": required,
            "found": values,
            "paragraphs": [_quote(p.text) for p in here[:_QUOTED]],
            "count": len(here),
        }
        problems.append((check, params))
    return problems


def _margins(rules: FormatSettings, docx: DocxFacts) -> list[Problem]:
    if not rules.margin_cm:
        return []
    problems: list[Problem] = []
    for number, margins in enumerate(docx.margins, start=1):
        sides = {
            "上": margins.top_cm,
            "下": margins.bottom_cm,
            "左": margins.left_cm,
            "右": margins.right_cm,
        }
        off = {
            side: value
            for side, value in sides.items()
            if abs(value - rules.margin_cm) > rules.margin_tolerance_cm
        }
        if off:
            params = {"section": number, "sections": len(docx.margins), "required": rules.margin_cm}
            problems.append(("margins", {**params, "found": off}))
    return problems


def _limits(kind: KindSettings, docx: DocxFacts) -> list[Problem]:
    problems: list[Problem] = []
    if kind.max_chars and docx.body_chars > kind.max_chars:
        problems.append(("length", {"max": kind.max_chars, "found": docx.body_chars}))
    if kind.max_signatories and len(docx.signatories) > kind.max_signatories:
        params = {"max": kind.max_signatories, "found": list(docx.signatories)}
        problems.append(("signatories", params))
    return problems


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "…"
