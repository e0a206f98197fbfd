"""A registration table must be readable and have its columns; each bad row is named.

Good rows are kept even when others are bad, so a county fixes only what the reply lists.
A table with no good row at all is refused as a whole.
"""

from __future__ import annotations

from intake.domain import Severity
from intake.rules.base import Finding, MessageFacts


class TableRows:
    name = "table_rows"

    def check(self, facts: MessageFacts) -> list[Finding]:
        findings: list[Finding] = []
        for claim in facts.documents():
            params = {"filename": claim.filename}
            if claim.table_error:
                params["error"] = claim.table_error
                findings.append(
                    Finding(self.name, "unreadable_table", Severity.REJECT, params, claim.position)
                )
                continue
            sheet = claim.sheet
            if sheet is None:
                continue
            if sheet.missing_columns:
                missing = {**params, "columns": list(sheet.missing_columns)}
                findings.append(
                    Finding(self.name, "missing_columns", Severity.REJECT, missing, claim.position)
                )
                continue
            for problem in sheet.problems:
                row = {
                    **params,
                    "row": problem.row,
                    "column": problem.column,
                    "value": problem.value,
                    "problem": problem.code,
                    "allowed": list(problem.allowed),
                }
                findings.append(Finding(self.name, "bad_row", Severity.WARN, row, claim.position))
            if not sheet.records:
                findings.append(
                    Finding(self.name, "no_good_rows", Severity.REJECT, params, claim.position)
                )
        return findings
