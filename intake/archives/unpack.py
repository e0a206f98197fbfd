"""Unpack what schools attach (.zip, .7z, .rar, forwarded .eml) without trusting it.

Everything happens in memory. Limits are checked twice: on what the headers declare (member
count, total size, compression ratio) before anything is decompressed, and again on every
chunk while it streams, because headers can lie. Archives nested inside are unpacked too, up
to Limits.max_depth, and the whole tree shares one budget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Final

import py7zr.exceptions
import rarfile

# Named as before the split: tests switch its checks off through this module.
from intake.archives.budget import Budget as _Budget
from intake.archives.eml_reader import MailReader
from intake.archives.members import (
    Archive,
    ArchiveError,
    Entry,
    Limits,
    Member,
    Reader,
    Result,
    Skipped,
    Unpacked,
)
from intake.archives.names import clean_filename, clean_path, ending, shown_path, skip_reason
from intake.archives.rar_reader import RarReader
from intake.archives.sevenzip_reader import SevenZipReader
from intake.archives.zip_reader import ZipReader, declared_count

__all__ = [
    "ARCHIVE_ENDINGS",
    "ArchiveError",
    "Limits",
    "Member",
    "Skipped",
    "Unpacked",
    "is_archive",
    "unpack",
]

log = logging.getLogger(__name__)

ARCHIVE_ENDINGS: Final = (".zip", ".7z", ".rar", ".eml")

_DEFAULT_LIMITS: Final = Limits()

_OPENERS: Final[dict[str, Callable[[bytes], Reader]]] = {
    ".zip": ZipReader,
    ".7z": SevenZipReader,
    ".rar": RarReader,
    ".eml": MailReader,
}


def is_archive(filename: str) -> bool:
    """True for the endings unpack() opens, in any case and in full-width (".ＺＩＰ")."""
    return ending(filename) in ARCHIVE_ENDINGS


def unpack(filename: str, payload: bytes, limits: Limits = _DEFAULT_LIMITS) -> Unpacked:
    """Unpack an attached archive or forwarded message; raise ArchiveError when it must be refused.

    Directories, system files (__MACOSX, .DS_Store…), symbolic links, paths that would escape
    the archive and encrypted entries of an otherwise readable archive are reported as Skipped.
    Archives inside are replaced by their own members.
    """
    budget = _Budget(limits)
    result = Result()
    _unpack_into(result, Archive(filename, payload, filename, "", 1), budget)
    return Unpacked(tuple(result.members), tuple(result.skipped))


def _unpack_into(result: Result, archive: Archive, budget: _Budget) -> None:
    if archive.depth > budget.limits.max_depth:
        raise budget.refusal("too_deep", archive)
    opener = _OPENERS.get(ending(archive.filename))
    if opener is None:
        raise budget.refusal("unsupported", archive)
    budget.admit_count(declared_count(archive, budget.limits.max_members), archive)
    with _reading(archive, budget), _opened(opener, archive.payload) as reader:
        if reader.locked:
            raise budget.refusal("encrypted", archive)
        entries = reader.entries()
        budget.admit(entries, archive)
        wanted = _sort_entries(entries, archive, result, budget)
        take = partial(budget.take, archive=archive)
        for entry, data in reader.extract(wanted, take):
            _add_member(result, archive, entry, data, budget)


def _sort_entries(
    entries: list[Entry], archive: Archive, result: Result, budget: _Budget
) -> list[Entry]:
    """The entries to unpack; the others go to result.skipped."""
    wanted: list[Entry] = []
    encrypted: list[Skipped] = []
    for entry in entries:
        reason = skip_reason(entry)
        if reason is None:
            wanted.append(entry)
        elif reason == "encrypted_member":
            encrypted.append(Skipped(archive.prefix + shown_path(entry, reason), reason))
        else:
            result.skipped.append(Skipped(archive.prefix + shown_path(entry, reason), reason))
    if encrypted and not wanted:
        # Nothing but locked files: the school must resend, not be told it sent nothing.
        raise budget.refusal("encrypted", archive)
    result.skipped.extend(encrypted)
    return wanted


def _add_member(
    result: Result, archive: Archive, entry: Entry, data: bytes, budget: _Budget
) -> None:
    path = clean_path(entry.name)
    filename = clean_filename(path.rsplit("/", 1)[-1])
    if not is_archive(filename):
        result.members.append(Member(path, filename, data, archive.source))
        return
    nested = Archive(
        filename=filename,
        payload=data,
        source=f"{archive.source}/{filename}",
        prefix=f"{archive.prefix}{path}/",
        depth=archive.depth + 1,
    )
    _unpack_into(result, nested, budget)


@contextmanager
def _reading(archive: Archive, budget: _Budget) -> Iterator[None]:
    """Turn what the archive libraries raise into ArchiveError naming this archive."""
    try:
        yield
    except ArchiveError:
        raise  # already names the (nested) archive at fault
    except (py7zr.exceptions.PasswordRequired, rarfile.PasswordRequired) as error:
        raise budget.refusal("encrypted", archive) from error
    except (py7zr.exceptions.UnsupportedCompressionMethodError, NotImplementedError) as error:
        raise budget.refusal("unsupported", archive) from error
    except py7zr.exceptions.DecompressionBombError as error:
        raise budget.refusal("too_large", archive) from error
    except rarfile.RarCannotExec as error:
        raise budget.refusal("tool_missing", archive) from error
    except Exception as error:
        # Hostile bytes break parsers in ways no list of exceptions covers (struct.error,
        # EOFError, zlib.error, IndexError…); whatever it was, the archive cannot be read.
        log.warning("cannot read archive %s", archive.source, exc_info=True)
        raise budget.refusal("corrupt", archive) from error


@contextmanager
def _opened(open_reader: Callable[[bytes], Reader], payload: bytes) -> Iterator[Reader]:
    reader = open_reader(payload)
    try:
        yield reader
    finally:
        reader.close()
