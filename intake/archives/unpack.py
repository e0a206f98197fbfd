"""Unpack what schools attach (.zip, .7z, .rar, forwarded .eml) without trusting it.

Everything happens in memory. Limits are checked twice: on what the headers declare (member
count, total size, compression ratio) before anything is decompressed, and again on every
chunk while it streams, because headers can lie. Archives nested inside are unpacked too, up
to Limits.max_depth, and the whole tree shares one budget.
"""

from __future__ import annotations

import io
import logging
import shutil
import struct
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Final, Literal, Protocol

import py7zr
import py7zr.exceptions
import rarfile
from py7zr.helpers import get_sanitized_output_path
from py7zr.io import Py7zIO, WriterFactory

from intake.charsets import decode_unlabelled, decode_zip_member_name
from intake.mail.parse import parse_mail

log = logging.getLogger(__name__)

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
_Kind = Literal["file", "directory", "symlink", "encrypted"]
_Take = Callable[[int], None]

ARCHIVE_ENDINGS: Final = (".zip", ".7z", ".rar", ".eml")

_CHUNK = 64 * 1024
_MIB = 1024 * 1024
# Below this much declared content the ratio rule does not apply: a small archive cannot hurt
# however well it compresses, and blank forms or scans of white pages compress extremely well.
_RATIO_FLOOR = _MIB
_MAX_NAME_BYTES = 255
_UNNAMED = "未命名"
# Finder, Explorer and Windows write these next to real files; nobody submits them.
_SYSTEM_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_ZIP_ENCRYPTED = 0x1
_S_IFMT = 0o170000
_S_IFLNK = 0o120000
# Zip structures read before zipfile sees the archive: the end record (classic, and the
# 56-byte ZIP64 one just before its 20-byte locator) and the 46-byte central headers.
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_EOCD64 = b"PK\x06\x06"
_EOCD64_OFFSET = 20 + 56
_CENTRAL = b"PK\x01\x02"
_CENTRAL_SIZE = 46
# RAR is decompressed by unar (The Unarchiver), which reads RAR 1.5 to 5, solid or not. The
# other Debian candidates fail: `unrar` is unrar-free (it cannot write to stdout), 7z/7zz have
# no RAR codec, and rarfile 4.5 calls bsdtar as `bsdtar -x --to-stdout -f -- FILE`, which
# opens a file named "--". rarfile's own search would try unrar and 7z first, so it is told.
_RAR_TOOL = "unar"

_MESSAGES: Final[dict[ErrorCode, str]] = {
    "zip_bomb": (
        "{noun}“{name}”解压后过大（压缩比异常），已拒收。"
        "请直接以附件发送 Word 文档，或重新压缩后发送。"
    ),
    "too_many_members": (
        "{noun}“{name}”内文件过多（超过 {members} 个），已拒收。"
        "请只放入参赛材料后重新压缩发送，或直接以附件发送。"
    ),
    "too_large": (
        "{noun}“{name}”解压后超过 {megabytes} MB，已拒收。"
        "请删去无关文件后重新压缩发送，或直接以附件发送 Word 文档。"
    ),
    "encrypted": "{noun}“{name}”设有密码，无法打开。请去掉密码后重新发送。",
    "corrupt": (
        "{noun}“{name}”已损坏或不完整，无法打开。请重新压缩后再发送，或直接以附件发送 Word 文档。"
    ),
    "too_deep": (
        "{noun}“{name}”里又套了多层压缩包，无法处理。请解开后只压缩一层再发送，或直接以附件发送。"
    ),
    "tool_missing": "服务器无法解开 .rar 压缩包，请改用 .zip 或直接发送附件。",
    "unsupported": (
        "{noun}“{name}”的格式或压缩方式无法识别。请改用 .zip 压缩后发送，或直接以附件发送。"
    ),
}


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


def is_archive(filename: str) -> bool:
    """True for the endings unpack() opens, in any case and in full-width (".ＺＩＰ")."""
    return _ending(filename) in ARCHIVE_ENDINGS


