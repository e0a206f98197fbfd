"""The types one unpacking passes around: its limits, what it yields and what it refuses."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal, Protocol

ErrorCode = Literal[
    "zip_bomb",
    "too_many_members",
    "too_large",
    "encrypted",
    "corrupt",
    "too_deep",
    "tool_missing",
    "unsupported",
]
SkipReason = Literal["unsafe_path", "directory", "system_file", "encrypted_member", "symlink"]
Kind = Literal["file", "directory", "symlink", "encrypted"]
Take = Callable[[int], None]

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one attachment may unpack to, nested archives included."""

    max_members: int = 200  # entries in all archives together, folders included
    max_total_bytes: int = 512 * 1024 * 1024  # bytes decompressed in all, nested archives too
    max_ratio: float = 200.0  # declared uncompressed size / archive size, per archive
    max_depth: int = 2  # archives deep, counting the attached one: 2 = one archive inside


@dataclass(frozen=True)
class Member:
    """One file unpacked from an archive."""

    path: str  # its path inside its own archive, decoded, "/" separators
    filename: str  # the last component of path, safe to show and to store
    payload: bytes
    source: str  # the archive it came from: "材料.zip", nested "外层.zip/内层.7z"


@dataclass(frozen=True)
class Skipped:
    """An entry that was deliberately not unpacked.

    path is the entry's path inside the attached archive: for an archive nested in it, the
    nested archive's path comes first ("材料/内层.zip/__MACOSX/._x").
    """

    path: str
    reason: SkipReason


@dataclass(frozen=True)
class Unpacked:
    members: tuple[Member, ...]
    skipped: tuple[Skipped, ...]


class ArchiveError(Exception):
    """An attachment that cannot be unpacked; message says so in Chinese, for the school."""

    def __init__(self, code: ErrorCode, message: str, archive: str = "") -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.archive = archive  # the (nested) archive at fault, e.g. "外层.zip/内层.zip"


@dataclass(frozen=True)
class Archive:
    filename: str
    payload: bytes
    source: str  # as reported in Member.source and in error messages
    prefix: str  # its path inside the attached archive plus "/", "" for the attached one
    depth: int


@dataclass
class Result:
    members: list[Member] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Entry:
    """One entry as the archive's headers describe it, before anything is decompressed."""

    name: str  # decoded, separators as stored
    size: int  # declared uncompressed size
    kind: Kind
    index: int  # the reader's own handle for it


class Reader(Protocol):
    locked: bool  # the whole archive needs a password, even to list it

    def entries(self) -> list[Entry]: ...

    def extract(self, wanted: Sequence[Entry], take: Take) -> Iterator[tuple[Entry, bytes]]:
        """Decompress the wanted entries, calling take(n) before keeping each n bytes."""
        ...

    def close(self) -> None: ...


def read_capped(stream: IO[bytes], take: Take) -> bytes:
    parts: list[bytes] = []
    while chunk := stream.read(_CHUNK):
        take(len(chunk))  # raises before an oversized member is held in memory
        parts.append(chunk)
    return b"".join(parts)
