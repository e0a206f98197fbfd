"""What schools wrap their files in, end to end through the flow: archives (zip as Chinese
Windows and macOS write them, 7z, rar, a forwarded .eml) and QQ 超大附件 links, downloaded
from a local server standing in for QQ's."""

from __future__ import annotations

import email
import http.server
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from archive_files import (
    RarMember,
    forwarded_eml,
    gbk_zip,
    macos_zip,
    rar4,
    require_tool,
    seven_zip,
    utf8_zip,
    zeros_bomb,
)
from databases import database_url
from deployment import CST
from mailmaker import make_docx, make_mail

from intake.app import App, build, repo_path
from intake.config import load_config
from intake.domain import RawMail
from intake.flow import handle
from intake.store.models import Message
from intake.store.views import ledger_rows

SCHOOL = "双流区实验小学"
ON_TIME = datetime(2021, 5, 20, 9, 0, tzinfo=CST)
REPORT = make_docx("报告")


def _build(tmp_path: Path, **sections: dict[str, Any]) -> App:
    def local(data: dict[str, Any]) -> None:
        data["database"] = {"url": database_url(tmp_path)}
        data["storage"] = {"archive_dir": str(tmp_path / "archive")}
        data["replies"] = {"transport": "folder", "folder": str(tmp_path / "outbox")}
        for key, values in sections.items():
            data.setdefault(key, {}).update(values)

    return build(load_config(repo_path("config.example.toml"), local))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = _build(tmp_path)
    yield built
    built.close()


def _send(app: App, files, *, body: str = "请查收", uid: int = 1, html: str | None = None):
    ref = app.refs[0]
    raw = make_mail("t@school.example", ref.account, f"{SCHOOL}材料", files, body=body, html=html)
    return handle(app.intake, ref, RawMail(ref.key, "INBOX", 1, uid, ON_TIME, raw))


def _row(app: App, message: Message) -> dict[str, Any]:
    return next(r for r in ledger_rows(app.intake.factory) if r["id"] == message.id)


def _last_reply(app: App) -> str:
    app.send_replies()
    path = max(Path(app.intake.replies.folder).glob("*.eml"), key=lambda p: p.stat().st_mtime)
    message = email.message_from_bytes(path.read_bytes())
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


@pytest.mark.parametrize(
    "archive",
    [
        pytest.param(lambda: ("材料.zip", gbk_zip([(f"{SCHOOL}报告.docx", REPORT)])), id="gbk-zip"),
        pytest.param(
            lambda: ("材料.zip", macos_zip([(f"{SCHOOL}报告.docx", REPORT)])), id="macos-zip"
        ),
        pytest.param(lambda: ("材料.7z", seven_zip([(f"{SCHOOL}报告.docx", REPORT)])), id="7z"),
        pytest.param(
            lambda: ("转发.eml", forwarded_eml([(f"{SCHOOL}报告.docx", REPORT)])), id="eml"
        ),
    ],
)
def test_a_report_inside_an_archive_is_judged_like_an_attachment(app: App, archive):
    name, payload = archive()
    message = _send(app, [(name, payload)])
    row = _row(app, message)
    assert (row["decision"], row["school"], row["kind"]) == ("accepted", SCHOOL, "report")
    assert f"{name}/{SCHOOL}报告.docx（报告）" in _last_reply(app)


def test_a_rar_from_winrar_is_opened_with_the_debian_tool(app: App):
    require_tool("unar", "unar")
    payload = rar4([RarMember(f"{SCHOOL}报告.docx".encode(), REPORT)])
    message = _send(app, [("材料.rar", payload)])
    assert _row(app, message)["decision"] == "accepted"


def test_a_file_named_only_by_its_archive_takes_the_archives_name(app: App):
    message = _send(app, [(f"{SCHOOL}报告.zip", utf8_zip([("报告正文.docx", REPORT)]))])
    row = _row(app, message)
    assert (row["decision"], row["school"], row["kind"]) == ("accepted", SCHOOL, "report")


def test_a_zip_bomb_is_refused_without_being_unpacked(app: App):
    message = _send(app, [("材料.zip", zeros_bomb(300))])
    row = _row(app, message)
    assert (row["decision"], row["reasons"]) == ("rejected", ["bad_archive"])
    assert "解压后过大" in _last_reply(app)


def test_members_with_unsafe_paths_are_left_out_and_named(app: App):
    payload = utf8_zip(
        [("../evil.docx", b"x"), ("/etc/passwd", b"x"), (f"{SCHOOL}报告.docx", REPORT)]
    )
    message = _send(app, [("材料.zip", payload)])
    row = _row(app, message)
    assert (row["decision"], row["warnings"]) == ("accepted", ["unsafe_member"])
    assert "../evil.docx" in _last_reply(app)


LINK = "http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=SECRETKEY&code=SECRETCODE"