def unpack(filename: str, payload: bytes, limits: Limits = Limits()) -> Unpacked:
    """Unpack an attached archive or forwarded message; raise ArchiveError when it must be refused.

    Directories, system files (__MACOSX, .DS_Store…), symbolic links, paths that would escape
    the archive and encrypted entries of an otherwise readable archive are reported as Skipped.
    Archives inside are replaced by their own members.
    """
    budget = _Budget(limits)
    result = _Result()
    _unpack_into(result, _Archive(filename, payload, filename, "", 1), budget)
    return Unpacked(tuple(result.members), tuple(result.skipped))


# --- one archive ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Archive:
    filename: str
    payload: bytes
    source: str  # as reported in Member.source and in error messages
    prefix: str  # its path inside the attached archive plus "/", "" for the attached one
    depth: int


@dataclass
class _Result:
    members: list[Member] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class _Entry:
    """One entry as the archive's headers describe it, before anything is decompressed."""

    name: str  # decoded, separators as stored
    size: int  # declared uncompressed size
    kind: _Kind
    index: int  # the reader's own handle for it


class _Reader(Protocol):
    locked: bool  # the whole archive needs a password, even to list it

    def entries(self) -> list[_Entry]: ...

    def extract(self, wanted: Sequence[_Entry], take: _Take) -> Iterator[tuple[_Entry, bytes]]:
        """Decompress the wanted entries, calling take(n) before keeping each n bytes."""
        ...

    def close(self) -> None: ...


def _unpack_into(result: _Result, archive: _Archive, budget: _Budget) -> None:
    if archive.depth > budget.limits.max_depth:
        raise budget.refusal("too_deep", archive)
    opener = _OPENERS.get(_ending(archive.filename))
    if opener is None:
        raise budget.refusal("unsupported", archive)
    budget.admit_count(_declared_count(archive, budget.limits.max_members), archive)
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
    entries: list[_Entry], archive: _Archive, result: _Result, budget: _Budget
) -> list[_Entry]:
    """The entries to unpack; the others go to result.skipped."""
    wanted: list[_Entry] = []
    encrypted: list[Skipped] = []
    for entry in entries:
        reason = _skip_reason(entry)
        if reason is None:
            wanted.append(entry)
        elif reason == "encrypted_member":
            encrypted.append(Skipped(archive.prefix + _shown_path(entry, reason), reason))
        else:
            result.skipped.append(Skipped(archive.prefix + _shown_path(entry, reason), reason))
    if encrypted and not wanted:
        # Nothing but locked files: the school must resend, not be told it sent nothing.
        raise budget.refusal("encrypted", archive)
    result.skipped.extend(encrypted)
    return wanted


def _add_member(
    result: _Result, archive: _Archive, entry: _Entry, data: bytes, budget: _Budget
) -> None:
    path = _clean_path(entry.name)
    filename = _clean_filename(path.rsplit("/", 1)[-1])
    if not is_archive(filename):
        result.members.append(Member(path, filename, data, archive.source))
        return
    nested = _Archive(
        filename=filename,
        payload=data,
        source=f"{archive.source}/{filename}",
        prefix=f"{archive.prefix}{path}/",
        depth=archive.depth + 1,
    )
    _unpack_into(result, nested, budget)


@contextmanager
def _reading(archive: _Archive, budget: _Budget) -> Iterator[None]:
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


# --- limits -----------------------------------------------------------------------------------


@dataclass
class _Budget:
    """What the whole unpacking, nested archives included, has used of its limits."""

    limits: Limits
    members: int = 0
    produced: int = 0  # bytes decompressed so far

    def refusal(self, code: ErrorCode, archive: _Archive) -> ArchiveError:
        return ArchiveError(code, _message(code, archive, self.limits), archive.source)

    def admit_count(self, count: int | None, archive: _Archive) -> None:
        if count is not None and self.members + count > self.limits.max_members:
            raise self.refusal("too_many_members", archive)

    def admit(self, entries: Sequence[_Entry], archive: _Archive) -> None:
        """Check what the headers declare, before anything is decompressed."""
        self.admit_count(len(entries), archive)
        declared = sum(entry.size for entry in entries)
        ratio_cap = self.limits.max_ratio * max(len(archive.payload), 1)
        if declared > _RATIO_FLOOR and declared > ratio_cap:
            raise self.refusal("zip_bomb", archive)
        if self.produced + declared > self.limits.max_total_bytes:
            raise self.refusal("too_large", archive)
        self.members += len(entries)

    def take(self, size: int, archive: _Archive) -> None:
        """Count decompressed bytes as they come: headers that lied are caught here."""
        self.produced += size
        if self.produced > self.limits.max_total_bytes:
            raise self.refusal("too_large", archive)


