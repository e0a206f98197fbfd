"""Charset repairs for what Chinese mail clients really send.

Every function here takes text or bytes that came off the wire and returns the best Unicode
reading of it without raising and without silently dropping characters: what cannot be decoded
becomes U+FFFD, never nothing.
"""

from __future__ import annotations

import codecs
import re
from email.errors import HeaderParseError
from email.header import decode_header

# Senders label GBK and GB18030 text as gb2312 as a matter of course, and names of people and
# schools use characters (喆 玥 堃 镕) that gb2312 lacks; gb18030 is a superset of all of them.
_GB_FAMILY = frozenset(
    {
        "gb2312",
        "gbk",
        "x-gbk",
        "cp936",
        "ms936",
        "windows-936",
        "gb_2312-80",
        "gb2312-80",
        "gb2312-1980",
        "euc-cn",
        "euccn",
        "x-euc-cn",
        "csgb2312",
        "x-gb2312",
        "chinese",
        "gb18030",
        "gb-18030",
    }
)
_GB_CODECS = frozenset({"gb2312", "gbk", "gb18030"})
# Python codecs that are no MIME charset: the escape codecs turn "\\ud800" into a lone
# surrogate (which no file name, database or reply can hold) or any other character at will.
_PYTHON_ONLY = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "charmap"})
_ZIP_UTF8_FLAG = 0x800
_FOLD = re.compile(r"\r?\n(?=[ \t])")
# Printable ASCII only: a stray non-ASCII character cannot be part of an encoded-word.
_ENCODED_WORD = re.compile(r"=\?[!->@-~]+\?[bBqQ]\?[!->@-~]*\?=")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A header value is one line: what encoded-words or raw bytes smuggle in as line breaks or
# other control characters (C0 but the tab folding leaves, DEL, C1, the Unicode line and
# paragraph separators) would break the reply built from it, or a log line.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]+")


def normalize_charset(label: str | None) -> str:
    """Return a Python codec name for a MIME charset label.

    GB-family labels become "gb18030"; empty, unknown and non-text codecs ("base64", "rot13",
    "undefined") and Python's own codecs ("unicode_escape") become "utf-8" so that a hostile
    label can neither crash nor misuse a codec.
    """
    name = (label or "").strip().strip("\"'").split("*", 1)[0].strip().lower()
    if name in _GB_FAMILY:
        return "gb18030"
    if not name:
        return "utf-8"
    try:
        canonical = codecs.lookup(name).name
        # Empty input never reaches the codec; four NULs are valid in every text charset,
        # UTF-16 and UTF-32 included, while non-text codecs refuse any bytes.
        (b"\x00" * 4).decode(canonical)
    except (LookupError, UnicodeError, ValueError):
        return "utf-8"
    if canonical in _PYTHON_ONLY:
        return "utf-8"
    return "gb18030" if canonical in _GB_CODECS else canonical


def decode_bytes(data: bytes, label: str | None) -> str:
    """Decode bytes with their (normalized) label, then strict UTF-8, then GB18030.

    When nothing decodes strictly the label is applied with errors="replace", so undecodable
    bytes show up as U+FFFD; so do the lone surrogates UTF-7 lets through ("+2AA-").
    """
    charset = normalize_charset(label)
    for candidate in (charset, "utf-8", "gb18030"):
        try:
            return _no_surrogates(data.decode(candidate))
        except (UnicodeError, LookupError):
            continue
    return _no_surrogates(data.decode(charset, "replace"))


def _no_surrogates(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def one_line(text: str) -> str:
    """The text with every run of control characters and line breaks made one space; tabs
    stay, as unfolding leaves them."""
    return _CONTROL.sub(" ", text)


def decode_unlabelled(data: bytes) -> str:
    """Decode unlabelled bytes: strict UTF-8, then GB18030, else the reading that loses less."""
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeError:
            continue
    # Truncated or corrupt text: keep whichever reading loses fewer characters.
    readings = [data.decode(candidate, "replace") for candidate in ("utf-8", "gb18030")]
    return min(readings, key=lambda text: text.count("\ufffd"))


def recover_8bit(value: str) -> str:
    """Turn raw 8-bit header bytes that arrived surrogate-escaped back into text."""
    if not _SURROGATE.search(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # Surrogates outside the escape range did not come from bytes: nothing to recover.
        return _SURROGATE.sub("\ufffd", value)
    return decode_unlabelled(data)


def decode_header_value(value: str) -> str:
    """Decode a header value: RFC 2047 encoded-words, raw 8-bit bytes and folding.

    Encoded-words are recognised anywhere, also inside quotes (QQ's
    name="=?gb18030?B?...?="), and adjacent words are joined before decoding, so a character
    split across two words comes out whole. The result is one line (see one_line).
    """
    text = _FOLD.sub("", recover_8bit(value))
    pieces: list[str] = []
    position = 0
    for run_start, run_end in _encoded_runs(text):
        pieces.append(text[position:run_start])
        pieces.append(_decode_run(text[run_start:run_end]))
        position = run_end
    pieces.append(text[position:])
    return one_line("".join(pieces)).strip()


def _encoded_runs(text: str) -> list[tuple[int, int]]:
    """Spans of consecutive encoded-words; whitespace between two words is not text (RFC 2047)."""
    runs: list[tuple[int, int]] = []
    for match in _ENCODED_WORD.finditer(text):
        if runs and not text[runs[-1][1] : match.start()].strip(" \t\r\n"):
            runs[-1] = (runs[-1][0], match.end())
        else:
            runs.append((match.start(), match.end()))
    return runs


def _decode_run(run: str) -> str:
    """Decode one run of adjacent encoded-words, joining bytes that share a charset."""
    try:
        parts = decode_header(" ".join(_ENCODED_WORD.findall(run)))
    except (HeaderParseError, ValueError, UnicodeError):
        return _decode_words_one_by_one(run)
    merged: list[tuple[bytes, str]] = []
    for data, label in parts:
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
        charset = normalize_charset(label)
        if merged and merged[-1][1] == charset:
            merged[-1] = (merged[-1][0] + raw, charset)
        else:
            merged.append((raw, charset))
    return "".join(decode_bytes(data, charset) for data, charset in merged)


def _decode_words_one_by_one(run: str) -> str:
    """Fallback for a run with a broken word: decode the good words, keep the bad one literally."""
    pieces: list[str] = []
    for word in _ENCODED_WORD.findall(run):
        try:
            pieces.append(_decode_run_strict(word))
        except (HeaderParseError, ValueError, UnicodeError):
            pieces.append(word)
    return "".join(pieces)


def _decode_run_strict(word: str) -> str:
    parts = decode_header(word)
    return "".join(
        decode_bytes(data, label) if isinstance(data, bytes) else data for data, label in parts
    )


def decode_zip_member_name(name: str, flag_bits: int) -> str:
    """Recover a ZIP member name that zipfile decoded as cp437.

    Chinese Windows tools store GBK names and macOS stores UTF-8 names, both without the UTF-8
    flag (0x800); strict UTF-8 first, then GB18030, tells them apart. A name that is neither
    stays as zipfile read it.
    """
    if flag_bits & _ZIP_UTF8_FLAG:
        return name
    try:
        data = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeError:
            continue
    return name
