"""Find the line of a dotted key in TOML text, so configuration errors can point at it.

tomllib returns plain dicts without positions, so this reads the text once more, line by
line, tracking the current [table] header. It only needs to be right for the keys and table
headers people write by hand; for anything odd it falls back to the closest enclosing table.
"""

from __future__ import annotations

import re

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_KEY})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_KEY})\s*=")
_PART = re.compile(rf"{_BARE}|{_QUOTED}")


def split_key(dotted: str) -> list[str]:
    """Split a TOML key like `a."b.c".d` into its parts, unquoted."""
    return [part.strip("\"'") for part in _PART.findall(dotted)]


def line_of(text: str, keys: list[str]) -> int | None:
    """The 1-based line that defines `keys`, or of the closest enclosing table or key."""
    best_line, best_depth = None, 0
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = split_key(header.group(1))
            path = table
        else:
            assign = _ASSIGN.match(line)
            if not assign:
                continue
            path = table + split_key(assign.group(1))
        depth = _common_prefix(path, keys)
        if depth == len(path) and depth > best_depth:
            best_line, best_depth = number, depth
    return best_line


def _common_prefix(path: list[str], keys: list[str]) -> int:
    depth = 0
    for ours, theirs in zip(path, keys, strict=False):
        if ours != theirs:
            break
        depth += 1
    return depth
