"""A message's archives opened into files of their own, judged like direct attachments.

The archive stays where it was (kept as sent); its members are added after the message's
attachments, each noting the archive it came from. What could not be opened, and members
left out for their paths, are reported for the rules to explain.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, replace

from intake.archives.unpack import ArchiveError, Limits, Skipped, is_archive, unpack
from intake.domain import Attachment, ParsedMail


@dataclass(frozen=True)
class Opened:
    """What became of one attached archive."""

    filename: str
    members: int = 0
    unsafe: tuple[str, ...] = ()  # member paths left out: "../x", "/etc/passwd"
    error_code: str = ""
    error: str = ""  # why it could not be opened, for the school


def expand_archives(mail: ParsedMail, limits: Limits) -> tuple[ParsedMail, dict[int, Opened]]:
    members: list[Attachment] = []
    opened: dict[int, Opened] = {}
    for position, attachment in enumerate(mail.attachments):
        if attachment.inline or attachment.link is not None or not is_archive(attachment.filename):
            continue
        try:
            unpacked = unpack(attachment.filename, attachment.payload, limits)
        except ArchiveError as error:
            opened[position] = Opened(
                attachment.filename, error_code=error.code, error=error.message
            )
            continue
        members += [
            Attachment(m.filename, _content_type(m.filename), m.payload, source=m.source)
            for m in unpacked.members
        ]
        unsafe = tuple(s.path for s in unpacked.skipped if _unsafe(s))
        opened[position] = Opened(attachment.filename, len(unpacked.members), unsafe)
    if not members:
        return mail, opened
    return replace(mail, attachments=mail.attachments + tuple(members)), opened


def _unsafe(skipped: Skipped) -> bool:
    return skipped.reason in ("unsafe_path", "symlink", "encrypted_member")


def _content_type(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"
