"""Which unit sent which kind of file: read from each file's content, name, then the subject.

A pure function of the parsed message, the campaign and the group the mailbox serves. A
registration table is known by its header row, whatever the file is called; other kinds by
the file name the notice asks for ("XX学校报告") or by their keywords ("联络人"); a campaign
may name one kind that takes any other document (the finished case). It names what it found
and how (from the file, the subject or the roster), and leaves judging to the rules.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, replace

from intake.archives.unpack import is_archive
from intake.campaigns.campaign import Campaign
from intake.campaigns.columns import column_specs, role_column
from intake.campaigns.naming import (
    TABLE_ENDINGS,
    NameMatch,
    fold,
    is_document,
    is_supporting,
    keyword_position,
    looks_like_school,
    match_name,
    split_ending,
    stem_of,
)
from intake.config import KindSettings
from intake.domain import Attachment, ParsedMail
from intake.tables.read import TableError, read_grids
from intake.tables.validate import Sheet, sheet_from


class Role(enum.StrEnum):
    DOCUMENT = "document"  # a file that can be one of the campaign's kinds
    SUPPORTING = "supporting"  # a picture, video or recording that backs a document
    INLINE = "inline"  # part of the mail body (signature logos and the like): not a file
    ARCHIVE = "archive"  # a .zip, .7z, .rar or .eml: its files are judged, not the archive
    OTHER = "other"  # anything else: kept and listed, not judged


class Source(enum.StrEnum):
    FILE = "file"
    SUBJECT = "subject"
    ROSTER = "roster"
    TABLE = "table"  # the unit named in the table's own 区域 or 单位 column
    NONE = "none"


@dataclass(frozen=True)
class FileClaim:
    """One attachment and what its name (or content) claims it is."""

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
    sheet: Sheet | None = None  # the rows of a registration table
    table_error: str = ""  # why a table could not be read
    title: str = ""  # a case's title as the file name gives it
    matched: str = ""  # the title of the registered case this file was matched to


def classify(mail: ParsedMail, campaign: Campaign, group: str) -> list[FileClaim]:
    patterns = campaign.name_patterns()
    subject_match = match_name(mail.subject, patterns) if patterns else None
    documents = [a for a in mail.attachments if _role(a, campaign) is Role.DOCUMENT]
    per_archive = Counter(a.source for a in documents if a.source)
    claims = []
    for position, attachment in enumerate(mail.attachments):
        role = _role(attachment, campaign)
        if role is not Role.DOCUMENT:
            claims.append(FileClaim(position, attachment.filename, role))
            continue
        # The subject speaks for a file only when the message carries one document.
        alone = len(documents) == 1
        claim = _from_table(position, attachment, campaign, mail.subject if alone else "")
        if claim is None and patterns:
            claim = _claim(
                position, attachment.filename, subject_match if alone else None, patterns
            )
            unnamed = claim is None or not claim.school
            if attachment.source and per_archive[attachment.source] == 1 and unnamed:
                # "双流区实验小学改进案例2/改进案例.docx": the folder or archive names the file.
                claim = _claim_from_archive(position, attachment, patterns) or claim
        if claim is None or not claim.kind:
            claim = _by_keywords(position, attachment.filename, mail.subject, alone, campaign)
        claims.append(_sender_if_unnamed(_resolve_school(claim, mail, campaign, group), mail))
    return claims


def _claim_from_archive(
    position: int, attachment: Attachment, patterns: dict[str, str]
) -> FileClaim | None:
    """The claim the innermost folder or archive name makes, as if it were the file's name."""
    ending = split_ending(attachment.filename)[1]
    for name in reversed(attachment.source.split("/")):
        found = match_name(name, patterns)
        if found is not None and found.school:
            claim = _claim(position, split_ending(name)[0] + ending, None, patterns)
            return replace(claim, filename=attachment.filename) if claim is not None else None
    return None


