"""Forwarded messages (.eml), whose attachments are unpacked like an archive's members."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from intake.archives.members import Entry, Take
from intake.archives.names import UNNAMED
from intake.mail.parse import parse_mail


class MailReader:
    """A forwarded message: its attachments are its members, inline images are not."""

    locked = False

    def __init__(self, payload: bytes) -> None:
        parsed = parse_mail(payload)
        self._files = [attachment for attachment in parsed.attachments if not attachment.inline]

    def close(self) -> None:
        return None

    def entries(self) -> list[Entry]:
        return [
            Entry(attachment.filename or UNNAMED, len(attachment.payload), "file", index)
            for index, attachment in enumerate(self._files)
        ]

    def extract(self, wanted: Sequence[Entry], take: Take) -> Iterator[tuple[Entry, bytes]]:
        for entry in wanted:
            payload = self._files[entry.index].payload
            take(len(payload))
            yield entry, payload