def _message(code: ErrorCode, archive: _Archive, limits: Limits) -> str:
    return _MESSAGES[code].format(
        noun="邮件" if _ending(archive.filename) == ".eml" else "压缩包",
        name=archive.source,
        members=limits.max_members,
        megabytes=limits.max_total_bytes // _MIB,
    )


def _declared_count(archive: _Archive, cap: int) -> int | None:
    """How many entries a zip's central directory holds (counting stops past cap).

    zipfile builds an object for every entry before anything can be counted, and a directory
    of a million one-letter names fits in 50 MB. The count in the end record cannot be
    trusted (zipfile walks the directory by its size), so the headers are walked here.
    Other formats, and zips without a readable end record, return None.
    """
    if _ending(archive.filename) != ".zip":
        return None
    bounds = _zip_directory(archive.payload)
    if bounds is None:
        return None
    position, end = bounds
    count = 0
    while count <= cap and position + _CENTRAL_SIZE <= end:
        if archive.payload[position : position + 4] != _CENTRAL:
            break  # zipfile will call this archive corrupt
        lengths = struct.unpack_from("<3H", archive.payload, position + 28)
        position += _CENTRAL_SIZE + sum(lengths)  # name, extra field and comment
        count += 1
    return count


def _zip_directory(payload: bytes) -> tuple[int, int] | None:
    """Start and end of the central directory, located the way zipfile locates it."""
    end = payload.rfind(_EOCD, max(0, len(payload) - _EOCD_SIZE - 0xFFFF))
    if end < 0 or end + _EOCD_SIZE > len(payload):
        return None
    (size,) = struct.unpack_from("<L", payload, end + 12)
    record = end - _EOCD64_OFFSET
    if record >= 0 and payload[record : record + 4] == _EOCD64:
        (size,) = struct.unpack_from("<Q", payload, record + 40)
        end = record
    # The directory ends where the end record starts, wherever its offset field points
    # (self-extracting stubs and prepended data shift every offset).
    return max(0, end - size), end


def _read_capped(stream: IO[bytes], take: _Take) -> bytes:
    parts: list[bytes] = []
    while chunk := stream.read(_CHUNK):
        take(len(chunk))  # raises before an oversized member is held in memory
        parts.append(chunk)
    return b"".join(parts)


# --- names ------------------------------------------------------------------------------------


def _ending(filename: str) -> str:
    name = unicodedata.normalize("NFKC", filename).strip().casefold()
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def _skip_reason(entry: _Entry) -> SkipReason | None:
    if _unsafe(entry.name):
        return "unsafe_path"
    if _system_file(_clean_path(entry.name)):
        return "system_file"
    if entry.kind == "directory":
        return "directory"
    if entry.kind == "symlink":
        return "symlink"
    if entry.kind == "encrypted":
        return "encrypted_member"
    return None


def _shown_path(entry: _Entry, reason: SkipReason) -> str:
    # An unsafe path is shown as written ("/etc/passwd"), not as cleaning would make it look.
    return entry.name.replace("\\", "/") if reason == "unsafe_path" else _clean_path(entry.name)


def _unsafe(name: str) -> bool:
    """Absolute ("/etc", "\\\\server", "C:\\", "C:x") or climbing ("a/../b") or empty."""
    path = name.replace("\\", "/")
    drive = len(path) >= 2 and path[1] == ":" and path[0].isascii() and path[0].isalpha()
    if path.startswith("/") or drive:
        return True
    parts = path.split("/")
    return ".." in parts or not _clean_path(name)


def _system_file(path: str) -> bool:
    parts = path.split("/")
    last = parts[-1]
    return "__MACOSX" in parts or last.startswith("._") or last.casefold() in _SYSTEM_NAMES


