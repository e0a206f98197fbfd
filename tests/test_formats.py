"""The Shuangliu format rules on what schools attach, end to end through the flow: each
problem found in the document, its severity from the config, and the reply that names it."""

from __future__ import annotations

import email
import io
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from databases import database_url
from deployment import CST
from mailmaker import make_docx, make_mail
from office import require_soffice

from intake.app import App, build, repo_path
from intake.config import load_config
from intake.domain import RawMail
from intake.flow import handle
from intake.store.models import Message

SCHOOL = "双流区实验小学"
ON_TIME = datetime(2021, 5, 20, 9, 0, tzinfo=CST)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = _build(tmp_path)
    yield built
    built.close()


def _build(tmp_path: Path, **format_changes: Any) -> App:
    def local(data: dict[str, Any]) -> None:
        data["database"] = {"url": database_url(tmp_path)}
        data["storage"] = {"archive_dir": str(tmp_path / "archive")}
        data["replies"] = {"transport": "folder", "folder": str(tmp_path / "outbox")}
        data["campaigns"]["shuangliu-2021"]["format"].update(format_changes)

    return build(load_config(repo_path("config.example.toml"), local))


def _send(app: App, files: list[tuple[str, bytes]], uid: int = 1) -> tuple[Message, str]:
    ref = app.refs[0]
    raw = make_mail("t@school.example", ref.account, f"{SCHOOL}材料", files)
    message = handle(app.intake, ref, RawMail(ref.key, "INBOX", 1, uid, ON_TIME, raw))
    app.send_replies()
    replies = sorted(Path(app.intake.replies.folder).glob("*.eml"), key=lambda p: p.stat().st_mtime)
    return message, _reply_text(replies[-1])


def _facts(app: App, message: Message) -> list[dict[str, Any]]:
    with app.intake.factory() as session:
        stored = session.get(Message, message.id)
        assert stored is not None
        return [attachment.facts for attachment in stored.attachments]


def _reply_text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes())
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


def test_a_well_made_report_passes_every_check(app: App):
    message, _ = _send(app, [(f"{SCHOOL}报告.docx", make_docx("报告"))])
    assert (message.decision, message.warnings) == ("accepted", [])
    [facts] = _facts(app, message)
    assert facts["docx"]["margins"][0]["left_cm"] == 2.5


def test_fonts_sizes_and_margins_warn_and_quote_the_paragraph(app: App):
    document = make_docx(
        "关于课堂改进的报告",
        "我校在课堂教学方面做了改进。",
        font="黑体",
        sizes=(16, 12, 14),
        margin_cm=3.0,
    )
    message, reply = _send(app, [(f"{SCHOOL}报告.docx", document)])
    assert message.decision == "accepted"
    assert set(message.warnings) == {"bad_font", "bad_size", "bad_margins"}
    assert "标题的字体为黑体，应为宋体（“关于课堂改进的报告”）" in reply
    assert "标题的字号为三号（16 磅），应为小二（18 磅）" in reply
    assert "正文的字号为四号（14 磅），应为小四（12 磅）（“我校在课堂教学方面做了改…”）" in reply
    assert (
        "页边距为上 3.0 厘米、下 3.0 厘米、左 3.0 厘米、右 3.0 厘米，应为上下左右均 2.5 厘米"
        in reply
    )


def test_a_case_too_long_or_signed_by_too_many_is_refused(app: App):
    long_case = make_docx("改进案例", "课" * 2600)
    crowded = make_docx("改进案例", "内容。", author=f"{SCHOOL}  张三 李四、王五")
    message, reply = _send(
        app, [(f"{SCHOOL}改进案例1.docx", long_case), (f"{SCHOOL}改进案例2.docx", crowded)]
    )
    assert message.decision == "rejected"
    assert message.reasons == ["too_long", "too_many_signatories"]
    assert "正文约 2600 字，超过了“每篇不超过 2500 字”的要求" in reply
    assert "署名 3 人（张三、李四、王五），超过了“署名不超过 2 人”的要求" in reply


def test_a_campaign_may_make_a_font_problem_refuse_the_file(tmp_path: Path):
    app = _build(tmp_path, reject=["font", "length", "signatories"])
    try:
        message, _ = _send(app, [(f"{SCHOOL}报告.docx", make_docx("报告", font="楷体"))])
    finally:
        app.close()
    assert (message.decision, message.reasons) == ("rejected", ["bad_font"])


def test_a_pdf_is_accepted_with_its_pages_and_a_note_that_format_was_not_checked(app: App):
    message, reply = _send(app, [(f"{SCHOOL}报告.pdf", _pdf("Report"))])
    assert (message.decision, message.warnings) == ("accepted", ["format_unchecked"])
    assert _facts(app, message)[0]["pdf"] == {"pages": 1, "chars": 1}
    assert "是 PDF 文件，无法自动检查字体" in reply


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"this is not a zip at all", "不是有效的 Word 文档"),
        (make_docx("报告")[:500], "已损坏或不完整"),
        (b"", "是空的（0 字节）"),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(app: App, payload: bytes, says: str):
    message, reply = _send(app, [(f"{SCHOOL}报告.docx", payload)])
    assert (message.decision, message.reasons) == ("rejected", ["unreadable_document"])
    assert says in reply


@pytest.mark.office
@pytest.mark.parametrize("ending", [".doc", ".wps"])
def test_doc_and_wps_are_converted_and_checked_like_docx(app: App, ending: str):
    legacy = _legacy_word(make_docx("报告", "正文。", font="黑体"))
    message, reply = _send(app, [(f"{SCHOOL}报告{ending}", legacy)])
    assert (message.decision, message.warnings) == ("accepted", ["bad_font"])
    assert _facts(app, message)[0]["converted"] is True
    assert "黑体" in reply


def test_without_libreoffice_a_doc_is_accepted_unchecked(app: App):
    app.intake.soffice = None
    message, reply = _send(app, [(f"{SCHOOL}报告.doc", b"\xd0\xcf\x11\xe0" + b"\0" * 600)])
    assert (message.decision, message.warnings) == ("accepted", ["format_unchecked"])
    assert "的格式暂时无法自动检查" in reply


def _legacy_word(docx: bytes) -> bytes:
    """The binary Word 97 file LibreOffice writes, as old Word and WPS save it."""
    binary = require_soffice()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "in.docx").write_bytes(docx)
        subprocess.run(
            [
                binary,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--convert-to",
                "doc:MS Word 97",
                "--outdir",
                str(work),
                str(work / "in.docx"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
            env={"HOME": folder, "PATH": "/usr/bin:/bin"},
        )
        return (work / "in.doc").read_bytes()


def _pdf(text: str) -> bytes:
    """A one-page PDF with a line of text, written by pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_document_a_reader_chokes_on_is_kept_unchecked_not_quarantined(
    app: App, monkeypatch: pytest.MonkeyPatch
):
    from intake.documents import inspect as inspect_module

    def choke(payload: bytes, filename: str = "") -> None:
        raise AttributeError("a reader's own bug")

    monkeypatch.setattr(inspect_module, "read_pdf_facts", choke)
    message, _ = _send(app, [(f"{SCHOOL}报告.pdf", _pdf("x"))])
    assert (message.decision, message.warnings) == ("accepted", ["format_unchecked"])


def test_a_pdf_that_only_restricts_printing_opens(app: App):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf("Report"))))
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    message, _ = _send(app, [(f"{SCHOOL}报告.pdf", buffer.getvalue())])
    assert (message.decision, message.warnings) == ("accepted", ["format_unchecked"])
