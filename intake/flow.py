"""One message, end to end: archive, parse, classify, judge, record and queue the reply.

The raw bytes are on disk before anything else happens. Deciding is pure (rules/); the
decision, the files, the findings, the entries and the reply are then written in one
transaction. A message whose handling raises is recorded as quarantined with its traceback,
so the poll goes on and nothing is lost.
"""

from __future__ import annotations

import errno
import logging
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from intake.archives.unpack import Limits
from intake.campaigns.campaign import Campaign, MailboxRef
from intake.campaigns.cases import match_cases
from intake.campaigns.classify import FileClaim, Role, classify
from intake.clock import Clock
from intake.config import LargeFileSettings, ReplySettings, SizeSettings
from intake.documents.inspect import Inspection, inspect
from intake.domain import Decision, ParsedMail, RawMail
from intake.outbox import enqueue
from intake.prepare import Prepared, Reading, openable, parsed, unpacked
from intake.replies import answer_address, compose
from intake.rules.base import MessageFacts
from intake.rules.chain import Verdict, evaluate
from intake.store import ledger
from intake.store.archive import Archive
from intake.store.db import transaction
from intake.store.message_files import kept_links, note_links_not_kept, record_files
from intake.store.models import Location, Message

log = logging.getLogger(__name__)

# Failures of the machine, not of the message: a full disk or quota, a failing or read-only
# file system. Quarantining would blame the message; failing the poll makes it fetched again.
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


@dataclass
class Intake:
    """What handling a message needs, built once per run."""

    factory: sessionmaker[Session]
    archive: Archive
    replies: ReplySettings
    templates: Environment
    clock: Clock
    own_accounts: frozenset[str]
    large_files: LargeFileSettings = field(default_factory=LargeFileSettings)
    archive_limits: Limits = field(default_factory=Limits)
    soffice: str | None = None  # LibreOffice, to read .doc and .wps; None when not installed
    # False while replaying an inbox: replies are written but kept back ("suppressed").
    answer: bool = True
    sizes: SizeSettings = field(default_factory=SizeSettings)

    @property
    def reading(self) -> Reading:
        return Reading(self.sizes, self.large_files, self.archive_limits, self.soffice)


def handle(
    intake: Intake, ref: MailboxRef, raw: RawMail, prepared: Prepared | None = None
) -> Message:
    """Record one fetched message exactly once and return its ledger row; `prepared` is
    what was read of it already (by a worker process), else it is read here."""
    sha, raw_path = intake.archive.store_raw(raw.raw)
    with transaction(intake.factory) as session:
        known = ledger.message_by_sha(session, sha)
        if known is not None:
            if ledger.add_location(session, known, raw):
                log.info(
                    "%s %s/%s uid %s: already recorded as #%s",
                    ref.key,
                    raw.mailbox,
                    raw.folder,
                    raw.uid,
                    known.id,
                )
            return known
    try:
        return _decide_and_record(intake, ref, raw, sha, str(raw_path), prepared=prepared)
    except Exception as error:  # any failure must end in quarantine, not a lost message
        if _machine_fault(error):
            raise  # the database or the disk, not the message: the next poll fetches it again
        return _quarantine(intake, ref, raw, sha, str(raw_path), error)


def retry(intake: Intake, ref: MailboxRef, message: Message, first: Location) -> Message:
    """Handle a quarantined message again from its archived bytes, in the same ledger row."""
    raw = RawMail(
        message.mailbox,
        first.folder,
        first.uidvalidity,
        first.uid,
        message.received_at,
        b"",
        message.size,
    )
    try:
        raw = replace(raw, raw=Path(message.raw_path).read_bytes())
        return _decide_and_record(intake, ref, raw, message.sha256, message.raw_path, message.id)
    except Exception as error:  # still failing: stays in quarantine with the new error
        if _machine_fault(error):
            raise
        return _quarantine(intake, ref, raw, message.sha256, message.raw_path, error, message.id)


def _machine_fault(error: Exception) -> bool:
    """A locked or broken database, a full or failing disk: nothing the message did."""
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, OSError) and error.errno in ENVIRONMENT_ERRNOS


