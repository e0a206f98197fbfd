"""7z archives, read through py7zr with every decompressed chunk counted as it is written."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

import py7zr
from py7zr.helpers import get_sanitized_output_path
from py7zr.io import Py7zIO, WriterFactory

from intake.archives.members import Entry, Kind, Take


class SevenZipReader:
    def __init__(self, payload: bytes) -> None:
        self._archive = py7zr.SevenZipFile(io.BytesIO(payload))
        self._files = self._archive.list()
        self.locked = self._archive.needs_password()

    def close(self) -> None:
        self._archive.close()

    def entries(self) -> list[Entry]:
        return [
            Entry(info.filename, info.uncompressed, _seven_zip_kind(info), index)
            for index, info in enumerate(self._files)
        ]

    def extract(self, wanted: Sequence[Entry], take: Take) -> Iterator[tuple[Entry, bytes]]:
        if not wanted:
            return  # py7zr would still decompress everything to check the CRCs
        # py7zr decompresses a solid block once for all its files: ask for all wanted at once.
        names = [self._files[entry.index].filename for entry in wanted]
        factory = _CappedFactory(take)
        self._archive.extract(targets=names, factory=factory)
        for entry, key in zip(wanted, _py7zr_keys(names), strict=True):
            yield entry, factory.payload(key)


def _seven_zip_kind(info: py7zr.FileInfo) -> Kind:
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

    def __init__(self, take: Take) -> None:
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
    def __init__(self, take: Take) -> None:
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