def _clean_path(name: str) -> str:
    """The path with "/" separators and without empty or "." components."""
    parts = name.replace("\\", "/").split("/")
    return "/".join(part for part in parts if part not in ("", "."))


def _clean_filename(name: str) -> str:
    """No control or format characters (bidi overrides spoof endings), no leading dots."""
    kept = "".join(
        char for char in unicodedata.normalize("NFC", name) if unicodedata.category(char)[0] != "C"
    )
    kept = kept.strip().lstrip(".").strip()
    return _fit_name(kept) if kept else _UNNAMED


def _fit_name(name: str) -> str:
    """Shorten to 255 bytes of UTF-8 (what file systems allow), keeping a short ending."""
    if len(name.encode()) <= _MAX_NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    ending = dot + suffix if dot and len(suffix.encode()) <= 16 else ""
    stem = stem if ending else name
    room = _MAX_NAME_BYTES - len(ending.encode())
    # Cutting the bytes can split the last character; "ignore" drops only that fragment.
    return stem.encode()[:room].decode("utf-8", "ignore").rstrip() + ending


# --- .zip -------------------------------------------------------------------------------------


class _ZipReader:
    locked = False  # zip encrypts entries, never the listing

    def __init__(self, payload: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(payload))
        self._infos = self._zip.infolist()

    def close(self) -> None:
        self._zip.close()

    def entries(self) -> list[_Entry]:
        entries: list[_Entry] = []
        for index, info in enumerate(self._infos):
            name = decode_zip_member_name(info.filename, info.flag_bits)
            entries.append(_Entry(name, info.file_size, _zip_kind(info, name), index))
        return entries

    def extract(self, wanted: Sequence[_Entry], take: _Take) -> Iterator[tuple[_Entry, bytes]]:
        for entry in wanted:
            with self._zip.open(self._infos[entry.index]) as stream:
                yield entry, _read_capped(stream, take)


def _zip_kind(info: zipfile.ZipInfo, name: str) -> _Kind:
    # Old Windows tools end folder names with a backslash. The decoded name is tested: in the
    # raw name 0x5C can be the second byte of a GBK character.
    if info.is_dir() or name.endswith("\\"):
        return "directory"
    if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
        return "symlink"
    if info.flag_bits & _ZIP_ENCRYPTED:
        return "encrypted"
    return "file"


# --- .7z --------------------------------------------------------------------------------------


class _SevenZipReader:
    def __init__(self, payload: bytes) -> None:
        self._archive = py7zr.SevenZipFile(io.BytesIO(payload))
        self._files = self._archive.list()
        self.locked = self._archive.needs_password()

    def close(self) -> None:
        self._archive.close()

    def entries(self) -> list[_Entry]:
        return [
            _Entry(info.filename, info.uncompressed, _seven_zip_kind(info), index)
            for index, info in enumerate(self._files)
        ]

    def extract(self, wanted: Sequence[_Entry], take: _Take) -> Iterator[tuple[_Entry, bytes]]:
        if not wanted:
            return  # py7zr would still decompress everything to check the CRCs
        # py7zr decompresses a solid block once for all its files: ask for all wanted at once.
        names = [self._files[entry.index].filename for entry in wanted]
        factory = _CappedFactory(take)
        self._archive.extract(targets=names, factory=factory)
        for entry, key in zip(wanted, _py7zr_keys(names), strict=True):
            yield entry, factory.payload(key)


def _seven_zip_kind(info: py7zr.FileInfo) -> _Kind:
    if info.is_directory:
        return "directory"
    return "symlink" if info.is_symlink else "file"


def _py7zr_keys(names: Sequence[str]) -> list[str]:
    """The names py7zr hands the writer factory: sanitised, repeats suffixed "_0", "_1"…"""
    seen: dict[str, int] = {}
    keys: list[str] = []
    for name in names:
        if name in seen:
            unique = f"{name}_{seen[name]}"
            seen[name] += 1
        else:
            unique = name
            seen[name] = 0
        keys.append(get_sanitized_output_path(unique, None).as_posix())
    return keys