def _role(attachment: Attachment, campaign: Campaign) -> Role:
    if attachment.inline:
        return Role.INLINE
    if is_archive(attachment.filename) and attachment.link is None:
        return Role.ARCHIVE
    if is_document(attachment.filename):
        return Role.DOCUMENT
    tables = any(kind.columns for kind in campaign.kinds.values())
    if tables and split_ending(attachment.filename)[1] in TABLE_ENDINGS:
        return Role.DOCUMENT
    if is_supporting(attachment.filename):
        return Role.SUPPORTING
    return Role.OTHER


def _from_table(
    position: int, attachment: Attachment, campaign: Campaign, subject: str
) -> FileClaim | None:
    """A file whose table has the header row of one of the campaign's table kinds.

    Annex 1 and Annex 3 share columns (单位, 职务, 联系电话), and a finished case may open with
    a table of its team (姓名, 单位, 职务), so every table kind is tried; a Word document counts
    only when it has all the required columns or its name (or the subject, passed only when
    the message carries one document) says which table it is."""
    kinds = [(order, key, kind) for order, (key, kind) in enumerate(campaign.kinds.items())]
    if not any(kind.columns for _, _, kind in kinds):
        return None
    spreadsheet = split_ending(attachment.filename)[1] in TABLE_ENDINGS
    try:  # read once, then look for each kind's header row in it
        grids, error = read_grids(attachment.filename, attachment.payload), ""
    except TableError as failure:
        grids, error = [], str(failure)
    found: list[tuple[int, bool, int, str, Sheet]] = []
    for order, key, kind in kinds:
        if not kind.columns:
            continue
        named = any(
            keyword_position(text, kind.keywords) >= 0
            for text in (attachment.filename, subject)
            if text
        )
        if error:
            if named:
                return _table_claim(position, attachment.filename, subject, key, table_error=error)
            continue
        sheet = sheet_from(grids, column_specs(kind))
        if sheet is None and named:
            sheet = Sheet((), (), _required(kind), "")  # named as the table, but no header
        if sheet is None:
            continue
        if sheet.missing_columns and not (named or spreadsheet):
            continue
        found.append((_matched(kind, sheet), named, -order, key, sheet))
    if not found:
        return None
    _, _, _, key, sheet = max(found, key=lambda item: item[:3])
    return _table_claim(position, attachment.filename, subject, key, sheet, campaign.kinds[key])


def _table_claim(
    position: int,
    filename: str,
    subject: str,
    key: str,
    sheet: Sheet | None = None,
    kind: KindSettings | None = None,
    table_error: str = "",
) -> FileClaim:
    school = _unit_in_table(sheet, kind) if sheet is not None and kind is not None else ""
    return FileClaim(
        position,
        filename,
        Role.DOCUMENT,
        key,
        school,
        "1",
        Source.FILE,
        Source.TABLE if school else Source.NONE,
        other_schools=tuple(name for name in (stem_of(filename), fold(subject)) if name),
        sheet=sheet,
        table_error=table_error,
    )


def _required(kind: KindSettings) -> tuple[str, ...]:
    return tuple(column.name for column in kind.columns if column.required)


def _matched(kind: KindSettings, sheet: Sheet) -> int:
    """How many of the kind's required columns the table has: the table with more of a
    kind's columns is that kind, even when another kind's fewer columns are all there."""
    return len(_required(kind)) - len(sheet.missing_columns)


def _unit_in_table(sheet: Sheet, kind: KindSettings) -> str:
    """Who the table speaks for: the one school all its rows name (a directly-run school's
    own table), else the county (区域) most rows name, else the most named 单位."""
    units = _column_values(sheet, kind, "unit")
    if len(set(units)) == 1 and looks_like_school(units[0]):
        return units[0]
    for values in (_column_values(sheet, kind, "district"), units):
        if values:
            return Counter(values).most_common(1)[0][0]
    return ""


