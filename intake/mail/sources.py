"""Messages from files (.eml files or a folder of them), for the demo and for trials.

A file has no INTERNALDATE, so its receive time is the date of its newest Received: header
(the receiving server's clock), and only when there is none the sender's Date: header.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path

from intake.domain import RawMail


class UnknownReceiveTime(ValueError):
    """A file with neither a Received: nor a Date: header that can be read."""


def header_of(raw: bytes) -> bytes:
    """The message's header block alone, ended by an empty line."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(ends)] + b"\r\n\r\n" if ends else raw


def receive_time(raw: bytes) -> datetime:
    # The header alone: the parser would read the whole body line by line to skip it.
    headers = BytesHeaderParser(policy=compat32).parsebytes(header_of(raw))
    for value in headers.get_all("Received", []):
        stamp = _parse(str(value).rpartition(";")[2])
        if stamp is not None:
            return stamp  # the first Received: header is the newest hop: our server
    stamp = _parse(str(headers.get("Date", "")))
    if stamp is None:
        raise UnknownReceiveTime("neither Received: nor Date: gives a receive time")
    return stamp


def _parse(text: str) -> datetime | None:
    try:
        stamp = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return stamp if stamp.tzinfo is not None else None


def eml_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.eml") if path.is_file())


def read_eml(path: Path, mailbox: str, position: int) -> RawMail:
    """One file as a RawMail; its folder is the file's own name, so each has one place."""
    raw = path.read_bytes()
    return RawMail(mailbox, f"file:{path.name}", 0, position, receive_time(raw), raw)


def read_folder(folder: Path, mailbox: str) -> Iterator[RawMail]:
    for position, path in enumerate(eml_files(folder), start=1):
        yield read_eml(path, mailbox, position)
