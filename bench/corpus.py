"""A realistic inbox of any size, built fast and the same every time for a given seed.

What a city's mailbox collects over a season: 80 % of messages carry a 30–200 KB .docx (a
school's 报告 or 改进案例 with a photo or two), 15 % a 1–5 MB .docx or PDF (photos of a whole
activity), 5 % are vacation notes from mail robots. Every attachment is different (its own
school name and its own photo bytes), so nothing is saved by the archive's deduplication.

Word files are a real python-docx document with a real PNG picture: one is written once, and
each message gets a copy with its own title and a picture of its own size. PDFs are that
document converted by LibreOffice once per size, then made unique by a trailing comment.
"""

from __future__ import annotations

import base64
import io
import random
import re
import struct
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import cache
from pathlib import Path

from docx import Document
from docx.shared import Cm, Pt

CST = timezone(timedelta(hours=8))
#: The season: the notice goes out a month before the deadline (2021-05-21 in bench config).
FIRST = datetime(2021, 4, 21, 8, 0, tzinfo=CST)
SEASON = timedelta(days=30)

_DISTRICTS = (
    "双流区 温江区 郫都区 新都区 龙泉驿区 青白江区 新津区 金牛区 武侯区 成华区 锦江区 青羊区"
)
_PLACES = (
    "棠湖 东升 华阳 九江 彭镇 金桥 黄甲 永安 胜利 新兴 公兴 黄水 西航港 白家 协和 怡心 "
    "官堰 正兴 太平 籍田 永兴 兴隆 煎茶 合江 大林 三星 万安 黄龙溪 中和 安公 红石 锦华 "
    "双华 航都 空港 蛟龙 应天 芙蓉 文星 清泉"
)
_VARIANTS = ("", "第一", "第二", "实验", "外国语", "附属", "育才", "新城")
_SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
_PARAGRAPH = (
    "本校依据区域教育质量综合评价报告，对学生学业水平、身心健康、学业负担等指标进行了逐项解读，"
    "组织教研组围绕薄弱环节开展课堂教学改进，形成了“诊断—改进—再评价”的闭环。"
)
TITLE_MARK = "TITLE-OF-THIS-DOCUMENT"

Kind = str  # "small", "large_docx", "large_pdf", "auto_reply"


@dataclass(frozen=True)
class Planned:
    """One message of the inbox before its bytes are made."""

    number: int
    kind: Kind
    school: str
    what: str  # "报告" or "改进案例1"/"改进案例2"
    sender: str
    received: datetime
    attachment_bytes: int  # the size asked for; 0 for a vacation note


def plan(total: int, seed: int = 2026) -> list[Planned]:
    """`total` messages in the order the server received them."""
    rng = random.Random(seed)
    schools = _schools(rng, max(1, total * 2 // 5))
    seconds = sorted(rng.randrange(int(SEASON.total_seconds())) for _ in range(total))
    planned = []
    sent: dict[str, int] = {}
    for number, offset in enumerate(seconds, start=1):
        roll = rng.random()
        kind = (
            "auto_reply"
            if roll < 0.05
            else "large_docx"
            if roll < 0.125
            else "large_pdf"
            if roll < 0.20
            else "small"
        )
        school = rng.choice(schools)
        count = sent[school] = sent.get(school, 0) + 1
        what = "报告" if count == 1 or count > 3 else f"改进案例{count - 1}"
        size = {
            "small": rng.randrange(30_000, 200_000),
            "large_docx": rng.randrange(1_000_000, 5_000_000),
            "large_pdf": rng.randrange(1_000_000, 5_000_000),
            "auto_reply": 0,
        }[kind]
        received = FIRST + timedelta(seconds=offset)
        planned.append(Planned(number, kind, school, what, _sender(rng), received, size))
    return planned


def _schools(rng: random.Random, count: int) -> list[str]:
    names = [
        f"{district}{place}{variant}{suffix}"
        for district in _DISTRICTS.split()
        for place in _PLACES.split()
        for variant in _VARIANTS
        for suffix in ("小学", "中学")
    ]
    return rng.sample(names, min(count, len(names)))


def _sender(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)}老师 <{rng.randrange(10**8, 10**10)}@qq.com>"


def messages(planned: list[Planned], pdf_dir: Path, seed: int = 2026) -> Iterator[bytes]:
    """The raw bytes of each planned message, made one at a time (CRLF line ends)."""
    for item in planned:
        yield message(item, pdf_dir, seed)


def message(item: Planned, pdf_dir: Path, seed: int = 2026) -> bytes:
    rng = random.Random(seed * 1_000_003 + item.number)
    headers = {
        "Received": f"from mx.school.example by mx.qq.com; {format_datetime(item.received)}",
        "X-Mailer": "QQMail 2.x",
    }
    if item.kind == "auto_reply":
        headers["Auto-Submitted"] = "auto-replied"
        return _mail(item, "自动回复: 材料", [], headers, _VACATION)
    ending = "pdf" if item.kind == "large_pdf" else "docx"
    name = f"{item.school}{item.what}.{ending}"
    payload = (
        _pdf(pdf_dir, item.attachment_bytes, item.number)
        if ending == "pdf"
        else docx(f"{item.school}{item.what}", item.attachment_bytes, rng)
    )
    return _mail(item, f"{item.school}{item.what}", [(name, payload)], headers, _BODY)


_BODY = "老师您好，附件是我校的材料，请查收。"
_VACATION = "这是来自QQ邮箱的假期自动回复邮件。您好，我最近正在休假中，无法亲自回复您的邮件。"


def _mail(
    item: Planned,
    subject: str,
    files: list[tuple[str, bytes]],
    headers: dict[str, str],
    body: str,
) -> bytes:
    """The message as QQ web mail writes it: names and subject as GB18030 encoded words (the
    attachment's inside quotes), a GB18030 text part, attachments in base64."""
    name, address = item.sender.removesuffix(">").split(" <")
    boundary = f"----=_NextPart_{item.number:016X}"
    lines = [
        f"From: {_word(name)} <{address}>",
        "To: intake@qq.com",
        f"Subject: {_word(subject)}",
        f"Date: {format_datetime(item.received)}",
        f"Message-ID: <tencent_bench{item.number:08d}@qq.com>",
        *(f"{key}: {value}" for key, value in headers.items()),
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode("gb18030")).decode().rstrip(),
    ]
    for filename, payload in files:
        lines += [
            f"--{boundary}",
            f'Content-Type: application/octet-stream; name="{_word(filename)}"',
            f'Content-Disposition: attachment; filename="{_word(filename)}"',
            "Content-Transfer-Encoding: base64",
            "",
            base64.encodebytes(payload).decode().rstrip(),
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).replace("\n", "\r\n").replace("\r\r\n", "\r\n").encode()


