"""Raw message bytes to ParsedMail, with the Chinese charset repairs applied.

This is the only module that imports mail-parser. It is used for what it does well: building
the message tree, reading addresses structurally and validating the Date header. Everything
that involves a charset (subject, names, file names, body text) is decoded here from the raw
header values, because mail-parser decodes gb2312-labelled GBK text into nothing and replaces
raw 8-bit bytes.

parse_mail never raises on malformed input: a part that cannot be read becomes empty text or
an opaque attachment, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.utils
import logging
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

import mailparser

from intake.charsets import (
    decode_bytes,
    decode_header_value,
    decode_unlabelled,
    one_line,
    recover_8bit,
)
from intake.domain import Attachment, ParsedMail
from intake.mail.html import html_to_text
from intake.mail.links import find_large_file_links
from intake.mail.skeleton import Skeleton

log = logging.getLogger(__name__)

_BODY_TYPES = frozenset({"text/plain", "text/html"})
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# No refolding (max_line_length=None) so an attached message keeps its headers as written.
_EMBEDDED_POLICY = compat32.clone(linesep="\r\n", max_line_length=None)
# Longest values kept, as the ledger's columns hold them. A line of mail holds 998 characters;
# a longer subject is nobody's, and quoting it whole in the reply's Subject made folding that
# header take minutes (the stdlib folds encoded-words in quadratic time).
MAX_SUBJECT = 998
MAX_ID = 998
MAX_NAME = 255
MAX_FILENAME = 1024
MAX_CONTENT_TYPE = 255
# The email package reads "=?…?=" inside a header as an encoded-word even within <…>, so an
# id holding one cannot be written back as it came: the reply's In-Reply-To would name
# another id, or, when the word does not decode cleanly, could not be written at all.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[^?]*\?")


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one message as received, decoding every name and text with the Chinese repairs."""
    skeleton = Skeleton(raw)
    message = _stdlib_message(skeleton.data)
    skeleton.restore(message)
    parser = _run_mailparser(skeleton.data)
    headers = _headers(message)
    body = _collect(message)
    sender = _first_address(parser, message, "from")
    html_texts = [html_to_text(html) for html in body.html]
    plain = "\n".join(body.plain).strip()
    return ParsedMail(
        message_id=_message_id(_ids_header(message, "message-id")),
        sender=sender,
        sender_name=_display_name(message, sender)[:MAX_NAME],
        reply_to=_first_address(parser, message, "reply-to") or sender,
        to=tuple(_addresses(parser, message, "to")),
        subject=headers.get("subject", "")[:MAX_SUBJECT].strip(),
        date=_date(parser, message),
        text=plain or "\n".join(text for text, _ in html_texts).strip(),
        headers=headers,
        content_type=_content_type(message),
        attachments=tuple(body.attachments),
        links=find_large_file_links("\n".join(body.plain + [linked for _, linked in html_texts])),
        references=_references(message),
    )


def _run_mailparser(skeleton: bytes) -> Any:
    """mail-parser over the headers alone: addresses and the date are all it is asked for,
    and over a whole message it would also copy every attachment into base64 text."""
    try:
        headers = BytesHeaderParser().parsebytes(skeleton)
        headers.set_payload("")
        return mailparser.MailParser(headers)
    except Exception:
        # Hostile input can break a third-party parser in ways we cannot enumerate; the stdlib
        # fallback below still reads the message, so a crash here must not lose it.
        log.warning("mail-parser failed, falling back to the stdlib parser", exc_info=True)
        return None


def _stdlib_message(raw: bytes) -> Message:
    try:
        return email.message_from_bytes(raw)
    except RecursionError:
        # Absurdly deep nesting: keep the headers so the message can still be recorded.
        return BytesHeaderParser().parsebytes(raw)


# --- headers and addresses -------------------------------------------------------------------


def _first_raw(part: Message, name: str) -> str | None:
    """The first value of a header as stored: raw 8-bit bytes still surrogate-escaped."""
    for key, value in part.raw_items():
        if key.strip().lower() == name:
            return str(value)
    return None