class _CappedWriter(Py7zIO):
    """Keeps one member in memory, counting every chunk against the budget first."""

    def __init__(self, take: _Take) -> None:
        self._take = take
        self._buffer = bytearray()

    def write(self, s: bytes | bytearray) -> int:
        self._take(len(s))
        self._buffer += s
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return bytes(self._buffer if size is None else self._buffer[:size])

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return len(self._buffer)

    def getvalue(self) -> bytes:
        return bytes(self._buffer)


class _CappedFactory(WriterFactory):
    def __init__(self, take: _Take) -> None:
        self._take = take
        self._writers: dict[str, _CappedWriter] = {}

    def create(self, filename: str) -> Py7zIO:
        writer = _CappedWriter(self._take)
        self._writers[filename] = writer
        return writer

    def payload(self, key: str) -> bytes:
        writer = self._writers.get(key)
        # An empty file may never get a writer: it has no stream to decompress.
        return writer.getvalue() if writer is not None else b""


# --- .rar -------------------------------------------------------------------------------------


class _RarReader:
    def __init__(self, payload: bytes) -> None:
        _choose_rar_tool()
        # errors="strict": by default rarfile stops quietly at a broken header, listing less.
        self._rar = rarfile.RarFile(io.BytesIO(payload), errors="strict")
        self._infos = list(self._rar.infolist())
        # With encrypted headers (rar -hp) nothing can even be listed.
        self.locked = bool(self._rar.needs_password()) and not self._infos

    def close(self) -> None:
        self._rar.close()

    def entries(self) -> list[_Entry]:
        return [
            _Entry(_rar_name(info), int(info.file_size), _rar_kind(info), index)
            for index, info in enumerate(self._infos)
        ]

    def extract(self, wanted: Sequence[_Entry], take: _Take) -> Iterator[tuple[_Entry, bytes]]:
        for entry in wanted:
            with self._rar.open(self._infos[entry.index]) as stream:
                yield entry, _read_capped(stream, take)


def _choose_rar_tool() -> None:
    """Point rarfile at unar, or raise RarCannotExec."""
    path = shutil.which(_RAR_TOOL)
    if path is None:
        raise rarfile.RarCannotExec(f"{_RAR_TOOL} is not installed")
    rarfile.UNAR_TOOL = path
    rarfile.tool_setup(
        unrar=False, unar=True, bsdtar=False, sevenzip=False, sevenzip2=False, force=True
    )


def _rar_name(info: rarfile.RarInfo) -> str:
    # RAR 4 names without the Unicode flag are in the packer's code page: GBK on Chinese
    # Windows. rarfile would read them as UTF-16 or cp1252; the raw bytes are still there.
    plain = isinstance(info, rarfile.Rar3Info) and not info.flags & rarfile.RAR_FILE_UNICODE
    if plain and isinstance(info.orig_filename, bytes):
        return decode_unlabelled(info.orig_filename)
    return str(info.filename)


def _rar_kind(info: rarfile.RarInfo) -> _Kind:
    if info.is_dir():
        return "directory"
    if info.is_symlink():
        return "symlink"
    return "encrypted" if info.needs_password() else "file"


# --- .eml -------------------------------------------------------------------------------------


class _MailReader:
    """A forwarded message: its attachments are its members, inline images are not."""

    locked = False

    def __init__(self, payload: bytes) -> None:
        parsed = parse_mail(payload)
        self._files = [attachment for attachment in parsed.attachments if not attachment.inline]

    def close(self) -> None:
        return None

    def entries(self) -> list[_Entry]:
        return [
            _Entry(attachment.filename or _UNNAMED, len(attachment.payload), "file", index)
            for index, attachment in enumerate(self._files)
        ]

    def extract(self, wanted: Sequence[_Entry], take: _Take) -> Iterator[tuple[_Entry, bytes]]:
        for entry in wanted:
            payload = self._files[entry.index].payload
            take(len(payload))
            yield entry, payload


@contextmanager
def _opened(open_reader: Callable[[bytes], _Reader], payload: bytes) -> Iterator[_Reader]:
    reader = open_reader(payload)
    try:
        yield reader
    finally:
        reader.close()


_OPENERS: Final[dict[str, Callable[[bytes], _Reader]]] = {
    ".zip": _ZipReader,
    ".7z": _SevenZipReader,
    ".rar": _RarReader,
    ".eml": _MailReader,
}