def _decide_and_record(
    intake: Intake,
    ref: MailboxRef,
    raw: RawMail,
    sha: str,
    raw_path: str,
    existing: int | None = None,
    prepared: Prepared | None = None,
) -> Message:
    ready = prepared or _read(intake, raw)
    mail, opened = ready.mail, ready.opened
    with transaction(intake.factory) as session:
        facts = _facts(session, intake, ref, raw, mail, ready=ready.inspections)
        facts = replace(facts, archives=opened)
        verdict = evaluate(facts)
        # What it was about: the kinds accepted, else the kinds its files claimed.
        placed = {p.kind for p in verdict.placements}
        message = _new_message(
            session,
            ref,
            raw,
            sha,
            raw_path,
            intake.clock.now(),
            existing,
            decision=str(verdict.decision),
            reasons=verdict.reasons,
            warnings=verdict.warnings,
            message_id=mail.message_id,
            sender=mail.sender,
            sender_name=mail.sender_name,
            subject=mail.subject,
            school=next((p.school for p in verdict.placements), _named_school(facts)),
            kinds=sorted(placed or {c.kind for c in facts.claims if c.kind}),
            stage=_stage(facts, verdict),
        )
        now = intake.clock.now()
        filenames, stored = record_files(
            session, intake.archive, now, message, mail, facts, verdict
        )
        if verdict.decision in (Decision.ACCEPTED, Decision.REJECTED):
            kept = kept_links(mail, verdict)
            note_links_not_kept(session, message, mail, ref.campaign.zone, now, kept)
        tables = {(p.kind, p.school) for p in verdict.placements if facts.claims[p.position].sheet}
        ledger.register_rows(session, message, tables, stored, verdict.rows)
        ledger.add_findings(session, message, verdict.findings)
        if verdict.decision in (Decision.ACCEPTED, Decision.REJECTED):
            _queue_reply(session, intake, ref, message, mail, verdict, filenames)
        intake.archive.flush()  # the raw message and its files are on disk before the commit
    _log(ref, raw, message)
    return message


def judge(
    intake: Intake, ref: MailboxRef, message: Message
) -> tuple[ParsedMail, MessageFacts, Verdict]:
    """Judge a recorded message again from its archived bytes with today's configuration, as
    if the ledger held everything but itself. Writes nothing."""
    raw = RawMail(
        message.mailbox,
        "",
        0,
        0,
        message.received_at,
        Path(message.raw_path).read_bytes(),
        message.size,
    )
    ready = _read(intake, raw)
    mail, opened = ready.mail, ready.opened
    with intake.factory() as session:
        facts = replace(_facts(session, intake, ref, raw, mail, message.id), archives=opened)
    return mail, facts, evaluate(facts)


def _read(intake: Intake, raw: RawMail) -> Prepared:
    """The message read in this process; its documents are opened later, only those the
    rules claim."""
    mail, opened = unpacked(intake.reading, parsed(intake.reading, raw))
    return Prepared(mail, opened, {})


def _facts(
    session: Session,
    intake: Intake,
    ref: MailboxRef,
    raw: RawMail,
    mail: ParsedMail,
    leaving_out: int | None = None,
    ready: dict[int, Inspection] | None = None,
) -> MessageFacts:
    registered = ledger.registered(session, ref.campaign.id, leaving_out)
    campaign = _with_contact_senders(session, ref.campaign)
    claims = tuple(
        match_cases(
            classify(mail, campaign, ref.group),
            campaign,
            registered,
            mail.subject,
            mail.sender,
        )
    )
    earlier = ledger.message_by_message_id(session, mail.message_id, leaving_out)
    schools = [claim.school for claim in claims if claim.school]
    return MessageFacts(
        mail=mail,
        received_at=raw.received_at,
        campaign=campaign,
        group=ref.group,
        claims=claims,
        own_accounts=intake.own_accounts,
        same_message_id_as=earlier.id if earlier is not None else None,
        holdings=ledger.holdings(session, ref.campaign.id, ref.group, schools, leaving_out),
        registered=registered,
        inspections=_inspect(intake, campaign, mail, claims, ready or {}),
        size=raw.full_size,
        max_size=intake.sizes.max_message_bytes,
        max_attachment=intake.sizes.max_attachment_bytes,
    )


def _inspect(
    intake: Intake,
    campaign: Campaign,
    mail: ParsedMail,
    claims: tuple[FileClaim, ...],
    ready: dict[int, Inspection],
) -> dict[int, Inspection]:
    """Open every document claimed for a kind that is not a table (not downloaded yet, or
    over the size limit: not opened); one opened already is not opened again."""
    found = {}
    for claim in claims:
        kind = campaign.kinds.get(claim.kind)
        attachment = mail.attachments[claim.position]
        if not openable(intake.reading, attachment):
            continue
        if claim.role is Role.DOCUMENT and kind is not None and not kind.columns:
            found[claim.position] = ready.get(claim.position) or inspect(
                attachment.filename, attachment.payload, intake.soffice
            )
    return found


