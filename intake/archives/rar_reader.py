"""RAR archives, read through rarfile with unar doing the decompressing."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator, Sequence

import rarfile

from intake.archives.members import Entry, Kind, Take, read_capped
from intake.charsets import decode_unlabelled

# RAR is decompressed by unar (The Unarchiver), which reads RAR 1.5 to 5, solid or not. The
# other Debian candidates fail: `unrar` is unrar-free (it cannot write to stdout), 7z/7zz have
# no RAR codec, and rarfile 4.5 calls bsdtar as `bsdtar -x --to-stdout -f -- FILE`, which
# opens a file named "--". rarfile's own search would try unrar and 7z first, so it is told.
_RAR_TOOL = "unar"


class RarReader:
    def __init__(self, payload: bytes) -> None:
        _choose_rar_tool()
        # errors="strict": by default rarfile stops quietly at a broken header, listing less.
        self._rar = rarfile.RarFile(io.BytesIO(payload), errors="strict")
        self._infos = list(self._rar.infolist())
        # With encrypted headers (rar -hp) nothing can even be listed.
        self.locked = bool(self._rar.needs_password()) and not self._infos

    def close(self) -> None:
        self._rar.close()

    def entries(self) -> list[Entry]:
        return [
            Entry(_rar_name(info), int(info.file_size), _rar_kind(info), index)
            for index, info in enumerate(self._infos)
        ]

    def extract(self, wanted: Sequence[Entry], take: Take) -> Iterator[tuple[Entry, bytes]]:
        for entry in wanted:
            with self._rar.open(self._infos[entry.index]) as stream:
                yield entry, read_capped(stream, take)


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


def _rar_kind(info: rarfile.RarInfo) -> Kind:
    if info.is_dir():
        return "directory"
    if info.is_symlink():
        return "symlink"
    return "encrypted" if info.needs_password() else "file"
