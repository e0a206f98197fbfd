"""Zip archives: their entries, and how many there are before zipfile is let near them."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator, Sequence

from intake.archives.members import Archive, Entry, Kind, Take, read_capped
from intake.archives.names import ending
from intake.charsets import decode_zip_member_name

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


class ZipReader:
    locked = False  # zip encrypts entries, never the listing

    def __init__(self, payload: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(payload))
        self._infos = self._zip.infolist()

    def close(self) -> None:
        self._zip.close()

    def entries(self) -> list[Entry]:
        entries: list[Entry] = []
        for index, info in enumerate(self._infos):
            name = decode_zip_member_name(info.filename, info.flag_bits)
            entries.append(Entry(name, info.file_size, _zip_kind(info, name), index))
        return entries

    def extract(self, wanted: Sequence[Entry], take: Take) -> Iterator[tuple[Entry, bytes]]:
        for entry in wanted:
            with self._zip.open(self._infos[entry.index]) as stream:
                yield entry, read_capped(stream, take)


def _zip_kind(info: zipfile.ZipInfo, name: str) -> Kind:
    # Old Windows tools end folder names with a backslash. The decoded name is tested: in the
    # raw name 0x5C can be the second byte of a GBK character.
    if info.is_dir() or name.endswith("\\"):
        return "directory"
    if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
        return "symlink"
    if info.flag_bits & _ZIP_ENCRYPTED:
        return "encrypted"
    return "file"


def declared_count(archive: Archive, cap: int) -> int | None:
    """How many entries a zip's central directory holds (counting stops past cap).

    zipfile builds an object for every entry before anything can be counted, and a directory
    of a million one-letter names fits in 50 MB. The count in the end record cannot be
    trusted (zipfile walks the directory by its size), so the headers are walked here.
    Other formats, and zips without a readable end record, return None.
    """
    if ending(archive.filename) != ".zip":
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
