"""Member names as archives store them, judged and cleaned before anything is kept."""

from __future__ import annotations

import unicodedata
from typing import Final

from intake.archives.members import Entry, SkipReason

UNNAMED: Final = "未命名"
_MAX_NAME_BYTES = 255
# Finder, Explorer and Windows write these next to real files; nobody submits them.
_SYSTEM_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def ending(filename: str) -> str:
    name = unicodedata.normalize("NFKC", filename).strip().casefold()
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def skip_reason(entry: Entry) -> SkipReason | None:
    if _unsafe(entry.name):
        return "unsafe_path"
    if _system_file(clean_path(entry.name)):
        return "system_file"
    if entry.kind == "directory":
        return "directory"
    if entry.kind == "symlink":
        return "symlink"
    if entry.kind == "encrypted":
        return "encrypted_member"
    return None


def shown_path(entry: Entry, reason: SkipReason) -> str:
    # An unsafe path is shown as written ("/etc/passwd"), not as cleaning would make it look.
    return entry.name.replace("\\", "/") if reason == "unsafe_path" else clean_path(entry.name)


def _unsafe(name: str) -> bool:
    """Absolute ("/etc", "\\\\server", "C:\\", "C:x") or climbing ("a/../b") or empty."""
    path = name.replace("\\", "/")
    drive = len(path) >= 2 and path[1] == ":" and path[0].isascii() and path[0].isalpha()
    if path.startswith("/") or drive:
        return True
    parts = path.split("/")
    return ".." in parts or not clean_path(name)


def _system_file(path: str) -> bool:
    parts = path.split("/")
    last = parts[-1]
    return "__MACOSX" in parts or last.startswith("._") or last.casefold() in _SYSTEM_NAMES


def clean_path(name: str) -> str:
    """The path with "/" separators and without empty or "." components."""
    parts = name.replace("\\", "/").split("/")
    return "/".join(part for part in parts if part not in ("", "."))


def clean_filename(name: str) -> str:
    """No control or format characters (bidi overrides spoof endings), no leading dots."""
    kept = "".join(
        char for char in unicodedata.normalize("NFC", name) if unicodedata.category(char)[0] != "C"
    )
    kept = kept.strip().lstrip(".").strip()
    return _fit_name(kept) if kept else UNNAMED


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
