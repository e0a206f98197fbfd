"""Downloading QQ 超大附件 (ultra-large attachments) announced as links in a message body.

A download streams into a temporary file inside a given folder (normally the archive's), with
its SHA-256 computed on the way and a cap on its size; the caller moves the file where it
belongs. A failed download never leaves its temporary file behind. QQ answers an expired or
protected link with a web page and "200 OK", so a page where a file was expected is refused,
and the size QQ wrote into the mail is checked against what arrived.

The query of a QQ download link holds its access key and code: messages only ever name a link
by redact(url), its scheme, host and path.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from email.message import Message
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO, Literal, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, build_opener
from zoneinfo import ZoneInfo

from intake.domain import Attachment, LargeFileLink, ParsedMail

ErrorCode = Literal[
    "expired", "html_page", "size_mismatch", "too_large", "http_error", "timeout", "network"
]

USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
CHUNK_BYTES = 1024 * 1024

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
# "128.03M", "128.03 MB", "512K", "1.2GiB", "900B": QQ counts in powers of 1024.
_SIZE = re.compile(
    r"(?P<number>\d{1,15})(?:\.(?P<fraction>\d{1,6}))?\s*(?:(?P<unit>[KMGT])(?:i?B)?|B)",
    re.IGNORECASE,
)
_TIME = r"(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})(?:\s*[:：]\s*(?P<second>\d{2}))?"
# "2021年5月20日 21:59", "5月20日21:59", "2021年5月20日".
_CHINESE_DATE = re.compile(
    r"(?:(?P<year>\d{4})\s*年\s*)?(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]"
    rf"(?:\s*{_TIME})?"
)
# "2021-05-20 21:59", "2021/5/20", "2021.5.20T21:59:00".
_NUMERIC_DATE = re.compile(
    r"(?<!\d)(?P<year>\d{4})\s*[-/.]\s*(?P<month>\d{1,2})\s*[-/.]\s*(?P<day>\d{1,2})(?!\d)"
    rf"(?:(?:\s+|T){_TIME})?"
)
# A date without a time of day is taken to last until the end of that day.
_END_OF_DAY = time(23, 59)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_STARTS = (b"<!doctype html", b"<html")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class Download:
    """A downloaded file, still under its temporary name inside the folder it was asked for."""

    path: Path
    size: int
    sha256: str
    content_type: str  # media type without parameters, "application/octet-stream" if unsaid


class DownloadError(Exception):
    """Why a link gave no file: code for the program, message in Chinese for people."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


class Response(Protocol):
    """What download() needs from an opened URL (an http.client.HTTPResponse)."""

    @property
    def headers(self) -> Message[str, str]: ...

    def read(self, amt: int, /) -> bytes: ...

    def close(self) -> None: ...


class Opener(Protocol):
    """Opens a request like urllib.request.urlopen, following redirects."""

    def __call__(self, request: Request, *, timeout: float) -> Response: ...


def parse_size(size_text: str) -> int | None:
    """Bytes in a size as QQ writes it ("128.03M", "512K", "1.2G", "900B"); None if unreadable."""
    read = _read_size(size_text)
    return None if read is None else round(read[0])


def size_range(size_text: str) -> tuple[int, int] | None:
    """The smallest and largest byte counts QQ could have written as size_text.

    QQ rounds to its shown decimals, so a file may differ by half a step of the last digit;
    at least 1% either way is allowed in any case.
    """
    read = _read_size(size_text)
    if read is None:
        return None
    value, step = read
    slack = max(value / 100, step / 2)
    return max(0, math.floor(value - slack)), math.ceil(value + slack)


def _read_size(size_text: str) -> tuple[float, float] | None:
    """The size in bytes and the size of one step of its last shown digit."""
    match = _SIZE.fullmatch(size_text.strip())
    if match is None:
        return None
    fraction = match.group("fraction") or ""
    unit = _UNITS[(match.group("unit") or "").upper()]
    value = float(f"{match.group('number')}.{fraction or 0}") * unit
    return value, unit / 10 ** len(fraction)