def _word(text: str) -> str:
    return f"=?gb18030?B?{base64.b64encode(text.encode('gb18030')).decode()}?="


# --- Word files -------------------------------------------------------------------------


def docx(title: str, size: int, rng: random.Random) -> bytes:
    """A real .docx of about `size` bytes: the template with this title and its own photo."""
    members = _template_members()
    document = members["word/document.xml"].replace(TITLE_MARK.encode(), title.encode())
    photo = noise_png(max(1_000, size - _TEMPLATE_TEXT_BYTES), rng)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            if name == _PHOTO:
                archive.writestr(name, photo, zipfile.ZIP_STORED)  # a photo does not shrink
            elif name == "word/document.xml":
                archive.writestr(name, document, zipfile.ZIP_DEFLATED)
            else:
                archive.writestr(name, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


_PHOTO = "word/media/image1.png"
_TEMPLATE_TEXT_BYTES = 20_000  # what the template's text and styles take, compressed


@cache
def _template_members() -> dict[str, bytes]:
    document = Document()
    for section in document.sections:
        section.top_margin = section.bottom_margin = Cm(2.5)
        section.left_margin = section.right_margin = Cm(2.5)
    _paragraph(document, TITLE_MARK, 18)
    _paragraph(document, "成都市双流区实验小学  张老师  李老师", 12)
    for _ in range(30):  # about 3,000 characters, a typical report's length
        _paragraph(document, _PARAGRAPH, 12)
    document.add_picture(io.BytesIO(noise_png(2_000, random.Random(1))), width=Cm(12))
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert _PHOTO in members, sorted(members)
    return members


def _paragraph(document: object, text: str, size: float) -> None:
    from docx.oxml.ns import qn

    run = document.add_paragraph().add_run(text)  # type: ignore[attr-defined]
    run.font.size = Pt(size)
    run.font.name = "宋体"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")


def noise_png(size: int, rng: random.Random) -> bytes:
    """A valid PNG of about `size` bytes whose pixels are noise: it compresses no better
    than a photo does."""
    width = 256
    height = max(1, size // (width * 3 + 1))
    rows = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 0))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- PDF files --------------------------------------------------------------------------

#: PDFs come in these sizes (MB); a message asking for another size gets the nearest below.
PDF_SIZES_MB = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5)


# As a scanner's or phone's photos end up in a PDF: neither scaled down nor recompressed.
_KEEP_IMAGES = (
    '{"UseLosslessCompression":{"type":"boolean","value":"true"},'
    '"ReduceImageResolution":{"type":"boolean","value":"false"}}'
)


def prepare_pdfs(folder: Path) -> None:
    """Convert the template to PDF once per size with LibreOffice (a few seconds each)."""
    folder.mkdir(parents=True, exist_ok=True)
    for megabytes in PDF_SIZES_MB:
        target = folder / f"{megabytes}.pdf"
        if target.exists():
            continue
        data = docx("成都市双流区实验小学改进案例", int(megabytes * 1_000_000), random.Random(7))
        with tempfile.TemporaryDirectory() as work:
            source = Path(work) / f"{megabytes}.docx"
            source.write_bytes(data)
            subprocess.run(
                [
                    "soffice",
                    f"-env:UserInstallation=file://{work}/profile",
                    "--headless",
                    "--convert-to",
                    f"pdf:writer_pdf_Export:{_KEEP_IMAGES}",
                    "--outdir",
                    work,
                    str(source),
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
            (Path(work) / f"{megabytes}.pdf").replace(target)


@cache
def _pdf_bytes(path: Path) -> bytes:
    return path.read_bytes()


def _pdf(folder: Path, size: int, number: int) -> bytes:
    fits = [mb for mb in PDF_SIZES_MB if mb * 1_000_000 <= size] or [PDF_SIZES_MB[0]]
    return _pdf_bytes(folder / f"{fits[-1]}.pdf") + f"%bench-{number}\n".encode()


def mbox_line(raw: bytes) -> bytes:
    """One mbox entry: the From_ line, the message with LF line ends and its own "From "
    lines quoted, and an empty line."""
    text = re.sub(rb"(?m)^(>*From )", rb">\1", raw.replace(b"\r\n", b"\n"))
    return b"From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n" + text.rstrip(b"\n") + b"\n\n"


def write_mbox(path: Path, planned: list[Planned], pdf_dir: Path) -> int:
    """The planned messages as an .mbox file (made one at a time); its size in bytes."""
    prepare_pdfs(pdf_dir)
    with path.open("wb") as out:
        for raw in messages(planned, pdf_dir):
            out.write(mbox_line(raw))
    return path.stat().st_size
