"""A message's archives opened into files of their own, judged like direct attachments.

The archive stays where it was (kept as sent); its members are added after the message's
attachments, each noting the archive (and folder) it came from. What could not be opened,
and members left out, are reported for the rules to explain.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, replace

from intake.archives.unpack import ArchiveError, Limits, Member, is_archive, unpack
from intake.domain import Attachment, ParsedMail


@dataclass(frozen=True)
class Opened:
    """What became of one attached archive."""

    filename: str
    members: int = 0
    unsafe: tuple[str, ...] = ()  # member paths left out: "../x", "/etc/passwd", links
    locked: tuple[str, ...] = ()  # members behind a password
    error_code: str = ""
    error: str = ""  # why it could not be opened, for the school


def expand_archives(mail: ParsedMail, limits: Limits) -> tuple[ParsedMail, dict[int, Opened]]:
    """Every archive of the message opened, all of them together within `limits`: ten
    archives do not get ten times the room."""
    members: list[Attachment] = []
    opened: dict[int, Opened] = {}
    for position, attachment in enumerate(mail.attachments):
        if attachment.inline or attachment.link is not None or not is_archive(attachment.filename):
            continue
        try:
            unpacked = unpack(attachment.filename, attachment.payload, _left(limits, members))
        except ArchiveError as error:
            opened[position] = Opened(
                attachment.filename, error_code=error.code, error=error.message
            )
            continue
        # Word's lock files ("~$报告.docx") come along when a folder is zipped while open.
        kept = [m for m in unpacked.members if not m.filename.startswith("~$")]
        members += [_attachment(member) for member in kept]
        skipped = unpacked.skipped
        opened[position] = Opened(
            attachment.filename,
            len(kept),
            unsafe=tuple(s.path for s in skipped if s.reason in ("unsafe_path", "symlink")),
            locked=tuple(s.path for s in skipped if s.reason == "encrypted_member"),
        )
    if not members:
        return mail, opened
    return replace(mail, attachments=mail.attachments + tuple(members)), opened


def _left(limits: Limits, taken: list[Attachment]) -> Limits:
    used = sum(len(member.payload) for member in taken)
    return replace(
        limits,
        max_members=max(limits.max_members - len(taken), 1),
        max_total_bytes=max(limits.max_total_bytes - used, 1),
    )


def _attachment(member: Member) -> Attachment:
    """A member as a file of the message. Its folders count as names too: in
    "改进案例2/改进案例.docx" the folder says which case it is."""
    folder = member.path.rpartition("/")[0]
    source = f"{member.source}/{folder}" if folder else member.source
    return Attachment(
        member.filename, _content_type(member.filename), member.payload, source=source
    )


def _content_type(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"