def _with_contact_senders(session: Session, campaign: Campaign) -> Campaign:
    """The campaign with its roster knowing the QQ addresses of registered contacts.

    Only where a roster is configured: without one, every unit is unlisted alike."""
    senders = ledger.contact_senders(session, campaign) if campaign.roster else {}
    if not senders:
        return campaign
    return replace(campaign, roster=campaign.roster.with_senders(senders))


def _stage(facts: MessageFacts, verdict: Verdict) -> str:
    """The stage of the message's first placed (else claimed) kind, else the one open then."""
    kinds = [p.kind for p in verdict.placements] + [c.kind for c in facts.claims if c.kind]
    if kinds:
        return facts.campaign.stage_of(kinds[0]).key
    return facts.campaign.stage_at(facts.received_at).key


def _named_school(facts: MessageFacts) -> str:
    """The school a message speaks for: from its files, else the roster's entry for the sender."""
    named = next((claim.school for claim in facts.claims if claim.school), "")
    if named:
        return named
    by_sender = facts.campaign.roster.by_sender(facts.group, facts.mail.sender)
    return by_sender.name if by_sender is not None else ""


def _new_message(
    session: Session,
    ref: MailboxRef,
    raw: RawMail,
    sha: str,
    raw_path: str,
    now: datetime,
    existing: int | None = None,
    **fields: Any,
) -> Message:
    """Add the ledger row, give it its receipt number and note where it was seen; or, for a
    message handled again, bring its existing row (same id, same receipt) up to date."""
    if existing is not None:
        row = session.get(Message, existing)
        assert row is not None
        for name, value in {"error": "", **fields}.items():
            setattr(row, name, value)
        return row
    message = Message(
        sha256=sha,
        recorded_at=now,
        campaign=ref.campaign.id,
        group=ref.group,
        mailbox=raw.mailbox,
        received_at=raw.received_at,
        raw_path=raw_path,
        size=raw.full_size,
        **fields,
    )
    session.add(message)
    session.flush()  # the id makes the receipt number
    message.receipt = f"{ref.campaign.settings.receipt_prefix}-{message.id:05d}"
    ledger.add_location(session, message, raw)
    return message


def _queue_reply(
    session: Session,
    intake: Intake,
    ref: MailboxRef,
    message: Message,
    mail: ParsedMail,
    verdict: Verdict,
    filenames: dict[int, str],
) -> None:
    recipient = answer_address(mail, intake.replies.use_reply_to)
    if not recipient:
        log.warning("#%s has no address a reply can be sent to; no reply", message.id)
        return
    now = intake.clock.now()
    reply = compose(
        intake.templates,
        ref,
        mail,
        verdict,
        stage=ref.campaign.stage(message.stage),
        school=message.school,
        receipt=message.receipt,
        received_at=message.received_at,
        filenames=filenames,
        now=now,
        recipient=recipient,
    )
    local_midnight = ref.campaign.day_start(now)
    enqueue(session, message, ref.account, reply, intake.replies, local_midnight, intake.answer)


def _quarantine(
    intake: Intake,
    ref: MailboxRef,
    raw: RawMail,
    sha: str,
    raw_path: str,
    error: Exception,
    existing: int | None = None,
) -> Message:
    log.exception("%s %s uid %s: quarantined", ref.key, raw.folder, raw.uid)
    with transaction(intake.factory) as session:
        message = _new_message(
            session,
            ref,
            raw,
            sha,
            raw_path,
            intake.clock.now(),
            existing,
            message_id="",
            sender="",
            decision=str(Decision.QUARANTINED),
            reasons=["processing_error"],
            error="".join(traceback.format_exception(error)),
        )
        intake.archive.flush()
    return message


def _log(ref: MailboxRef, raw: RawMail, message: Message) -> None:
    log.info(
        "%s %s uid %s: #%s %s %s from %s school=%s kinds=%s reasons=%s warnings=%s",
        ref.key,
        raw.folder,
        raw.uid,
        message.id,
        message.receipt,
        message.decision,
        message.sender,
        message.school or "-",
        ",".join(message.kinds) or "-",
        ",".join(message.reasons) or "-",
        ",".join(message.warnings) or "-",
    )