def _headers(message: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in message.raw_items():
        headers.setdefault(key.strip().lower(), decode_header_value(str(value)))
    return headers


def _addresses(parser: Any, message: Message, header: str) -> list[str]:
    """Bare lower-case addresses of an address header.

    mail-parser's structural reading is preferred because it refuses to promote an ambiguous
    item to an address; the stdlib only serves when mail-parser itself failed.
    """
    if parser is not None:
        try:
            pairs = getattr(parser, header.replace("-", "_") + "_")
        except Exception:
            # Same reason as in _run_mailparser: an unknown failure must not lose the message.
            log.warning("mail-parser could not read %s", header, exc_info=True)
            pairs = []
    else:
        pairs = _stdlib_addresses(_first_raw(message, header))
    if not isinstance(pairs, list):
        return []
    return [str(pair[1]).strip().lower() for pair in pairs if len(pair) == 2 and pair[1]]


def _first_address(parser: Any, message: Message, header: str) -> str:
    found = _addresses(parser, message, header)
    return found[0] if found else ""


def _stdlib_addresses(raw: str | None) -> list[tuple[str, str]]:
    if raw is None:
        return []
    try:
        return email.utils.getaddresses([_FOLD.sub("", recover_8bit(raw))])
    except (RecursionError, ValueError, IndexError):
        # The stdlib address parser recurses on nested comments.
        return []


def _display_name(message: Message, address: str) -> str:
    """The decoded display name that goes with address in From."""
    for name, candidate in _stdlib_addresses(_first_raw(message, "from")):
        if candidate.strip().lower() == address:
            decoded = decode_header_value(name)
            # Foxmail's default form is "x@foxmail.com" <x@foxmail.com>: no name at all.
            return "" if decoded.lower() == address else decoded
    return ""


def _ids_header(message: Message, name: str) -> str:
    """A header of message ids as written: ids are never encoded-words (RFC 2047, 5), and
    decoding one could put a line break into the reply's In-Reply-To."""
    raw = _first_raw(message, name)
    return _CONTROLS.sub("", _FOLD.sub("", recover_8bit(raw))) if raw is not None else ""


def _message_id(value: str) -> str:
    """The id without angle brackets; "" when there is none, or none that fits a mail line."""
    match = _ANGLE_ID.search(value)
    words = value.split()
    found = match.group(1) if match else words[0] if words else ""
    return found if _usable_id(found) else ""


def _references(message: Message) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("in-reply-to", "references"):
        value = _ids_header(message, name)
        ids = _ANGLE_ID.findall(value) or [word for word in value.split() if "@" in word]
        found.extend(ident for ident in ids if ident not in found and _usable_id(ident))
    return tuple(found)


def _usable_id(ident: str) -> bool:
    """An id a reply can name: it fits a mail line and holds nothing read as an encoded-word."""
    return len(ident) <= MAX_ID and not _ENCODED_WORD.search(ident)


def _date(parser: Any, message: Message) -> datetime | None:
    """The Date header as an aware datetime in the sender's own offset, or None."""
    raw = _first_raw(message, "date")
    if raw is None:
        return None
    value = getattr(parser, "date", None) if parser is not None else _stdlib_date(raw)
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    # mail-parser answers in UTC; the sender's offset tells in which zone the sender wrote.
    return value.astimezone(_sender_zone(raw))


def _stdlib_date(raw: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _sender_zone(raw: str) -> timezone:
    try:
        parsed = email.utils.parsedate_tz(raw)
        offset = parsed[9] if parsed and parsed[9] is not None else 0
        return timezone(timedelta(seconds=offset))
    except (TypeError, ValueError, IndexError, OverflowError):
        return UTC


# --- MIME parts -------------------------------------------------------------------------------


def _collect(message: Message) -> _Body:
    """Walk the part tree in document order without recursion (depth is sender-controlled)."""
    body = _Body()
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        if part is not message and part.get_content_maintype() == "message":
            # An attached message (a bounce's mail.eml) is one file, not more body parts.
            body.attachments.append(_embedded_message(part))
        elif part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(child for child in reversed(children) if isinstance(child, Message))
        else:
            _add_leaf(part, body)
    return body


def _content_type(part: Message) -> str:
    """The part's type; one too long to be a real type counts as opaque data."""
    content_type = one_line(part.get_content_type())
    return content_type if len(content_type) <= MAX_CONTENT_TYPE else "application/octet-stream"


def _add_leaf(part: Message, body: _Body) -> None:
    filename = _filename(part)
    content_type = _content_type(part)
    disposition = part.get_content_disposition() or ""
    if not filename and content_type in _BODY_TYPES and disposition != "attachment":
        text = decode_bytes(_payload_bytes(part), _param(part, "content-type", "charset"))
        text = text.replace("\r\n", "\n")
        (body.html if content_type == "text/html" else body.plain).append(text)
        return
    inline = (
        part.get("content-id") is not None
        and disposition in ("", "inline")
        and part.get_content_maintype() == "image"
    )
    body.attachments.append(
        Attachment(filename, content_type, _payload_bytes(part), inline=inline),
    )


def _embedded_message(part: Message) -> Attachment:
    return Attachment(
        filename=_filename(part),
        content_type=_content_type(part),
        payload=_embedded_bytes(part),
        inline=False,
    )


def _embedded_bytes(part: Message) -> bytes:
    """The body of a message/* part, re-serialised from the parsed tree with CRLF lines."""
    try:
        flattened = part.as_bytes(policy=_EMBEDDED_POLICY)
    except (LookupError, UnicodeError, ValueError, TypeError, RecursionError):
        # Flattening re-applies declared charsets, which a hostile part can make fail.
        log.warning("cannot re-serialise an attached message", exc_info=True)
        return b""
    if flattened.startswith(b"\r\n"):  # a part without headers of its own
        data = flattened[2:]
    else:
        head_end = flattened.find(b"\r\n\r\n")
        data = flattened[head_end + 4 :] if head_end >= 0 else b""
    return _decode_transfer(data, _transfer_encoding(part))


def _payload_bytes(part: Message) -> bytes:
    """The decoded content of a leaf part.

    get_payload() (decode=False) would push raw 8-bit text through the declared charset with
    errors="replace", so 8-bit bodies are taken with decode=True, which hands back the bytes.
    Base64 is decoded here, leniently, because the stdlib gives up on a damaged stream and
    returns the base64 text itself.
    """
    if _transfer_encoding(part) == "base64":
        try:
            encoded = part.get_payload()
        except (LookupError, UnicodeError, TypeError, ValueError):
            # 8-bit junk in the base64 text makes the stdlib apply the charset label, which can
            # be unknown, "undefined", an RFC 2231 tuple or contain NUL; decode=True skips it.
            encoded = None
        if isinstance(encoded, str):
            return _fast_b64decode(encoded) or _lenient_b64decode(_wire_bytes(encoded))
    decoded = part.get_payload(decode=True)
    return decoded if isinstance(decoded, bytes) else b""


def _transfer_encoding(part: Message) -> str:
    return (_first_raw(part, "content-transfer-encoding") or "").strip().lower()


def _decode_transfer(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return _lenient_b64decode(data)
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


def _fast_b64decode(text: str) -> bytes | None:
    """Decode well-formed base64 in one pass without copies (an attachment of 60 MB would
    otherwise be copied five times); None when the text needs the lenient decoder."""
    padding = text.find("=")
    if padding >= 0 and text[padding:].strip(_PADDING_TAIL):
        return None  # "=" before the end: the lenient decoder stops there
    try:
        return binascii.a2b_base64(text)  # skips line ends; refuses non-ASCII and bad ends
    except (binascii.Error, ValueError):
        return None


_PADDING_TAIL = "= \t\r\n"


def _lenient_b64decode(data: bytes) -> bytes:
    """Decode base64 the way mail clients do: skip junk, stop at padding, drop a dangling char."""
    clean = re.sub(rb"[^A-Za-z0-9+/=]", b"", data).split(b"=", 1)[0]
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    return base64.b64decode(clean + b"=" * (-len(clean) % 4))


def _wire_bytes(text: str) -> bytes:
    """The bytes a compat32 string stands for (8-bit bytes are surrogate-escaped in it)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


# --- parameters and file names ----------------------------------------------------------------


def _filename(part: Message) -> str:
    for header, name in (("content-disposition", "filename"), ("content-type", "name")):
        value = _param(part, header, name)
        if value:
            return _shortened(value)
    return ""


def _shortened(filename: str) -> str:
    """At most MAX_FILENAME characters, keeping a short ending (".docx") that says the type."""
    if len(filename) <= MAX_FILENAME:
        return filename
    _stem, dot, ending = filename.rpartition(".")
    suffix = dot + ending if dot and len(ending) <= 16 else ""
    return filename[: MAX_FILENAME - len(suffix)] + suffix


def _param(part: Message, header: str, name: str) -> str | None:
    """A decoded header parameter: RFC 2231, QQ's quoted encoded-words and raw 8-bit bytes.

    The raw value is re-read as Latin-1 so that the stdlib's parameter parser (quoting, RFC 2231
    continuations) sees one character per original byte; the bytes are then decoded here.
    """
    raw = _first_raw(part, header)
    if raw is None:
        return None
    holder = Message()
    holder[header] = _wire_bytes(_FOLD.sub("", raw)).decode("latin-1")
    try:
        params = holder.get_params(header=header) or []
    except (ValueError, IndexError, LookupError, UnicodeError, TypeError):
        # TypeError: the stdlib cannot sort "filename*" mixed with "filename*0*" continuations.
        return None
    values = [value for key, value in params if key.strip().lower() == name]
    # RFC 2231 prefers the extended form when both filename= and filename*= are present.
    extended = [value for value in values if isinstance(value, tuple)]
    chosen = (extended or values)[0] if values else None
    if isinstance(chosen, tuple):
        charset, _language, text = chosen
        data = text.encode("latin-1", "replace")
        decoded = decode_bytes(data, charset) if charset else decode_unlabelled(data)
        return one_line(decoded).strip()
    if chosen is None:
        return None
    return decode_header_value(decode_unlabelled(chosen.encode("latin-1", "replace")))
