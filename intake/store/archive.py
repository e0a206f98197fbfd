"""Raw messages and attachments on disk, named by SHA-256, written before anything can fail.

Files are written to a temporary name and renamed, so a crash never leaves half a file under
a final name; the same bytes always land on the same path, so writing twice is harmless.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

_UNSAFE = re.compile(r'[/\\:*?"<>|]')
# Controls (C0, DEL, C1), format characters (bidi overrides that make "exe.docx" read as
# "xcod.exe"), lone surrogates (no file system can hold them) and line or paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Windows opens a device whatever the ending, and also with spaces before it: "CON",
# "nul.docx", "com1 .txt", "COM¹", "CONIN$".
_DEVICE_NAMES = re.compile(
    r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$) *(\..*)?$", re.IGNORECASE
)
# Leading dots hide a file, and Windows drops trailing dots and spaces.
_EDGES = re.compile(r"^[\s.]+|[\s.]+$")
# File systems allow 255 bytes per name; a Chinese character takes three in UTF-8, and the
# temporary name adds a few more.
MAX_NAME_BYTES = 200


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_filename(name: str) -> str:
    """A name safe on any file system: no paths, control characters or device names, no
    leading dot (hidden) and no trailing dot or space (Windows drops them)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").split("/")[-1])
    name = "".join(
        "_" if unicodedata.category(char) in _UNSAFE_CATEGORIES else char for char in name
    )
    name = _EDGES.sub("", _UNSAFE.sub("_", name))
    if not name or _DEVICE_NAMES.match(name):
        name = f"file_{name}" if name else "attachment"
    if len(name.encode()) > MAX_NAME_BYTES:
        stem, dot, ending = name.rpartition(".")
        ending = "." + ending if dot and len(ending) <= 8 else ""
        stem = stem if ending else name
        room = MAX_NAME_BYTES - len(ending.encode())
        # Cut the bytes once (a name can be megabytes long); "ignore" drops only the fragment
        # of a character the cut split.
        name = _EDGES.sub("", stem.encode()[:room].decode("utf-8", "ignore")) + ending
    return name


class Archive:
    """The folder that keeps every raw message and every attachment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # Files are on disk at once but reach the platter in the background: waiting for
        # each fsync in turn took longer than everything else done with a message. flush()
        # waits for them; the ledger commits only after it, so a recorded message's files
        # are never lost to a power cut.
        self._syncing: list[Future[None]] = []
        self._sync_pool = ThreadPoolExecutor(_SYNC_THREADS, thread_name_prefix="archive-sync")

    def store_raw(self, raw: bytes) -> tuple[str, Path]:
        sha = sha256_of(raw)
        path = self.root / "raw" / sha[:2] / f"{sha}.eml"
        self._write_once(path, raw)
        return sha, path

    def store_file(self, payload: bytes, filename: str) -> tuple[str, Path]:
        sha = sha256_of(payload)
        path = self.root / "files" / sha[:2] / sha / safe_filename(filename)
        self._write_once(path, payload)
        return sha, path

    def flush(self) -> None:
        """Wait until every file stored so far is on disk; raises the first failure."""
        syncing, self._syncing = self._syncing, []
        for future in syncing:
            future.result()

    def _write_once(self, path: Path, data: bytes) -> None:
        if path.exists() and path.stat().st_size == len(data):
            return
        descriptor = _write_whole(path, data)
        self._syncing.append(self._sync_pool.submit(_sync_and_close, descriptor))

    def remove_leftovers(self, older_than: float = 3600) -> int:
        """Delete half-written copies a killed process left behind (`.PID.name.part`); only
        old ones, as another process may be writing a new one right now."""
        removed = 0
        for folder in ("raw", "files"):
            for path in (self.root / folder).rglob(".*.part"):
                with contextlib.suppress(OSError):
                    if time.time() - path.stat().st_mtime > older_than:
                        path.unlink()
                        removed += 1
        return removed

    def incoming(self) -> Path:
        """Where downloads are written before they are known whole; beside `files/`, so
        moving one in is a rename."""
        return self.root / "incoming"

    def store_download(self, temporary: Path, sha: str, filename: str) -> Path:
        """Move a downloaded file (its SHA-256 already known) to its place."""
        path = self.root / "files" / sha[:2] / sha / safe_filename(filename)
        private_dir(path.parent)
        temporary.replace(path)
        return path


def private_dir(path: Path) -> None:
    """Create `path` and any missing parents readable by their owner only."""
    if not path.exists():
        private_dir(path.parent)
        path.mkdir(mode=0o700, exist_ok=True)


_SYNC_THREADS = 4


def _write_whole(path: Path, data: bytes) -> int:
    """Write `data` under a temporary name and rename it to `path`; the open descriptor,
    for the caller to fsync. A crash before the fsync can leave a short file under the final
    name: the size check in _write_once writes it again the next time."""
    private_dir(path.parent)
    temporary = path.with_name(f".{os.getpid()}.{path.name}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        temporary.replace(path)
    except BaseException:
        os.close(descriptor)
        temporary.unlink(missing_ok=True)  # a full disk must not keep the half-written copy
        raise
    return descriptor


def _sync_and_close(descriptor: int) -> None:
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
