"""Downloading QQ 超大附件 links from a local HTTP server standing in for QQ's file servers."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

import pytest

from intake.domain import LargeFileLink
from intake.mail.large_files import (
    Download,
    DownloadError,
    Response,
    download,
    human_size,
    parse_expiry,
    parse_size,
    redact,
    size_range,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET_QUERY = "t=exs_ftn_download&k=SECRETKEY0123456789abcdef&code=SECRETCODE"
FILE = bytes(range(256)) * 1171 + bytes(range(224))  # 300000 bytes
FILE_SIZE_TEXT = "292.97K"
EXPIRED_PAGE = (
    "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>QQ邮箱</title></head>"
    "<body>文件已过期或已被删除</body></html>"
).encode()


class QQFiles(BaseHTTPRequestHandler):
    """Each path is one way a QQ file link can answer."""

    release: threading.Event  # set at teardown so stalled replies end
    requests: list[tuple[str, str]]  # (path with query, User-Agent)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.requests.append((self.path, self.headers.get("User-Agent", "")))
        match path:
            case "/file":
                self._send(FILE)
            case "/redirect":
                self.send_response(302)
                self.send_header("Location", f"/file?{SECRET_QUERY}")
                self.end_headers()
            case "/redirect-to-page":
                self.send_response(302)
                self.send_header("Location", f"/expired?{SECRET_QUERY}")
                self.end_headers()
            case "/expired":
                self._send(EXPIRED_PAGE, "text/html; charset=utf-8")
            case "/disguised-page":  # a page sent as a file, after a BOM and blank lines
                self._send(b"\xef\xbb\xbf\r\n  " + EXPIRED_PAGE.replace(b"<!DOCTYPE html>", b""))
            case "/missing":
                self.send_error(404)
            case "/slow-reply":
                self.release.wait(10)
            case "/slow-body":
                self.send_response(200)
                self.send_header("Content-Length", str(len(FILE)))
                self.end_headers()
                self.wfile.write(FILE[:1000])
                self.wfile.flush()
                self.release.wait(10)
            case "/truncated":
                self.send_response(200)
                self.send_header("Content-Length", str(len(FILE)))
                self.end_headers()
                self.wfile.write(FILE[:1000])
            case "/unannounced":  # no Content-Length: the body ends when the connection does
                self.send_response(200)
                self.end_headers()
                self.wfile.write(FILE)
            case "/empty":
                self._send(b"")
            case _:
                self.send_error(500)

    def _send(self, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server:
    def __init__(self, base: str, handler: type[QQFiles]) -> None:
        self.base = base
        self.handler = handler

    def link(self, path: str, filename: str = "课堂实录.mp4", size_text: str = "") -> LargeFileLink:
        return LargeFileLink(filename, size_text, "", f"{self.base}{path}?{SECRET_QUERY}")

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.handler.requests


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    class Handler(QQFiles):  # fresh state for each test
        release = threading.Event()
        requests: list[tuple[str, str]] = []  # noqa: RUF012

    handler = Handler
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", handler)
    finally:
        handler.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def fails(link: LargeFileLink, folder: Path, **options: object) -> DownloadError:
    with pytest.raises(DownloadError) as caught:
        download(link, folder, **options)  # type: ignore[arg-type]
    error = caught.value
    assert "SECRET" not in error.message
    assert "SECRET" not in str(error)
    assert "SECRET" not in str(error.__cause__ or "")
    assert list(folder.iterdir()) == [], "a failed download leaves no file"
    return error


def assert_is_the_file(result: Download, folder: Path) -> None:
    assert result.path.parent == folder
    assert list(folder.iterdir()) == [result.path]
    assert result.path.read_bytes() == FILE
    assert result.size == len(FILE)
    assert result.sha256 == hashlib.sha256(FILE).hexdigest()


# --- downloads ---------------------------------------------------------------------------------


def test_file_is_streamed_into_a_temporary_file_in_a_new_folder(
    server: Server, tmp_path: Path
) -> None:
    folder = tmp_path / "archive" / "incoming"
    result = download(server.link("/file", size_text=FILE_SIZE_TEXT), folder)
    assert_is_the_file(result, folder)
    assert result.content_type == "application/octet-stream"
    (_, user_agent) = server.requests[0]
    assert user_agent.startswith("Mozilla/5.0")


def test_redirect_is_followed(server: Server, tmp_path: Path) -> None:
    result = download(server.link("/redirect", size_text=FILE_SIZE_TEXT), tmp_path)
    assert_is_the_file(result, tmp_path)
    assert [path.split("?")[0] for path, _ in server.requests] == ["/redirect", "/file"]
    assert all(agent.startswith("Mozilla/5.0") for _, agent in server.requests)


def test_body_without_content_length_is_read_to_its_end(server: Server, tmp_path: Path) -> None:
    result = download(server.link("/unannounced", size_text="293K"), tmp_path)
    assert_is_the_file(result, tmp_path)


def test_size_is_not_checked_when_the_mail_gave_none(server: Server, tmp_path: Path) -> None:
    assert_is_the_file(download(server.link("/file"), tmp_path), tmp_path)


def test_a_page_is_accepted_when_the_file_is_a_page(server: Server, tmp_path: Path) -> None:
    result = download(server.link("/expired", filename="作品介绍.HTML"), tmp_path)
    assert result.path.read_bytes() == EXPIRED_PAGE
    assert result.content_type == "text/html"


def test_given_opener_is_used_with_the_timeout(server: Server, tmp_path: Path) -> None:
    calls: list[tuple[str, float]] = []

    def opener(request: Request, *, timeout: float) -> Response:
        calls.append((request.full_url, timeout))
        return urlopen(request, timeout=timeout)  # type: ignore[no-any-return]

    download(server.link("/file"), tmp_path, opener=opener, timeout=7.5)
    assert calls == [(f"{server.base}/file?{SECRET_QUERY}", 7.5)]


# --- failures ----------------------------------------------------------------------------------


def test_expired_link_is_not_tried(server: Server, tmp_path: Path) -> None:
    expires_at = datetime(2021, 5, 20, 21, 59, tzinfo=SHANGHAI)
    error = fails(
        server.link("/file"), tmp_path, expires_at=expires_at, now=expires_at + timedelta(minutes=1)
    )
    assert error.code == "expired"
    assert error.message == (
        "超大附件“课堂实录.mp4”的下载链接已于 2021年5月20日 21:59 过期，无法再下载。"
        "请重新上传后再发一次链接，或把文件改为普通附件。"
    )
    assert server.requests == []


def test_link_is_tried_up_to_its_expiry(server: Server, tmp_path: Path) -> None:
    expires_at = datetime(2021, 5, 20, 21, 59, tzinfo=SHANGHAI)
    result = download(server.link("/file"), tmp_path, expires_at=expires_at, now=expires_at)
    assert_is_the_file(result, tmp_path)


def test_link_with_expiry_ahead_and_default_now_is_tried(server: Server, tmp_path: Path) -> None:
    expires_at = datetime.now(UTC) + timedelta(days=3)
    assert_is_the_file(download(server.link("/file"), tmp_path, expires_at=expires_at), tmp_path)


def test_html_page_instead_of_the_file(server: Server, tmp_path: Path) -> None:
    error = fails(server.link("/expired", size_text=FILE_SIZE_TEXT), tmp_path)
    assert error.code == "html_page"
    assert error.message == (
        "超大附件“课堂实录.mp4”的链接返回的是网页而不是文件，可能已过期或需要登录。"
        "请把文件改为普通附件，或重新上传后再发一次链接。"
    )


def test_html_page_sent_as_a_file_is_recognised_by_its_first_bytes(
    server: Server, tmp_path: Path
) -> None:
    assert fails(server.link("/disguised-page"), tmp_path).code == "html_page"


def test_html_page_after_a_redirect(server: Server, tmp_path: Path) -> None:
    assert fails(server.link("/redirect-to-page"), tmp_path).code == "html_page"


def test_size_differing_from_the_mail(server: Server, tmp_path: Path) -> None:
    error = fails(server.link("/file", size_text="350K"), tmp_path)
    assert error.code == "size_mismatch"
    assert error.message == (
        "超大附件“课堂实录.mp4”下载到的文件大小（292.97K）与邮件中写的（350K）不符，"
        "文件可能不完整。请重新上传后再发一次链接，或把文件改为普通附件。"
    )


def test_size_differing_without_content_length(server: Server, tmp_path: Path) -> None:
    assert fails(server.link("/unannounced", size_text="250K"), tmp_path).code == "size_mismatch"


def test_empty_file_differs_from_its_size(server: Server, tmp_path: Path) -> None:
    assert fails(server.link("/empty", size_text="1K"), tmp_path).code == "size_mismatch"


def test_not_found(server: Server, tmp_path: Path) -> None:
    error = fails(server.link("/missing"), tmp_path)
    assert error.code == "http_error"
    assert error.message == (
        f"超大附件“课堂实录.mp4”下载失败：服务器返回 HTTP 404（{server.base}/missing）。"
        "链接可能已过期或失效，请重新上传后再发一次链接，或把文件改为普通附件。"
    )


def test_reply_too_slow(server: Server, tmp_path: Path) -> None:
    started = time.monotonic()
    error = fails(server.link("/slow-reply"), tmp_path, timeout=0.3)
    assert error.code == "timeout"
    assert error.message.startswith("超大附件“课堂实录.mp4”下载超时：0.3 秒内没有收到数据（")
    assert time.monotonic() - started < 3


def test_body_stalling_midway(server: Server, tmp_path: Path) -> None:
    assert fails(server.link("/slow-body"), tmp_path, timeout=0.3).code == "timeout"


def test_connection_closed_before_the_announced_length(server: Server, tmp_path: Path) -> None:
    error = fails(server.link("/truncated"), tmp_path)
    assert error.code == "network"
    assert "只收到 1000B，服务器说有 292.97K" in error.message


def test_nothing_listening(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    link = LargeFileLink("a.mp4", "", "", f"http://127.0.0.1:{port}/ftn/download?{SECRET_QUERY}")
    error = fails(link, tmp_path, timeout=2)
    assert error.code == "network"
    assert f"http://127.0.0.1:{port}/ftn/download" in error.message


def test_file_larger_than_the_cap_announced(server: Server, tmp_path: Path) -> None:
    error = fails(server.link("/file", size_text=FILE_SIZE_TEXT), tmp_path, max_bytes=100_000)
    assert error.code == "too_large"
    assert error.message == (
        "超大附件“课堂实录.mp4”超过了可以接收的上限（97.66K），没有下载。"
        "请压缩或拆分后再发送，或与组委会联系。"
    )


def test_file_larger_than_the_cap_unannounced(server: Server, tmp_path: Path) -> None:
    assert fails(server.link("/unannounced"), tmp_path, max_bytes=100_000).code == "too_large"


def test_file_exactly_at_the_cap_is_accepted(server: Server, tmp_path: Path) -> None:
    result = download(server.link("/unannounced"), tmp_path, max_bytes=len(FILE))
    assert_is_the_file(result, tmp_path)


def test_link_that_is_not_a_web_address(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("x")
    link = LargeFileLink("secret.txt", "", "", f"file://{tmp_path}/secret.txt")
    folder = tmp_path / "downloads"
    with pytest.raises(DownloadError) as caught:
        download(link, folder)
    assert caught.value.code == "network"
    assert not folder.exists()


def test_unnamed_link_is_named_by_its_address_without_the_query(
    server: Server, tmp_path: Path
) -> None:
    link = LargeFileLink("", "", "", f"{server.base}/expired?{SECRET_QUERY}")
    error = fails(link, tmp_path)
    assert error.message.startswith(f"超大附件“{server.base}/expired”的链接返回的是网页")


# --- sizes, expiries, addresses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("128.03M", round(128.03 * 1024**2)),
        ("128.03MB", round(128.03 * 1024**2)),
        ("128.03 mb", round(128.03 * 1024**2)),
        ("512K", 512 * 1024),
        ("512KB", 512 * 1024),
        ("1.2G", round(1.2 * 1024**3)),
        ("1.5GiB", round(1.5 * 1024**3)),
        ("2T", 2 * 1024**4),
        ("900B", 900),
        (" 292.97K ", 300001),
        ("0B", 0),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "M", "900", "1.2X", "12.5.3M", "-5M", "约128M", "1,024K"])
def test_parse_size_unreadable(text: str) -> None:
    assert parse_size(text) is None


def test_size_range_allows_rounding_or_one_percent() -> None:
    # Half a step of 0.01M is 5 KiB, less than 1% of 128.03M (134249185.28 bytes).
    assert size_range("128.03M") == (132906693, 135591678)
    # Half a step of 0.1G is 0.05G, more than 1% of 1.2G.
    assert size_range("1.2G") == (1234803097, 1342177280)
    assert size_range("900B") == (891, 909)
    assert size_range("3B") == (2, 4)  # 1% is less than half a byte: rounding decides
    assert size_range("unknown") is None


def test_human_size() -> None:
    assert [human_size(n) for n in (900, 300000, 134249185, round(1.2 * 1024**3))] == [
        "900B",
        "292.97K",
        "128.03M",
        "1.20G",
    ]


RECEIVED = datetime(2021, 5, 10, 9, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021年5月20日 21:59", datetime(2021, 5, 20, 21, 59, tzinfo=SHANGHAI)),
        ("2021年5月20日21:59 到期", datetime(2021, 5, 20, 21, 59, tzinfo=SHANGHAI)),
        ("2021 年 05 月 20 日 21：59", datetime(2021, 5, 20, 21, 59, tzinfo=SHANGHAI)),
        ("5月20日 21:59", datetime(2021, 5, 20, 21, 59, tzinfo=SHANGHAI)),
        ("2021-05-20 21:59", datetime(2021, 5, 20, 21, 59, tzinfo=SHANGHAI)),
        ("2021-05-20 21:59:30", datetime(2021, 5, 20, 21, 59, 30, tzinfo=SHANGHAI)),
        ("2021/5/20", datetime(2021, 5, 20, 23, 59, tzinfo=SHANGHAI)),
        ("2021年5月20日", datetime(2021, 5, 20, 23, 59, tzinfo=SHANGHAI)),
        # A date already past when the mail came is next year's.
        ("1月3日 08:00", datetime(2022, 1, 3, 8, 0, tzinfo=SHANGHAI)),
        ("5月10日 09:30", datetime(2021, 5, 10, 9, 30, tzinfo=SHANGHAI)),
        ("5月10日 09:29", datetime(2022, 5, 10, 9, 29, tzinfo=SHANGHAI)),
    ],
)
def test_parse_expiry(text: str, expected: datetime) -> None:
    parsed = parse_expiry(text, SHANGHAI, RECEIVED)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is SHANGHAI


def test_parse_expiry_year_comes_from_received_at_in_the_zone() -> None:
    # 2021-12-31 17:00 UTC is already 2022-01-01 01:00 in Shanghai.
    received = datetime(2021, 12, 31, 17, 0, tzinfo=UTC)
    assert parse_expiry("1月5日 10:00", SHANGHAI, received) == datetime(
        2022, 1, 5, 10, 0, tzinfo=SHANGHAI
    )
    naive = datetime(2021, 12, 31, 23, 0)  # taken to be Shanghai time
    assert parse_expiry("1月5日 10:00", SHANGHAI, naive) == datetime(
        2022, 1, 5, 10, 0, tzinfo=SHANGHAI
    )


def test_parse_expiry_leap_day_without_year() -> None:
    received = datetime(2023, 3, 1, tzinfo=SHANGHAI)
    assert parse_expiry("2月29日 10:00", SHANGHAI, received) == datetime(
        2024, 2, 29, 10, 0, tzinfo=SHANGHAI
    )


@pytest.mark.parametrize(
    "text", ["", "到期", "明天", "2021年13月1日", "2021年2月30日 10:00", "5月20日 25:00", "21:59"]
)
def test_parse_expiry_unreadable(text: str) -> None:
    assert parse_expiry(text, SHANGHAI, RECEIVED) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"http://mail.qq.com/cgi-bin/ftnExs_download?{SECRET_QUERY}",
            "http://mail.qq.com/cgi-bin/ftnExs_download",
        ),
        (
            "https://wx.mail.qq.com/ftn/download?func=3&key=SECRET&code=SECRET#frag",
            "https://wx.mail.qq.com/ftn/download",
        ),
        ("https://user:SECRET@Example.COM:8443/a/b?x=SECRET", "https://example.com:8443/a/b"),
        ("http://[::1]:8080/f?SECRET", "http://[::1]:8080/f"),
        ("not a url", ""),
        ("http://host:badport/x?SECRET", ""),
    ],
)
def test_redact(url: str, expected: str) -> None:
    assert redact(url) == expected
