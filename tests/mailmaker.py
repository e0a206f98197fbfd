"""Real messages and real .docx files for tests, built the way a careful mail client would."""

from __future__ import annotations

import io
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt


def make_docx(
    title: str,
    body: str = "根据评价结果，我校在课堂教学方面做了改进。",
    *,
    author: str = "双流区实验小学  张老师",
    font: str = "宋体",
    sizes: tuple[float, float, float] = (18, 12, 12),
    margin_cm: float = 2.5,
) -> bytes:
    """A small real Word document; by default in 宋体 with the notice's sizes and margins."""
    document = Document()
    for section in document.sections:
        section.top_margin = section.bottom_margin = Cm(margin_cm)
        section.left_margin = section.right_margin = Cm(margin_cm)
    for text, size in zip((title, author, body), sizes, strict=True):
        run = document.add_paragraph().add_run(text)
        run.font.size = Pt(size)
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_mail(
    sender: str,
    to: str,
    subject: str,
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    *,
    body: str = "老师您好，附件是我校的材料，请查收。",
    html: str | None = None,
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="school.example")
    if date is not None:
        message["Date"] = format_datetime(date)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, payload in files:
        maintype, subtype = _type_of(filename)
        message.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def _type_of(filename: str) -> tuple[str, str]:
    ending = filename.rsplit(".", 1)[-1].lower()
    known = {
        "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "doc": ("application", "msword"),
        "pdf": ("application", "pdf"),
        "jpg": ("image", "jpeg"),
        "mp4": ("video", "mp4"),
    }
    return known.get(ending, ("application", "octet-stream"))
