"""Which school sent which kind of file: read from each attachment's name, then the subject.

A pure function of the parsed message, the campaign and the group the mailbox serves. It
names what it found and how (from the file name, the subject or the roster), and leaves
judging to the rules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from intake.campaigns.campaign import Campaign
from intake.campaigns.naming import (
    NameMatch,
    is_document,
    is_supporting,
    looks_like_school,
    match_name,
)
from intake.domain import Attachment, ParsedMail


class Role(enum.StrEnum):
    DOCUMENT = "document"  # a file that can be one of the campaign's kinds
    SUPPORTING = "supporting"  # a picture, video or recording that backs a document
    INLINE = "inline"  # part of the mail body (signature logos and the like): not a file
    OTHER = "other"  # anything else: kept and listed, not judged


class Source(enum.StrEnum):
    FILE = "file"
    SUBJECT = "subject"
    ROSTER = "roster"
    NONE = "none"


@dataclass(frozen=True)
class FileClaim:
    """One attachment and what its name claims it is."""

    position: int
    filename: str
    role: Role
    kind: str = ""
    school: str = ""
    slot: str = ""
    kind_source: Source = Source.NONE
    school_source: Source = Source.NONE
    school_in_roster: bool = False
    other_schools: tuple[str, ...] = ()  # other names the message gave, tried in the roster


def classify(mail: ParsedMail, campaign: Campaign, group: str) -> list[FileClaim]:
    patterns = campaign.name_patterns()
    subject_match = match_name(mail.subject, patterns)
    documents = [a for a in mail.attachments if _role(a) is Role.DOCUMENT]
    claims = []
    for position, attachment in enumerate(mail.attachments):
        role = _role(attachment)
        if role is not Role.DOCUMENT:
            claims.append(FileClaim(position, attachment.filename, role))
            continue
        # The subject speaks for a file only when the message carries one document.
        fallback = subject_match if len(documents) == 1 else None
        claims.append(_claim(position, attachment.filename, fallback, patterns))
    return [_resolve_school(claim, mail, campaign, group) for claim in claims]


def _role(attachment: Attachment) -> Role:
    if attachment.inline:
        return Role.INLINE
    if is_document(attachment.filename):
        return Role.DOCUMENT
    if is_supporting(attachment.filename):
        return Role.SUPPORTING
    return Role.OTHER


def _claim(
    position: int, filename: str, subject: NameMatch | None, patterns: dict[str, str]
) -> FileClaim:
    found = match_name(filename, patterns)
    named = found or subject
    if named is None:
        return FileClaim(position, filename, Role.DOCUMENT)
    kind_source = Source.FILE if found else Source.SUBJECT
    options = [
        (m.school, source)
        for m, source in ((found, Source.FILE), (subject, Source.SUBJECT))
        if m is not None and m.school
    ]
    # A file named after the activity ("…改进活动报告") names no school; the subject may.
    school, school_source = next(
        (option for option in options if looks_like_school(option[0])),
        options[0] if options else ("", Source.NONE),
    )
    others = tuple(name for name, _ in options if name != school)
    return FileClaim(
        position,
        filename,
        Role.DOCUMENT,
        named.kind,
        school,
        named.slot,
        kind_source,
        school_source,
        other_schools=others,
    )


def _source(school: str, source: Source) -> Source:
    return source if school else Source.NONE


def _resolve_school(
    claim: FileClaim, mail: ParsedMail, campaign: Campaign, group: str
) -> FileClaim:
    """Put the roster's spelling on the school, or find the school by the sender's address."""
    roster = campaign.roster
    if claim.role is not Role.DOCUMENT or not claim.kind or not roster:
        return claim
    for written, source in (
        (claim.school, claim.school_source),
        *((other, Source.SUBJECT) for other in claim.other_schools),
    ):
        named = roster.by_name(group, written)
        if named is not None:
            return replace(claim, school=named.name, school_source=source, school_in_roster=True)
    by_sender = roster.by_sender(group, mail.sender)
    if by_sender is not None and not claim.school:
        return replace(
            claim, school=by_sender.name, school_source=Source.ROSTER, school_in_roster=True
        )
    return claim