class _FakeQQ(http.server.BaseHTTPRequestHandler):
    """Answers requests for QQ's download links, reached as an HTTP proxy."""

    body = b""
    content_type = "application/octet-stream"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def fake_qq(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_FakeQQ]]:
    handler = type("Handler", (_FakeQQ,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    yield handler
    server.shutdown()


def _link_body(filename: str, size: str, expires: str = "2099年6月20日 21:59") -> str:
    return f"从QQ邮箱发来的超大附件\n\n{filename} ({size}, {expires} 到期)进入下载页面：{LINK}\n"


def test_in_ask_mode_a_link_only_mail_asks_for_an_attachment(app: App):
    message = _send(app, [], body=_link_body(f"{SCHOOL}报告.docx", "12.5K"))
    row = _row(app, message)
    assert (row["decision"], row["reasons"]) == ("rejected", ["missing_attachment"])
    [link] = row["large_files"]
    assert (link["filename"], link["size"], link["state"]) == (
        f"{SCHOOL}报告.docx",
        "12.5K",
        "asked",
    )
    assert link["expires_at"] == "2099-06-20T13:59:00+00:00"
    assert f"{SCHOOL}报告.docx" in _last_reply(app)


def test_a_kept_link_is_downloaded_in_the_background_and_stored(tmp_path: Path, fake_qq):
    fake_qq.body = REPORT
    app = _build(tmp_path, large_files={"mode": "download"})
    try:
        size = f"{len(REPORT) / 1024:.2f}K"
        message = _send(app, [], body=_link_body(f"{SCHOOL}报告.docx", size))
        row = _row(app, message)
        assert (row["decision"], row["kind"]) == ("accepted", "report")
        [link] = row["large_files"]
        assert (link["state"], link["expires_at"]) == ("pending", "2099-06-20T13:59:00+00:00")
        assert "系统将自动下载保存" in _last_reply(app)

        app.download_links()  # the step a run takes after each poll
        [link] = _row(app, message)["large_files"]
        assert link["state"] == "downloaded"
        with app.intake.factory() as session:
            [stored] = session.get(Message, message.id).attachments
            assert Path(stored.stored_path).read_bytes() == REPORT
    finally:
        app.close()


def test_a_link_that_gives_a_web_page_asks_the_school_to_resend(tmp_path: Path, fake_qq, caplog):
    fake_qq.body = "<!DOCTYPE html><html><body>请登录QQ邮箱</body></html>".encode()
    fake_qq.content_type = "text/html; charset=utf-8"
    app = _build(tmp_path, large_files={"mode": "download"})
    try:
        message = _send(app, [], body=_link_body(f"{SCHOOL}报告.docx", "3.00K"))
        _last_reply(app)
        app.download_links()  # the step a run takes after each poll
        [link] = _row(app, message)["large_files"]
        assert link["state"] == "failed" and link["error"].startswith("html_page")
        follow_up = _last_reply(app)
        assert "未能下载保存" in follow_up and f"{SCHOOL}报告.docx" in follow_up
        assert "SECRET" not in caplog.text
    finally:
        app.close()


def test_word_lock_files_in_a_zipped_folder_are_left_out(app: App):
    payload = utf8_zip(
        [(f"材料/{SCHOOL}报告.docx", REPORT), (f"材料/~${SCHOOL}报告.docx", b"\0" * 162)]
    )
    message = _send(app, [("材料.zip", payload)])
    row = _row(app, message)
    assert (row["decision"], row["reasons"], row["warnings"]) == ("accepted", [], [])


def test_cases_told_apart_by_their_folders(app: App):
    case = make_docx("改进案例")
    other = make_docx("改进案例", "另一篇案例的正文。")
    payload = utf8_zip(
        [(f"{SCHOOL}改进案例1/改进案例.docx", case), (f"{SCHOOL}改进案例2/改进案例.docx", other)]
    )
    message = _send(app, [("材料.zip", payload)])
    row = _row(app, message)
    assert (row["decision"], row["warnings"]) == ("accepted", [])
    with app.intake.factory() as session:
        slots = sorted(a.slot for a in session.get(Message, message.id).attachments if a.kind)
    assert slots == ["1", "2"]


def test_a_late_message_keeps_no_link_to_download(tmp_path: Path, fake_qq):
    app = _build(tmp_path, large_files={"mode": "download"})
    try:
        ref = app.refs[0]
        raw = make_mail(
            "t@school.example",
            ref.account,
            f"{SCHOOL}报告",
            [],
            body=_link_body(f"{SCHOOL}报告.docx", "3.00K"),
        )
        late = datetime(2021, 5, 23, 9, 0, tzinfo=CST)
        message = handle(app.intake, ref, RawMail(ref.key, "INBOX", 1, 1, late, raw))
        row = _row(app, message)
        assert row["reasons"] == ["late"]
        assert [link["state"] for link in row["large_files"]] == ["asked"]
        assert app.download_links().downloaded == 0
    finally:
        app.close()
