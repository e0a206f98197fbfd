"""A decided message's files in the ledger: each attachment archived and recorded, an entry
for each accepted one (retiring the versions it replaces), and its 超大附件 links noted.

Runs inside the message's transaction; nothing here commits.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from intake.documents.docx_facts import DocxFacts
from intake.documents.inspect import Inspection
from intake.domain import Attachment, Decision, ParsedMail
from intake.rules.base import MessageFacts
from intake.rules.chain import Verdict
from intake.store import ledger
from intake.store.archive import Archive
from intake.store.models import Message, StoredAttachment


def record_files(
    session: Session,
    archive: Archive,
    now: datetime,
    message: Message,
    mail: ParsedMail,
    facts: MessageFacts,
    verdict: Verdict,
) -> tuple[dict[int, str], dict[int, int]]:
    """Archive every attachment, and make an entry for each accepted one.

    Returns each file's name as replies show it, and its row id, by position."""
    placements = {p.position: p for p in verdict.placements}
    links = kept_links(mail, verdict)
    filenames, stored = {}, {}
    for position, attachment in enumerate(mail.attachments):
        row = _stored_row(session, archive, message, position, attachment, facts, verdict)
        # A file from an archive is shown with its archive: "材料.zip/报告.docx".
        shown = f"{attachment.source}/{attachment.filename}" if attachment.source else None
        filenames[position], stored[position] = shown or attachment.filename, row.id
        if attachment.link is not None and attachment.link.url in links:
            ledger.add_large_file(session, message, row, attachment.link, facts.campaign.zone, now)
        placement = placements.get(position)
        if placement is not None:
            slot = ledger.Slot(
                message.campaign,
                message.group,
                placement.school,
                placement.kind,
                placement.slot,
            )
            ledger.add_entry(session, message, row, slot, placement.version)
    return filenames, stored


def _stored_row(
    session: Session,
    archive: Archive,
    message: Message,
    position: int,
    attachment: Attachment,
    facts: MessageFacts,
    verdict: Verdict,
) -> StoredAttachment:
    if attachment.link is None:
        sha, path = archive.store_file(attachment.payload, attachment.filename or "attachment")
        stored_path = str(path)
    else:
        sha, stored_path = "", ""  # a 超大附件: stored once downloaded
    claim = facts.claims[position]
    row = StoredAttachment(
        message=message,
        position=position,
        filename=attachment.filename,
        stored_path=stored_path,
        sha256=sha,
        size=len(attachment.payload),
        content_type=attachment.content_type,
        kind=claim.kind,
        school=claim.school,
        slot=claim.slot,
        outcome=verdict.outcomes.get(position, ""),
        facts=_facts_of(facts.inspections.get(position)),
        source=attachment.source,
    )
    session.add(row)
    session.flush()
    return row


def kept_links(mail: ParsedMail, verdict: Verdict) -> set[str]:
    """The 超大附件 links to download: files of an accepted message that were taken."""
    if verdict.decision is not Decision.ACCEPTED:
        return set()
    return {
        attachment.link.url
        for position, attachment in enumerate(mail.attachments)
        if attachment.link is not None
        and verdict.outcomes.get(position) in ("accepted", "supporting")
    }


def note_links_not_kept(
    session: Session,
    message: Message,
    mail: ParsedMail,
    zone: ZoneInfo,
    now: datetime,
    kept: set[str],
) -> None:
    """Record every 超大附件 link not taken as a file, so organizers see what it was and when
    it expires."""
    for link in mail.links:
        if link.url not in kept:
            ledger.add_large_file(session, message, None, link, zone, now)


def _facts_of(inspection: Inspection | None) -> dict[str, Any]:
    """What opening the file found, kept with it for organizers (`intake explain`): a summary,
    not the document. A Word file's paragraphs are kept as their distinct styles (see
    `docx_summary`); the rules judged the whole inspection before this, and reprocessing
    opens the archived file again. Empty and false values are left out."""
    if inspection is None:
        return {}
    found: dict[str, Any] = {}
    if inspection.docx is not None:
        found["docx"] = docx_summary(inspection.docx)
    if inspection.pdf is not None:
        found["pdf"] = asdict(inspection.pdf)
    if inspection.converted:
        found["converted"] = True
    if inspection.error:
        found["error"] = inspection.error
    if inspection.unchecked:
        found["unchecked"] = inspection.unchecked
    return found


#: Styles kept per document; a document with more distinct ones says how many were left out.
MAX_STYLES = 40
#: Characters of a style's first paragraph kept to show where it is used.
EXCERPT_CHARS = 20


def docx_summary(docx: DocxFacts) -> dict[str, Any]:
    """A Word file's facts with its paragraphs folded into their distinct styles: each
    (role, East Asian fonts, Latin fonts, sizes, bold) once, in the order it first appears,
    with how many paragraphs show it, the first one's index and the start of its text
    (`latin_fonts` and `bold` only when there are some, and when it is).

    A report of thirty body paragraphs is three styles (title, author line, body): a few
    hundred bytes instead of every paragraph's text."""
    styles: dict[tuple[Any, ...], dict[str, Any]] = {}
    for paragraph in docx.paragraphs:
        key = (
            paragraph.role,
            paragraph.east_asia_fonts,
            paragraph.latin_fonts,
            paragraph.sizes,
            paragraph.bold,
        )
        style = styles.get(key)
        if style is None:
            style = styles[key] = {
                "role": paragraph.role,
                "east_asia_fonts": list(paragraph.east_asia_fonts),
                "sizes": list(paragraph.sizes),
                "paragraphs": 1,
                "first": paragraph.index,
                "excerpt": paragraph.text[:EXCERPT_CHARS],
            }
            # Most text has no Latin font of its own and is not bold: said only when it is.
            if paragraph.latin_fonts:
                style["latin_fonts"] = list(paragraph.latin_fonts)
            if paragraph.bold:
                style["bold"] = True
        else:
            style["paragraphs"] += 1
    kept = list(styles.values())
    summary: dict[str, Any] = {
        "styles": kept[:MAX_STYLES],
        "paragraph_count": len(docx.paragraphs),
        "margins": [asdict(margin) for margin in docx.margins],
        "body_chars": docx.body_chars,
        "total_chars": docx.total_chars,
        "signatories": list(docx.signatories),
        "pictures": docx.pictures,
        "videos": docx.videos,
    }
    if len(kept) > MAX_STYLES:
        summary["styles_left_off"] = len(kept) - MAX_STYLES
    return summary