def parse_expiry(expires_text: str, zone: ZoneInfo, received_at: datetime) -> datetime | None:
    """When a link expires, as an aware datetime in zone; None if unreadable.

    A date without a year is the first such date not before received_at; a date without a
    time of day lasts until 23:59. A naive received_at is taken to be in zone.
    """
    match = _CHINESE_DATE.search(expires_text) or _NUMERIC_DATE.search(expires_text)
    if match is None:
        return None
    parts = {name: int(value) for name, value in match.groupdict().items() if value is not None}
    received = received_at.replace(tzinfo=zone) if received_at.tzinfo is None else received_at
    if "year" in parts:
        return _moment(parts, parts["year"], zone)
    first_year = received.astimezone(zone).year
    for year in (first_year, first_year + 1):
        moment = _moment(parts, year, zone)
        if moment is not None and moment >= received:
            return moment
    return None


def _moment(parts: dict[str, int], year: int, zone: ZoneInfo) -> datetime | None:
    try:
        clock = (
            time(parts["hour"], parts["minute"], parts.get("second", 0))
            if "hour" in parts
            else _END_OF_DAY
        )
        return datetime.combine(date(year, parts["month"], parts["day"]), clock, tzinfo=zone)
    except ValueError:
        return None


def redact(url: str) -> str:
    """The URL without its query, fragment or credentials: scheme, host (and port), path."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme and host else ""


def download(
    link: LargeFileLink,
    folder: Path,
    *,
    timeout: float = 60.0,
    max_bytes: int = 2 * 1024**3,
    now: datetime | None = None,
    expires_at: datetime | None = None,
    opener: Opener | None = None,
) -> Download:
    """Fetch link into a new temporary file inside folder, or raise DownloadError.

    timeout is how long to wait for any data at all (connecting, the reply, each chunk);
    expires_at (aware) is when the link expires, if known, and a link already past it is not
    tried. The temporary file is removed on any failure.
    """
    name = link.filename or redact(link.url) or "（未命名）"
    if expires_at is not None and expires_at < (now or datetime.now(UTC)):
        raise DownloadError("expired", _expired_message(name, expires_at))
    if urlsplit(link.url).scheme.lower() not in ("http", "https"):
        raise DownloadError("network", f"超大附件“{name}”的链接不是网页下载地址，无法下载。")
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=folder)
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            size, sha, content_type = _fetch(link, name, handle, timeout, max_bytes, opener)
            handle.flush()
            os.fsync(handle.fileno())
        _check_size(link, name, size)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Download(temporary, size, sha, content_type)


def _fetch(
    link: LargeFileLink,
    name: str,
    handle: BinaryIO,
    timeout: float,
    max_bytes: int,
    opener: Opener | None,
) -> tuple[int, str, str]:
    """Stream the reply into handle: its size, SHA-256 and media type."""
    request = Request(link.url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    with _network_errors(link, name, timeout):
        response = (opener or build_opener().open)(request, timeout=timeout)
    try:
        content_type = _media_type(response.headers)
        announced = _content_length(response.headers)
        digest = hashlib.sha256()
        size = 0
        while chunk := _read(response, link, name, timeout, min(CHUNK_BYTES, max_bytes - size + 1)):
            if size == 0:
                _refuse_page(link, name, content_type, chunk)
                _refuse_too_large(name, announced or 0, max_bytes)
                _check_size(link, name, announced)
            size += len(chunk)
            _refuse_too_large(name, size, max_bytes)
            digest.update(chunk)
            handle.write(chunk)
    finally:
        response.close()
    if size == 0:
        _refuse_page(link, name, content_type, b"")
    if announced is not None and size < announced:
        raise DownloadError("network", _interrupted_message(name, size, announced, link))
    return size, digest.hexdigest(), content_type


def _read(response: Response, link: LargeFileLink, name: str, timeout: float, amount: int) -> bytes:
    with _network_errors(link, name, timeout):
        return response.read(amount)


@contextmanager
def _network_errors(link: LargeFileLink, name: str, timeout: float) -> Iterator[None]:
    """Turn what urllib and http.client raise into DownloadError."""
    where = redact(link.url)
    try:
        yield
    except HTTPError as error:
        error.close()
        raise DownloadError("http_error", _http_message(name, error.code, where)) from error
    except TimeoutError as error:
        raise DownloadError("timeout", _timeout_message(name, timeout, where)) from error
    except URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise DownloadError("timeout", _timeout_message(name, timeout, where)) from error
        raise DownloadError("network", _network_message(name, where)) from error
    except (HTTPException, OSError) as error:
        raise DownloadError("network", _network_message(name, where)) from error


def _media_type(headers: Message[str, str]) -> str:
    value = headers.get("Content-Type") or ""
    return value.split(";", 1)[0].strip().lower() or "application/octet-stream"


def _content_length(headers: Message[str, str]) -> int | None:
    value = (headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


def _refuse_page(link: LargeFileLink, name: str, content_type: str, head: bytes) -> None:
    """A web page where a file was expected: QQ's answer to an expired or protected link."""
    if link.filename.lower().endswith((".htm", ".html")):
        return
    if content_type in _HTML_TYPES or _looks_like_html(head):
        raise DownloadError(
            "html_page",
            f"超大附件“{name}”的链接返回的是网页而不是文件，可能已过期或需要登录。"
            "请把文件改为普通附件，或重新上传后再发一次链接。",
        )