def _column_values(sheet: Sheet, kind: KindSettings, role: str) -> list[str]:
    column = role_column(kind, role)
    values = [record.values.get(column, "") for record in sheet.records] if column else []
    return [value for value in values if value]


def _by_keywords(
    position: int, filename: str, subject: str, alone: bool, campaign: Campaign
) -> FileClaim:
    """Kinds known by keywords, tried in the order the configuration lists them."""
    for source, text in ((Source.FILE, filename), (Source.SUBJECT, subject if alone else "")):
        for key, kind in campaign.kinds.items():
            if kind.columns:
                continue  # table kinds were tried with the file's content and names
            if kind.keywords and text and keyword_position(text, kind.keywords) >= 0:
                return _keyword_claim(position, filename, subject, key, source)
    fallback = next((key for key, kind in campaign.kinds.items() if kind.fallback), "")
    # A spreadsheet that is none of the campaign's tables is no finished document either.
    if fallback and split_ending(filename)[1] not in TABLE_ENDINGS:
        return _keyword_claim(position, filename, subject, fallback, Source.FILE)
    return FileClaim(position, filename, Role.DOCUMENT)


def _keyword_claim(
    position: int, filename: str, subject: str, kind: str, source: Source
) -> FileClaim:
    """The title is the file name's stem; the unit is found in the roster from the names."""
    stem = stem_of(filename)
    written = tuple(name for name in (stem, fold(subject)) if name)
    return FileClaim(
        position,
        filename,
        Role.DOCUMENT,
        kind,
        slot="1",
        kind_source=source,
        other_schools=written,
        title=stem,
    )


def _claim(
    position: int, filename: str, subject: NameMatch | None, patterns: dict[str, str]
) -> FileClaim | None:
    found = match_name(filename, patterns)
    named = found or subject
    if named is None:
        return None
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


def _resolve_school(
    claim: FileClaim, mail: ParsedMail, campaign: Campaign, group: str
) -> FileClaim:
    """Put the roster's spelling on the school, or find the school by the sender's address."""
    roster = campaign.roster
    if claim.role is not Role.DOCUMENT or not claim.kind or not roster:
        return claim
    if claim.sheet is not None or claim.table_error:
        return _resolve_submitter(claim, mail, campaign, group)
    for written, source in (
        (claim.school, claim.school_source),
        *((other, Source.SUBJECT) for other in claim.other_schools),
    ):
        named = roster.by_name(group, written)
        if named is not None:
            source = Source.FILE if written == stem_of(claim.filename) else source
            return replace(claim, school=named.name, school_source=source, school_in_roster=True)
    by_sender = roster.by_sender(group, mail.sender)
    if by_sender is not None and not claim.school:
        return replace(
            claim, school=by_sender.name, school_source=Source.ROSTER, school_in_roster=True
        )
    return claim


def _sender_if_unnamed(claim: FileClaim, mail: ParsedMail) -> FileClaim:
    """A table nobody could be named for is its sender's: a later table from the same address
    replaces it."""
    if claim.school or not (claim.sheet is not None or claim.table_error) or not mail.sender:
        return claim
    return replace(claim, school=mail.sender, school_source=Source.NONE)


def _resolve_submitter(
    claim: FileClaim, mail: ParsedMail, campaign: Campaign, group: str
) -> FileClaim:
    """Who sent a table: its sender's unit, else a unit its name or the subject gives, else
    the unit the table's rows name. A table replaces its sender's earlier rows, so a school
    sending its own table must not be taken for its county."""
    roster = campaign.roster
    by_sender = roster.by_sender(group, mail.sender)
    if by_sender is not None:
        return replace(
            claim, school=by_sender.name, school_source=Source.ROSTER, school_in_roster=True
        )
    for written, source in (
        *((other, Source.FILE) for other in claim.other_schools),
        (claim.school, claim.school_source),
    ):
        named = roster.by_name(group, written)
        if named is not None:
            return replace(claim, school=named.name, school_source=source, school_in_roster=True)
    return claim