def _looks_like_html(head: bytes) -> bool:
    for bom in _BOMS:
        head = head.removeprefix(bom)
    return head.lstrip().lower().startswith(_HTML_STARTS)


def _refuse_too_large(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise DownloadError(
            "too_large",
            f"超大附件“{name}”超过了可以接收的上限（{human_size(max_bytes)}），没有下载。"
            "请压缩或拆分后再发送，或与组委会联系。",
        )


def _check_size(link: LargeFileLink, name: str, size: int | None) -> None:
    expected = size_range(link.size_text)
    if size is not None and expected is not None and not expected[0] <= size <= expected[1]:
        raise DownloadError(
            "size_mismatch",
            f"超大附件“{name}”下载到的文件大小（{human_size(size)}）"
            f"与邮件中写的（{link.size_text}）不符，文件可能不完整。"
            "请重新上传后再发一次链接，或把文件改为普通附件。",
        )


def human_size(size: int) -> str:
    """A byte count the way QQ writes sizes: "900B", "292.97K", "1.20G"."""
    for unit in "TGMK":
        if size >= _UNITS[unit]:
            return f"{size / _UNITS[unit]:.2f}{unit}"
    return f"{size}B"


def _format_moment(moment: datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def _expired_message(name: str, expires_at: datetime) -> str:
    return (
        f"超大附件“{name}”的下载链接已于 {_format_moment(expires_at)} 过期，无法再下载。"
        "请重新上传后再发一次链接，或把文件改为普通附件。"
    )


def _http_message(name: str, status: int, where: str) -> str:
    return (
        f"超大附件“{name}”下载失败：服务器返回 HTTP {status}（{where}）。链接可能已过期或失效，"
        "请重新上传后再发一次链接，或把文件改为普通附件。"
    )


def _timeout_message(name: str, timeout: float, where: str) -> str:
    return (
        f"超大附件“{name}”下载超时：{timeout:g} 秒内没有收到数据（{where}）。"
        "可能是网络暂时不通；如果再次失败，请把文件改为普通附件，或重新上传后再发一次链接。"
    )


def _network_message(name: str, where: str) -> str:
    return (
        f"超大附件“{name}”下载时网络出错，没有连上服务器或连接中断（{where}）。"
        "如果再次失败，请把文件改为普通附件，或重新上传后再发一次链接。"
    )


def _interrupted_message(name: str, size: int, announced: int, link: LargeFileLink) -> str:
    return (
        f"超大附件“{name}”下载中断：只收到 {human_size(size)}，服务器说有 "
        f"{human_size(announced)}（{redact(link.url)}）。如果再次失败，请把文件改为普通附件，"
        "或重新上传后再发一次链接。"
    )


# The content type recorded for a file that so far exists only as a 超大附件 link.
LINK_CONTENT_TYPE = "application/x-qq-large-file"


def links_as_files(mail: ParsedMail) -> ParsedMail:
    """The message with each named 超大附件 link added as a file, judged like an attachment;
    a link to a file that is also attached is left out."""
    attached = {attachment.filename for attachment in mail.attachments}
    files = tuple(
        Attachment(link.filename, LINK_CONTENT_TYPE, b"", link=link)
        for link in mail.links
        if link.filename and link.filename not in attached
    )
    return replace(mail, attachments=mail.attachments + files) if files else mail
