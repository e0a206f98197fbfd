"""Write the sample inbox of the Shuangliu 2021 campaign
(双流区第四届教育质量综合评价结果解读运用展评).

Run from the repository root:

    .venv/bin/python samples/make_inbox.py

It rewrites samples/roster-shuangliu-2021.csv, samples/inbox/{primary,junior}/*.eml, samples/expected.json and
samples/README.md. The output is byte-stable: every timestamp, Message-ID, MIME boundary and
docx zip entry is fixed, so a rerun produces identical files.

Messages are assembled from raw bytes on purpose, not with the email package: real Chinese mail
clients write encodings that the email package would "fix" (gb2312 labels on GBK text, 8-bit
GBK header bytes, encoded-words split in the middle of a character, quoted RFC 2047 parameter
values). Only stdlib and python-docx are used.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, Twips

HERE = Path(__file__).resolve().parent
CRLF = b"\r\n"
CST = timezone(timedelta(hours=8))
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
DOCX_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

PRIMARY_BOX = "1036303270@qq.com"  # 小学组, 张楠楠
JUNIOR_BOX = "8762808@qq.com"  # 初中组, 叶书艳
BOX_OWNER = {PRIMARY_BOX: "张楠楠", JUNIOR_BOX: "叶书艳"}
BOX_OF_GROUP = {"primary": PRIMARY_BOX, "junior": JUNIOR_BOX}

# (school, group, senders). Names use 堃 玥 喆 镕 (outside GB2312) on purpose.
ROSTER: list[tuple[str, str, list[str]]] = [
    ("双流区实验小学", "primary", ["2583041172@qq.com", "slsyxx_jky@163.com"]),
    ("双流区棠湖小学", "primary", ["1290476635@qq.com"]),
    ("双流区堃玥小学", "primary", ["3057712284@qq.com", "kunyue_jky@163.com"]),
    ("双流区东升小学", "primary", ["604218837@qq.com"]),
    ("双流区黄甲小学", "primary", ["hjxx2021@163.com"]),
    ("双流区彭镇小学", "primary", ["2410397756@qq.com", "pzxx_jds@163.com"]),
    ("双流中学实验学校初中部", "junior", ["1873620451@qq.com", "slzxsyxx@163.com"]),
    ("双流区棠湖中学", "junior", ["tanghu_zx@foxmail.com", "735260918@qq.com"]),
    ("双流区永安中学", "junior", ["yazx_jwc@163.com"]),
    ("双流区西航港第二初级中学", "junior", ["xhg2zx@163.com"]),
    ("双流区喆远实验学校", "junior", ["1547732098@qq.com", "zheyuan_jks@163.com"]),
]


# =============================================================================================
# Small helpers
# =============================================================================================


def t(month: int, day: int, hh: int, mm: int, ss: int) -> datetime:
    """A 2021 time in Asia/Shanghai (+0800)."""
    return datetime(2021, month, day, hh, mm, ss, tzinfo=CST)


def rfc_date(dt: datetime, cst_comment: bool = False) -> str:
    s = format_datetime(dt)  # 'Wed, 12 May 2021 10:23:11 +0800'
    return s + " (CST)" if cst_comment else s


def digest(key: str, n: int, upper: bool = False) -> str:
    h = hashlib.sha256(key.encode("utf-8")).hexdigest()[:n]
    return h.upper() if upper else h


def digits(key: str, n: int) -> str:
    return str(int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16))[:n]


def uuid_like(key: str) -> str:
    h = digest(key, 32, upper=True)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def b64_body(data: bytes) -> bytes:
    """Base64 in 76-character lines, CRLF-terminated."""
    s = base64.b64encode(data)
    return CRLF.join(s[i : i + 76] for i in range(0, len(s), 76)) + CRLF


def ew(text: str, label: str, codec: str | None = None) -> str:
    """One RFC 2047 B encoded-word; `label` is what is written, `codec` what is really used."""
    raw = text.encode(codec or label)
    return f"=?{label}?B?{base64.b64encode(raw).decode('ascii')}?="


def ew_split_midchar(text: str, label: str, codec: str) -> str:
    """Two encoded-words whose boundary falls inside one multibyte character."""
    raw = text.encode(codec)
    cut = len(raw) // 2
    # move the cut so that it lands after the first byte of a multibyte character
    pos = 0
    for ch in text:
        n = len(ch.encode(codec))
        if pos + n > cut and n > 1:
            cut = pos + 1
            break
        pos += n
    a, b = raw[:cut], raw[cut:]
    for part in (a, b):  # each half on its own must not decode: that is the point
        try:
            part.decode(codec)
        except UnicodeDecodeError:
            break
    else:
        raise AssertionError("split did not land inside a character")
    enc = lambda x: base64.b64encode(x).decode("ascii")  # noqa: E731
    return f"=?{label}?B?{enc(a)}?=\r\n =?{label}?B?{enc(b)}?="


def header(name: str, value: str | bytes) -> bytes:
    """One header line; `value` may carry its own folding (CRLF + tab) and raw 8-bit bytes."""
    v = value if isinstance(value, bytes) else value.encode("ascii")
    return name.encode("ascii") + b": " + v + CRLF


def headers(pairs: list[tuple[str, str | bytes]]) -> bytes:
    return b"".join(header(n, v) for n, v in pairs)


def part(pairs: list[tuple[str, str | bytes]], body: bytes) -> bytes:
    return headers(pairs) + CRLF + body


def multipart(boundary: str, parts: list[bytes], preamble: bytes = b"") -> bytes:
    b = boundary.encode("ascii")
    out = preamble
    for p in parts:
        out += b"--" + b + CRLF + p + CRLF
    return out + b"--" + b + b"--" + CRLF


def gb18030_only_ok(text: str) -> bool:
    """True when `text` cannot be encoded in GB2312 (a label lie is then visible)."""
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return False


def html_of(text: str) -> str:
    lines = text.split("\n")
    return "".join(f"<div>{line if line else '<br>'}</div>" for line in lines)


def crlf_text(text: str) -> str:
    return text.replace("\n", "\r\n")


# =============================================================================================
# .docx documents (python-docx, made byte-stable)
# =============================================================================================

SONG = "宋体"


def _song(run, size_pt: float, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    run.font.name = SONG  # w:ascii / w:hAnsi
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), SONG)
    run.font.size = Pt(size_pt)
    if bold:
        run.bold = True


def make_docx(
    title: str,
    unit_line: str,
    body: list[tuple[str, str]],
    created: datetime,
    modified: datetime,
    author: str = "Administrator",
    body_font_on_runs: bool = True,
) -> bytes:
    """A document that meets the notice's format: 宋体, title 小二 18pt, unit/author line and
    body 小四 12pt, margins 2.5 cm (1417 twips), A4.

    body_font_on_runs=False leaves the body runs bare so that 宋体 12pt is inherited from the
    Normal style, as Word and WPS usually write it.
    """
    doc = Document()
    pkg = doc.part.package
    # Drop the template's thumbnail and stylesWithEffects.xml: Word does not write either by
    # default, and together they would push the file over 40 KB.
    for rels in (pkg.rels, doc.part.rels):
        for rId, rel in list(rels.items()):
            if rel.reltype in (RT.THUMBNAIL, STYLES_WITH_EFFECTS):
                del rels[rId]
                rels._target_parts_by_rId.pop(rId, None)

    normal = doc.styles["Normal"]
    normal.font.name = SONG
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), SONG)

    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    for side in ("top_margin", "bottom_margin", "left_margin", "right_margin"):
        setattr(sec, side, Twips(1417))

    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _song(p.add_run(title), 18, bold=True)

    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _song(p.add_run(unit_line), 12)

    for kind, text in body:
        p = doc.add_paragraph()
        p.paragraph_format.line_spacing = 1.5
        if kind == "h":
            _song(p.add_run(text), 12, bold=True)
        else:
            p.paragraph_format.first_line_indent = Pt(24)
            run = p.add_run(text)
            if body_font_on_runs:
                _song(run, 12)

    cp = doc.core_properties
    cp.author = author
    cp.last_modified_by = author
    cp.title = ""
    cp.revision = 3
    # python-docx writes these as UTC ("...Z"): give it naive UTC times
    cp.created = created.astimezone(UTC).replace(tzinfo=None)
    cp.modified = modified.astimezone(UTC).replace(tzinfo=None)
    cp.last_printed = datetime(2021, 1, 1, 0, 0, 0)

    buf = io.BytesIO()
    doc.save(buf)
    return stable_zip(buf.getvalue())


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times and attributes (Word itself writes 1980-01-01)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            zi.external_attr = 0
            dst.writestr(zi, src.read(info.filename), compresslevel=9)
    return out.getvalue()


def report_docx(
    school: str,
    names: list[str],
    grade: str,
    focus: str,
    when: datetime,
    revised: bool = False,
    body_font_on_runs: bool = True,
) -> bytes:
    f = REPORT_FOCUS[focus]
    body = report_paragraphs(school, grade, focus)
    if revised:
        body.insert(
            -1,
            (
                "p",
                "（修改说明）本稿更正了初稿中“问题台账”部分的两处数据，"
                "并补充了改进活动的课堂观察记录。",
            ),
        )
    return make_docx(
        title=f"{f['headline']}——{school}教育质量综合评价结果解读和改进活动报告",
        unit_line=f"{school}　" + "　".join(names),
        body=body,
        created=when - timedelta(days=6, hours=3),
        modified=when - timedelta(minutes=42),
        body_font_on_runs=body_font_on_runs,
    )


def case_docx(school: str, names: list[str], case: str, when: datetime) -> bytes:
    c = CASES[case]
    body: list[tuple[str, str]] = c["body"]  # type: ignore[assignment]
    chars = sum(len("".join(text.split())) for _, text in body) + len(str(c["title"]))
    assert chars <= 2200, (case, chars)  # the notice allows 2500 字 per case
    assert len(names) <= 2
    return make_docx(
        title=str(c["title"]),
        unit_line=f"{school}　" + "　".join(names),
        body=body,
        created=when - timedelta(days=4, hours=5),
        modified=when - timedelta(minutes=17),
    )


# =============================================================================================
# Message builders, one per mail client
# =============================================================================================


@dataclass
class Att:
    filename: str
    data: bytes
    style: str = ""  # how the client writes the name; each builder has its default


@dataclass
class Expect:
    decision: str
    reasons: list[str] = field(default_factory=list)
    school: str | None = None
    kind: str | None = None
    supersedes: str | None = None
    tests: str = ""


def received_mx(
    box: str, recv: datetime, key: str, from_host: str, from_ip: str
) -> tuple[str, str]:
    """The Received header QQ's MX adds on top: its date is the server receive time."""
    mx = f"newxmmxszc{int(digits(key, 2)) % 9 + 1}-{int(digits(key + 'n', 2)) % 20 + 1}.qq.com"
    return (
        "Received",
        f"from {from_host} ({from_host} [{from_ip}])\r\n\tby {mx} (NewMX) with SMTP id "
        f"{digest(key + 'smtpid', 8, upper=True)}\r\n\tfor <{box}>; {rfc_date(recv)}",
    )


def received_qq_internal(box: str, recv: datetime, key: str) -> tuple[str, str]:
    """Received header of mail handed over inside QQ (web mail, smtp.qq.com, system mail)."""
    return (
        "Received",
        f"from xmbgsz{int(digits(key, 1)) + 1}.mail.qq.com (unknown [127.0.0.1])\r\n"
        f"\tby newxmesmtplogicsvrszc{int(digits(key + 'e', 1)) + 1}.qq.com (NewEsmtp) with SMTP id "
        f"{digest(key + 'esmtp', 8, upper=True)}\r\n\tfor <{box}>; {rfc_date(recv)}",
    )


def ip_of(key: str) -> str:
    return f"203.0.113.{int(digits(key, 3)) % 250 + 2}"


def tencent_id(key: str) -> str:
    return f"<tencent_{digest(key, 36, upper=True)}@qq.com>"


def reply_id(key: str) -> str:
    """Message-ID of the bot's own reply to the sample `key`."""
    return f"<{digest(key + 'reply', 20)}@intake.invalid>"


def qq_webmail(
    *,
    key: str,
    box: str,
    sender: str,
    sender_name: str,
    subject: str,
    text: str,
    date: datetime,
    recv: datetime,
    atts: list[Att] = (),  # type: ignore[assignment]
    subject_header: str | None = None,
    extra: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> bytes:
    """QQ Mail web client: gb18030 encoded-words, quoted name="=?gb18030?B?…?=", base64
    gb18030 bodies, multipart/alternative inside multipart/mixed."""
    ts = int(date.timestamp())
    b_mixed = f"----=_NextPart_{ts:08X}_{digest(key + 'm1', 8, True)}_{digest(key + 'm2', 8, True)}"
    b_alt = f"----=_NextPart_{ts:08X}_{digest(key + 'a1', 8, True)}_{digest(key + 'a2', 8, True)}"
    plain = part(
        [
            ("Content-Type", 'text/plain;\r\n\tcharset="gb18030"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64_body(crlf_text(text).encode("gb18030")),
    )
    html = part(
        [
            ("Content-Type", 'text/html;\r\n\tcharset="gb18030"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64_body(
            (
                '<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
                + html_of(text)
            ).encode("gb18030")
        ),
    )
    alt_body = multipart(b_alt, [plain, html])
    if atts:
        parts = [
            part(
                [("Content-Type", f'multipart/alternative;\r\n\tboundary="{b_alt}"')],
                CRLF + alt_body,
            )
            + CRLF
        ]
        for a in atts:
            name = ew(a.filename, "gb18030")
            parts.append(
                part(
                    [
                        (
                            "Content-Type",
                            f'application/octet-stream;\r\n\tcharset="gb18030";\r\n\tname="{name}"',
                        ),
                        ("Content-Disposition", f'attachment; filename="{name}"'),
                        ("Content-Transfer-Encoding", "base64"),
                    ],
                    b64_body(a.data),
                )
            )
        ctype = f'multipart/mixed;\r\n\tboundary="{b_mixed}"'
        body = multipart(
            b_mixed, parts, preamble=b"This is a multi-part message in MIME format." + CRLF + CRLF
        )
    else:
        ctype = f'multipart/alternative;\r\n\tboundary="{b_alt}"'
        body = b"This is a multi-part message in MIME format." + CRLF + CRLF + alt_body
    hdrs: list[tuple[str, str | bytes]] = [
        received_qq_internal(box, recv, key),
        ("X-QQ-FEAT", digest(key + "feat", 40)),
        ("X-QQ-SSF", "00000000000000F000000000000000Z"),
        ("X-QQ-BUSINESS-ORIGIN", "2"),
        ("X-Originating-IP", ip_of(key)),
        ("X-QQ-STYLE", ""),
        ("X-QQ-mid", f"webmail{digits(key + 'mid', 3)}t{ts}t{digits(key + 'mid2', 7)}"),
        ("From", f'"{ew(sender_name, "gb18030")}" <{sender}>'),
        ("To", f'"{ew(BOX_OWNER[box], "gb18030")}" <{box}>'),
        ("Subject", subject_header or ew(subject, "gb18030")),
        *extra,
        ("Mime-Version", "1.0"),
        ("Content-Type", ctype),
        ("Content-Transfer-Encoding", "8Bit"),
        ("Date", rfc_date(date)),
        ("X-Priority", "3"),
        ("Message-ID", tencent_id(key)),
        ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
        ("X-Mailer", "QQMail 2.x"),
        ("X-QQ-Mailer", "QQMail 2.x"),
    ]
    return headers(hdrs) + CRLF + body


def foxmail(
    *,
    key: str,
    box: str,
    sender: str,
    sender_name: str | None,
    subject: str,
    text: str,
    date: datetime,
    sent: datetime,
    recv: datetime,
    atts: list[Att],
    old: bool = False,
    subject_header: str | None = None,
    reply_to: str | None = None,
) -> bytes:
    """Foxmail 7.2: =?GB18030?B?…?= headers, bodies labelled charset="GB2312" (really GBK).
    old=True is Foxmail 6, which labels its encoded-words gb2312 as well.
    sender_name=None gives Foxmail's default sender form "x@y" <x@y>."""
    label = "gb2312" if old else "GB18030"
    n = digits(key + "np", 12)
    b_mixed = f"----=_001_NextPart{n}_=----"
    b_alt = f"----=_002_NextPart{n}_=----"
    tlabel = "gb2312" if old else "GB2312"
    plain = part(
        [
            ("Content-Type", f'text/plain;\r\n\tcharset="{tlabel}"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64_body(crlf_text(text).encode("gb18030")),
    )
    html = part(
        [
            ("Content-Type", f'text/html;\r\n\tcharset="{tlabel}"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64_body(
            (
                '<html><head><meta http-equiv="content-type" content="text/html; charset=gb2312">'
                "</head><body>" + html_of(text) + "</body></html>"
            ).encode("gb18030")
        ),
    )
    parts = [
        part(
            [("Content-Type", f'multipart/alternative;\r\n\tboundary="{b_alt}"')],
            CRLF + CRLF + multipart(b_alt, [plain, html]),
        )
        + CRLF
    ]
    for a in atts:
        name = ew(a.filename, label, "gb18030")
        parts.append(
            part(
                [
                    ("Content-Type", f'{DOCX_CT};\r\n\tname="{name}"'),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", f'attachment;\r\n\tfilename="{name}"'),
                ],
                b64_body(a.data) + CRLF,
            )
        )
    frm = (
        f'"{sender}" <{sender}>'
        if sender_name is None
        else f'"{ew(sender_name, label, "gb18030")}" <{sender}>'
    )
    host = "smtp.qq.com" if sender.endswith(("@qq.com", "@foxmail.com")) else "smtp.163.com"
    hdrs: list[tuple[str, str | bytes]] = [
        received_mx(
            box,
            recv,
            key,
            "smtpbg.qq.com" if host == "smtp.qq.com" else "m13-87.163.com",
            ip_of(key + "mx"),
        ),
        (
            "Received",
            f"from {'PC-' + digest(key + 'pc', 6, True)} (unknown [{ip_of(key + 'pc')}])\r\n"
            f"\tby {host} with ESMTPA id {digest(key + 'sub', 10, True)};\r\n"
            f"\t{rfc_date(sent, True)}",
        ),
        ("Date", rfc_date(date)),
        ("From", frm),
        ("To", f'"{ew(BOX_OWNER[box], label, "gb18030")}" <{box}>'),
    ]
    if reply_to:
        hdrs.append(("Reply-To", reply_to))
    hdrs += [
        ("Subject", subject_header or ew(subject, label, "gb18030")),
        ("X-Priority", "3"),
        ("X-GUID", uuid_like(key + "guid")),
        ("X-Has-Attach", "yes" if atts else "no"),
        ("X-Mailer", "Foxmail 6, 15, 201, 26 [cn]" if old else "Foxmail 7.2.19.158[cn]"),
        ("Mime-Version", "1.0"),
        (
            "Message-ID",
            f"<{date.strftime('%Y%m%d%H%M%S')}{digits(key + 'fid', 7)}@{sender.split('@')[1]}>",
        ),
        ("Content-Type", f'multipart/mixed;\r\n\tboundary="{b_mixed}"'),
    ]
    body = multipart(
        b_mixed, parts, preamble=b"This is a multi-part message in MIME format." + CRLF + CRLF
    )
    return headers(hdrs) + CRLF + body


def coremail(
    *,
    key: str,
    box: str,
    sender: str,
    sender_name: str,
    subject: str,
    text: str,
    sent: datetime,
    recv: datetime,
    atts: list[Att],
) -> bytes:
    """163.com web mail (Coremail): UTF-8 encoded-words, Date written by the web server."""
    ms = int(sent.timestamp()) * 1000 + int(digits(key + "ms", 3))
    b_mixed = f"----=_Part_{digits(key + 'p1', 6)}_{digits(key + 'p2', 9)}.{ms}"
    b_alt = f"----=_Part_{digits(key + 'p3', 6)}_{digits(key + 'p4', 9)}.{ms}"
    plain = part(
        [("Content-Type", "text/plain; charset=UTF-8"), ("Content-Transfer-Encoding", "base64")],
        b64_body(crlf_text(text).encode("utf-8")),
    )
    html = part(
        [("Content-Type", "text/html; charset=UTF-8"), ("Content-Transfer-Encoding", "base64")],
        b64_body(
            (
                '<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
                + html_of(text)
                + "</div>"
            ).encode("utf-8")
        ),
    )
    parts = [
        part(
            [("Content-Type", f'multipart/alternative; \r\n\tboundary="{b_alt}"')],
            CRLF + multipart(b_alt, [plain, html]),
        )
    ]
    for a in atts:
        name = ew(a.filename, "UTF-8")
        parts.append(
            part(
                [
                    ("Content-Type", f'{DOCX_CT}; \r\n\tname="{name}"'),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", f'attachment; \r\n\tfilename="{name}"'),
                ],
                b64_body(a.data),
            )
        )
    user = sender.split("@")[0]
    hdrs: list[tuple[str, str | bytes]] = [
        received_mx(box, recv, key, "m12-14.163.com", ip_of(key + "mx")),
        (
            "Received",
            f"from {user}$163.com ( [{ip_of(key)}] ) by\r\n"
            f"\tajax-webmail-wmsvr{int(digits(key, 2)) % 60 + 1} "
            f"(Coremail) ; {rfc_date(sent, True)}",
        ),
        ("X-Originating-IP", f"[{ip_of(key)}]"),
        ("Date", rfc_date(sent, True)),
        ("From", f'"{ew(sender_name, "UTF-8")}" <{sender}>'),
        ("To", box),
        ("Subject", ew(subject, "UTF-8")),
        ("X-Priority", "3"),
        (
            "X-Mailer",
            "Coremail Webmail Server Version XT5.0.13 build 20210104(4b77b3f4)\r\n"
            " Copyright (c) 2002-2021 www.mailtech.cn 163com",
        ),
        ("X-NTES-SC", f"AL_QuyT{digest(key + 'sc', 40)}"),
        ("Content-Type", f'multipart/mixed; \r\n\tboundary="{b_mixed}"'),
        ("MIME-Version", "1.0"),
        (
            "Message-ID",
            f"<{digest(key + 'c1', 8)}.{digest(key + 'c2', 4)}."
            f"{int(sent.timestamp() * 1000):x}.Coremail.{user}@163.com>",
        ),
        ("X-Coremail-Locale", "zh_CN"),
        ("X-CM-TRANSID", f"{digest(key + 'tr', 16)}--.{digest(key + 'tr2', 6)}_"),
    ]
    return headers(hdrs) + CRLF + multipart(b_mixed, parts)


def iphone(
    *,
    key: str,
    box: str,
    sender: str,
    sender_name: str,
    subject: str,
    text: str,
    date: datetime,
    recv: datetime,
    atts: list[Att],
) -> bytes:
    """iPhone Mail through smtp.qq.com: utf-8, filename*=utf-8''… (RFC 2231) on the disposition."""
    b = f"Apple-Mail-{uuid_like(key + 'apple')}"
    parts = [
        part(
            [
                ("Content-Type", "text/plain;\r\n\tcharset=utf-8"),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64_body(crlf_text(text).encode("utf-8")),
        )
    ]
    for a in atts:
        pct = urllib.parse.quote(a.filename.encode("utf-8"), safe="")
        parts.append(
            part(
                [
                    ("Content-Type", f'{DOCX_CT};\r\n\tname="{ew(a.filename, "utf-8")}"'),
                    ("Content-Disposition", f"attachment;\r\n\tfilename*=utf-8''{pct}"),
                    ("Content-Transfer-Encoding", "base64"),
                ],
                b64_body(a.data),
            )
        )
    parts.append(
        part(
            [
                ("Content-Type", "text/plain;\r\n\tcharset=utf-8"),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64_body(crlf_text("\n\n发自我的iPhone").encode("utf-8")),
        )
    )
    hdrs: list[tuple[str, str | bytes]] = [
        received_mx(box, recv, key, "smtpbg.qq.com", ip_of(key + "mx")),
        ("Content-Type", f"multipart/mixed; boundary={b}"),
        ("Content-Transfer-Encoding", "7bit"),
        ("From", f"{ew(sender_name, 'utf-8')} <{sender}>"),
        ("Mime-Version", "1.0 (1.0)"),
        ("Date", rfc_date(date)),
        ("Subject", ew(subject, "utf-8")),
        ("Message-Id", f"<{uuid_like(key + 'mid')}@qq.com>"),
        ("To", f"{ew(BOX_OWNER[box], 'utf-8')} <{box}>"),
        ("X-Mailer", "iPhone Mail (18E212)"),
    ]
    return headers(hdrs) + CRLF + multipart(b, parts)


def outlook_express(
    *,
    key: str,
    box: str,
    sender: str,
    sender_name: str,
    subject: str,
    text: str,
    date: datetime,
    recv: datetime,
    atts: list[Att],
    raw_subject: bool = False,
) -> bytes:
    """Outlook Express 6 with "allow 8-bit characters in headers": the attachment name (and,
    with raw_subject, the Subject) are raw GBK bytes. Encoded-words are labelled gb2312."""
    hexpart = digest(key + "oe", 8, True)
    b = (
        f"----=_NextPart_000_{digits(key + 'oe1', 4)}_01D7{hexpart[:4]}.{hexpart[4:]}"
        f"{digest(key + 'oe2', 4, True)}"
    )
    parts = [
        part(
            [
                ("Content-Type", 'text/plain;\r\n\tcharset="gb2312"'),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64_body(crlf_text(text).encode("gb18030")) + CRLF,
        )
    ]
    for a in atts:
        raw = a.filename.encode("gbk")
        parts.append(
            part(
                [
                    ("Content-Type", f'{DOCX_CT};\r\n\tname="'.encode("ascii") + raw + b'"'),
                    ("Content-Transfer-Encoding", "base64"),
                    ("Content-Disposition", b'attachment;\r\n\tfilename="' + raw + b'"'),
                ],
                b64_body(a.data) + CRLF,
            )
        )
    hdrs: list[tuple[str, str | bytes]] = [
        received_mx(box, recv, key, "m13-45.163.com", ip_of(key + "mx")),
        (
            "Received",
            f"from PC-{digest(key + 'pc', 6, True)} (unknown [{ip_of(key)}])\r\n"
            f"\tby smtp{int(digits(key, 1)) + 1} "
            f"(Coremail) with SMTP id {digest(key + 'cm', 22)};\r\n\t"
            f"{rfc_date(recv - timedelta(seconds=4))}",
        ),
        (
            "Message-ID",
            f"<000{digest(key + 'a', 1)}01d7{digest(key + 'b', 4)}${digest(key + 'c', 8)}"
            f"$6401a8c0@PC{digits(key, 6)}>",
        ),
        ("From", f'"{ew(sender_name, "gb2312", "gbk")}" <{sender}>'),
        ("To", f"<{box}>"),
        ("Subject", subject.encode("gbk") if raw_subject else ew(subject, "gb2312", "gbk")),
        ("Date", rfc_date(date)),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed;\r\n\tboundary="{b}"'),
        ("X-Priority", "3"),
        ("X-MSMail-Priority", "Normal"),
        ("X-Mailer", "Microsoft Outlook Express 6.00.2900.5931"),
        ("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.2900.6157"),
    ]
    return (
        headers(hdrs)
        + CRLF
        + multipart(
            b, parts, preamble=b"This is a multi-part message in MIME format." + CRLF + CRLF
        )
    )


def outlook16(
    *,
    key: str,
    box: str,
    sender: str,
    sender_name: str,
    subject: str,
    text: str,
    date: datetime,
    recv: datetime,
    atts: list[Att],
) -> bytes:
    """Outlook 2016 with a Chinese locale: RFC 2231 filename*0*=gbk''…; filename*1*=… with the
    continuation split inside a character (decoding must happen after joining)."""
    hx = digest(key + "ol", 8, True)
    b_mixed = f"----=_NextPart_000_0001_01D7{hx[:4]}.{hx[4:]}{digest(key + 'x', 4, True)}"
    b_alt = f"----=_NextPart_001_0002_01D7{hx[:4]}.{hx[4:]}{digest(key + 'x', 4, True)}"
    plain = part(
        [
            ("Content-Type", 'text/plain;\r\n\tcharset="gb2312"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64_body(crlf_text(text).encode("gb18030")) + CRLF,
    )
    html = part(
        [
            ("Content-Type", 'text/html;\r\n\tcharset="gb2312"'),
            ("Content-Transfer-Encoding", "base64"),
        ],
        b64_body(
            (
                '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
                "<meta http-equiv=Content-Type "
                'content="text/html; charset=gb2312"></head><body lang=ZH-CN>'
                "<div class=WordSection1>"
                + "".join(f"<p class=MsoNormal>{x or '&nbsp;'}</p>" for x in text.split("\n"))
                + "</div></body></html>"
            ).encode("gb18030")
        )
        + CRLF,
    )
    parts = [
        part(
            [("Content-Type", f'multipart/alternative;\r\n\tboundary="{b_alt}"')],
            CRLF + CRLF + multipart(b_alt, [plain, html]),
        )
        + CRLF
    ]
    for a in atts:
        raw = a.filename.encode("gbk")
        cut = 13  # odd: inside the 7th character
        assert raw[cut - 1] >= 0x80
        p0 = "".join(f"%{c:02X}" if c >= 0x80 else chr(c) for c in raw[:cut])
        p1 = "".join(f"%{c:02X}" if c >= 0x80 else chr(c) for c in raw[cut:])
        parts.append(
            part(
                [
                    ("Content-Type", f'{DOCX_CT};\r\n\tname="{ew(a.filename, "gb2312", "gbk")}"'),
                    ("Content-Transfer-Encoding", "base64"),
                    (
                        "Content-Disposition",
                        f"attachment;\r\n\tfilename*0*=gbk''{p0};\r\n\tfilename*1*={p1}",
                    ),
                ],
                b64_body(a.data) + CRLF,
            )
        )
    hdrs: list[tuple[str, str | bytes]] = [
        received_mx(box, recv, key, "smtpbg.qq.com", ip_of(key + "mx")),
        ("From", f'"{ew(sender_name, "gb2312", "gbk")}" <{sender}>'),
        ("To", f'"{ew(BOX_OWNER[box], "gb2312", "gbk")}" <{box}>'),
        ("Subject", ew(subject, "gb2312", "gbk")),
        ("Date", rfc_date(date)),
        (
            "Message-ID",
            f"<000001d7{digest(key + 'm', 4)}${digest(key + 'n', 8)}"
            f"${digest(key + 'o', 8)}$@qq.com>",
        ),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed;\r\n\tboundary="{b_mixed}"'),
        ("X-Mailer", "Microsoft Outlook 16.0"),
        ("Thread-Index", base64.b64encode(hashlib.sha256(key.encode()).digest()[:22]).decode()),
        ("Content-Language", "zh-cn"),
    ]
    body = multipart(
        b_mixed, parts, preamble=b"This is a multipart message in MIME format." + CRLF + CRLF
    )
    return headers(hdrs) + CRLF + body


def qq_autoreply(
    *,
    key: str,
    box: str,
    sender: str,
    sender_name: str,
    subject: str,
    date: datetime,
    recv: datetime,
) -> bytes:
    """A QQ Mail vacation auto-reply: HTML only, no Auto-Submitted / Precedence header."""
    html = (
        "这是来自QQ邮箱的假期自动回复邮件。<br><br>您好，我最近正在休假中，无法亲自回复您的邮件。"
        "我将在假期结束后，尽快给您回复。"
    )
    hdrs: list[tuple[str, str | bytes]] = [
        received_qq_internal(box, recv, key),
        ("X-QQ-mid", f"xmsmtpt{int(recv.timestamp())}t{digest(key + 'mid', 10)}"),
        ("From", f'"{ew(sender_name, "gb18030")}" <{sender}>'),
        ("To", f'"{ew(BOX_OWNER[box], "gb18030")}" <{box}>'),
        ("Subject", ew(subject, "gb18030")),
        ("Mime-Version", "1.0"),
        ("Content-Type", 'text/html;\r\n\tcharset="gb18030"'),
        ("Content-Transfer-Encoding", "base64"),
        ("Date", rfc_date(date)),
        ("Message-ID", tencent_id(key)),
        ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
        ("X-Mailer", "QQMail 2.x"),
        ("X-QQ-Mailer", "QQMail 2.x"),
    ]
    return headers(hdrs) + CRLF + b64_body(html.encode("gb18030"))


def bot_reply(
    *, key: str, box: str, to: str, subject: str, text: str, date: datetime, in_reply_to: str
) -> bytes:
    """The bot's own reply as it left smtp.qq.com (attached to a bounce as mail.eml)."""
    hdrs: list[tuple[str, str | bytes]] = [
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", "base64"),
        ("MIME-Version", "1.0"),
        ("From", f"{ew(BOX_OWNER[box], 'utf-8')} <{box}>"),
        ("To", to),
        ("Subject", ew(subject, "utf-8")),
        ("Date", rfc_date(date)),
        ("Message-ID", reply_id(key)),
        ("In-Reply-To", in_reply_to),
        ("References", in_reply_to),
        ("Auto-Submitted", "auto-replied"),
    ]
    return headers(hdrs) + CRLF + b64_body(crlf_text(text).encode("utf-8"))


def qq_bounce(
    *,
    key: str,
    box: str,
    failed: str,
    reason: str,
    original: bytes,
    orig_subject: str,
    orig_date: datetime,
    recv: datetime,
) -> bytes:
    """QQ's bounce: From PostMaster@qq.com, GBK subject 来自qq.com的退信, HTML body with
    无法发送到 and 退信原因, the original attached as mail.eml (message/rfc822)."""
    b = (
        f"----=_NextPart_{int(recv.timestamp()):08X}_{digest(key + 'b1', 8, True)}_"
        f"{digest(key + 'b2', 8, True)}"
    )
    od = orig_date
    html = (
        '<div style="font-size:14px;line-height:1.7">'
        "<p>很抱歉您发送的邮件被退回，以下是该邮件的相关信息：</p>"
        f"<p>被退回的邮件主题：{orig_subject}</p>"
        f"<p>发送时间：{od.year}年{od.month}月{od.day}日 {od:%H:%M}</p>"
        f"<p>无法发送到 {failed}</p>"
        f"<p>退信原因：{reason}</p>"
        "<p>建议解决方案：请确认收件人地址是否正确，或稍后重新发送。</p>"
        "<p>此邮件为系统自动发出，请勿直接回复。</p></div>"
    )
    parts = [
        part(
            [
                ("Content-Type", 'text/html;\r\n\tcharset="GBK"'),
                ("Content-Transfer-Encoding", "base64"),
            ],
            b64_body(html.encode("gbk")),
        ),
        part(
            [
                ("Content-Type", 'message/rfc822;\r\n\tname="mail.eml"'),
                ("Content-Disposition", 'attachment; filename="mail.eml"'),
                ("Content-Transfer-Encoding", "7bit"),
            ],
            original,
        ),
    ]
    hdrs: list[tuple[str, str | bytes]] = [
        received_qq_internal(box, recv, key),
        ("From", '"PostMaster" <PostMaster@qq.com>'),
        ("To", box),
        ("Subject", ew("来自qq.com的退信", "GBK")),
        ("Date", rfc_date(recv - timedelta(seconds=1))),
        ("Message-ID", tencent_id(key)),
        ("Mime-Version", "1.0"),
        ("Content-Type", f'multipart/mixed;\r\n\tboundary="{b}"'),
        ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
        ("X-Mailer", "QQMail 2.x"),
    ]
    return headers(hdrs) + CRLF + multipart(b, parts)


# =============================================================================================
# The samples
# =============================================================================================


@dataclass
class Sample:
    file: str  # "primary/001-….eml"
    raw: bytes
    expect: Expect
    attachment: str | None  # the decoded attachment name the project should see
    received: datetime
    client: str


def message_id_of(raw: bytes) -> str:
    for line in raw.split(CRLF):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode("ascii")
        if not line:
            break
    raise ValueError("no Message-ID")


def build_primary() -> list[Sample]:
    box = PRIMARY_BOX
    out: list[Sample] = []

    def add(
        n: str, slug: str, raw: bytes, expect: Expect, att: str | None, recv: datetime, client: str
    ) -> None:
        out.append(Sample(f"primary/{n}-{slug}.eml", raw, expect, att, recv, client))

    # 001 on-time report, QQ web mail -------------------------------------------------------
    k, d, r = "primary/001", t(5, 12, 10, 23, 5), t(5, 12, 10, 23, 11)
    fn = "双流区实验小学报告.docx"
    doc = report_docx(
        "双流区实验小学", ["王建国", "刘芳", "陈晓燕", "赵志强"], "四年级", "reading", d
    )
    add(
        "001",
        "report-qq-webmail",
        qq_webmail(
            key=k,
            box=box,
            sender="2583041172@qq.com",
            sender_name="王建国",
            subject="双流区实验小学报告",
            text="张老师：\n    您好！附件是双流区实验小学的教育质量综合评价结果解读和改进活动"
            "报告，请查收。\n\n双流区实验小学 教科室 王建国",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区实验小学",
            "report",
            tests="On-time report from QQ web mail: gb18030 encoded-word subject, quoted "
            '`name="=?gb18030?B?…?="` attachment, base64 gb18030 bodies.',
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 002 QQ vacation auto-reply to our reply to 001 ------------------------------------------
    k, d, r = "primary/002", t(5, 12, 10, 24, 1), t(5, 12, 10, 24, 2)
    add(
        "002",
        "qq-vacation-autoreply",
        qq_autoreply(
            key=k,
            box=box,
            sender="2583041172@qq.com",
            sender_name="王建国",
            subject="自动回复: Re: 双流区实验小学报告",
            date=d,
            recv=r,
        ),
        Expect(
            "ignored",
            ["auto_reply"],
            "双流区实验小学",
            None,
            tests='QQ vacation auto-reply: subject "自动回复: …", HTML-only body starting '
            "这是来自QQ邮箱的假期自动回复邮件。, no Auto-Submitted header. Must not be answered.",
        ),
        None,
        r,
        "QQ Mail auto-reply",
    )

    # 003 on-time report, school name outside GB2312 -------------------------------------------
    k, d, r = "primary/003", t(5, 13, 15, 41, 20), t(5, 13, 15, 41, 37)
    fn = "双流区堃玥小学报告.docx"
    doc = report_docx(
        "双流区堃玥小学",
        ["李玥", "王喆", "周敏", "杨帆", "黄丽"],
        "五年级",
        "burden",
        d,
        body_font_on_runs=False,
    )
    add(
        "003",
        "report-name-outside-gb2312",
        qq_webmail(
            key=k,
            box=box,
            sender="3057712284@qq.com",
            sender_name="李玥",
            subject="双流区堃玥小学报告",
            text="张老师，您好！\n附件是我校（双流区堃玥小学）的评价结果解读和改进活动报告，请查收。\n\n李玥",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区堃玥小学",
            "report",
            tests="On-time report whose school name has 堃 玥 (not in GB2312) in subject and "
            "filename (gb18030). Five signatories (the maximum). Body font inherited from "
            "the Normal style (宋体 12pt), not set on the runs.",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 004 case （一）, Foxmail, GB2312 label on GBK text ------------------------------------------
    k, d, s, r = "primary/004", t(5, 14, 9, 4, 51), t(5, 14, 9, 5, 19), t(5, 14, 9, 5, 22)
    fn = "双流区堃玥小学改进案例（一）.docx"
    doc = case_docx("双流区堃玥小学", ["王喆", "李玥"], "homework", d)
    text = (
        "张老师：\n您好！附件是双流区堃玥小学改进案例（一），执笔：王喆、李玥。请查收，谢谢！"
        "\n\n王喆\n双流区堃玥小学"
    )
    assert gb18030_only_ok(text)
    add(
        "004",
        "case1-foxmail-gb2312-label",
        foxmail(
            key=k,
            box=box,
            sender="kunyue_jky@163.com",
            sender_name="王喆",
            subject="双流区堃玥小学改进案例（一）",
            text=text,
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区堃玥小学",
            "case",
            tests="First case, name with （一）. Foxmail 7.2: `=?GB18030?B?…?=` headers; the body "
            'is labelled `charset="GB2312"` but contains 喆 堃 玥 (GBK only): decode as GB18030.',
        ),
        fn,
        r,
        "Foxmail 7.2",
    )

    # 005 case 2, iPhone, RFC 2231 ----------------------------------------------------------------
    k, d, r = "primary/005", t(5, 14, 16, 29, 58), t(5, 14, 16, 30, 8)
    fn = "双流区堃玥小学改进案例2.docx"
    doc = case_docx("双流区堃玥小学", ["周敏"], "sleep", d)
    add(
        "005",
        "case2-rfc2231-utf8-filename",
        iphone(
            key=k,
            box=box,
            sender="3057712284@qq.com",
            sender_name="李玥",
            subject="双流区堃玥小学改进案例2",
            text="张老师好，这是我校的第二篇改进案例（作者周敏），请查收。",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区堃玥小学",
            "case",
            tests="Second case, name with a plain 2. iPhone Mail: `filename*=utf-8''…` (RFC 2231) "
            "on Content-Disposition, utf-8 encoded-words, a trailing 发自我的iPhone part.",
        ),
        fn,
        r,
        "iPhone Mail",
    )

    # 006 third case: over the limit of 2 -----------------------------------------------------
    k, d, s, r = "primary/006", t(5, 17, 11, 12, 30), t(5, 17, 11, 12, 41), t(5, 17, 11, 12, 45)
    fn = "双流区堃玥小学改进案例3.docx"
    doc = case_docx("双流区堃玥小学", ["杨帆", "黄丽"], "recess", d)
    add(
        "006",
        "case3-over-limit",
        foxmail(
            key=k,
            box=box,
            sender="kunyue_jky@163.com",
            sender_name="堃玥小学教科室",
            subject="双流区堃玥小学改进案例3",
            text="张老师：\n我校老师又写了一篇改进案例，一并发给您，请查收。\n\n双流区堃玥小学教科室",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, doc)],
            old=True,
        ),
        Expect(
            "rejected",
            ["over_limit"],
            "双流区堃玥小学",
            "case",
            tests="Third case from a school that already has two accepted cases (004, 005): "
            "at most 2 per school. Foxmail 6: encoded-words labelled gb2312 carrying GBK "
            "bytes for 堃 玥 (subject, sender name and filename).",
        ),
        fn,
        r,
        "Foxmail 6",
    )

    # 007 first version of a report ---------------------------------------------------------------
    k, d, r = "primary/007", t(5, 17, 14, 48, 29), t(5, 17, 14, 48, 33)
    fn = "双流区棠湖小学报告.docx"
    doc = report_docx("双流区棠湖小学", ["何静", "罗军"], "五年级", "math", d)
    add(
        "007",
        "report-first-version",
        qq_webmail(
            key=k,
            box=box,
            sender="1290476635@qq.com",
            sender_name="何静",
            subject="双流区棠湖小学报告",
            text="张老师：\n您好！附件为双流区棠湖小学报告，请查收。\n\n何静",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区棠湖小学",
            "report",
            tests="On-time report; superseded later by 013 (same school, same kind).",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 008 manual acknowledgement of our reply to 007 --------------------------------------------
    k, d, r = "primary/008", t(5, 17, 14, 52, 8), t(5, 17, 14, 52, 10)
    rid = reply_id("primary/007")
    add(
        "008",
        "manual-acknowledgement",
        qq_webmail(
            key=k,
            box=box,
            sender="1290476635@qq.com",
            sender_name="何静",
            subject="回复：Re: 双流区棠湖小学报告",
            text="来信已收到，谢谢",
            date=d,
            recv=r,
            extra=[("In-Reply-To", rid), ("References", rid)],
        ),
        Expect(
            "ignored",
            ["acknowledgement"],
            "双流区棠湖小学",
            None,
            tests="A school's short manual reply to our reply (`In-Reply-To: "
            f"{rid}`, our reply to 007): not a submission, no "
            "missing_attachment rejection, no answer.",
        ),
        None,
        r,
        "QQ Mail web",
    )

    # 009 misnamed attachment --------------------------------------------------------------------
    k, s, r = "primary/009", t(5, 18, 10, 1, 40), t(5, 18, 10, 1, 44)
    fn = "新建 Microsoft Word 文档.docx"
    hj_doc = report_docx(
        "双流区黄甲小学", ["张伟", "吴霞", "郭涛"], "四年级", "health", s, body_font_on_runs=False
    )
    add(
        "009",
        "misnamed-attachment",
        coremail(
            key=k,
            box=box,
            sender="hjxx2021@163.com",
            sender_name="黄甲小学张伟",
            subject="提交材料",
            text="张老师您好：\n附件是我校的教育质量综合评价结果解读和改进活动报告，请查收！"
            "\n\n黄甲小学 张伟",
            sent=s,
            recv=r,
            atts=[Att(fn, hj_doc)],
        ),
        Expect(
            "rejected",
            ["bad_name"],
            "双流区黄甲小学",
            None,
            tests="Attachment keeps Word's default name 新建 Microsoft Word 文档.docx instead of "
            "XX学校报告, and the subject (提交材料) names neither school nor kind. 163 web mail "
            "(Coremail): UTF-8 encoded-words, two Received headers.",
        ),
        fn,
        r,
        "163 web mail (Coremail)",
    )

    # 010 the same file renamed, raw 8-bit GBK filename -----------------------------------------
    k, d, r = "primary/010", t(5, 18, 10, 30, 47), t(5, 18, 10, 31, 2)
    fn = "双流区黄甲小学报告.docx"
    add(
        "010",
        "report-raw-gbk-filename",
        outlook_express(
            key=k,
            box=box,
            sender="hjxx2021@163.com",
            sender_name="黄甲小学张伟",
            subject="双流区黄甲小学报告（重新命名）",
            text="张老师：\n刚才发送的附件忘记改名了，现重新发送，请以此为准。\n\n黄甲小学 张伟",
            date=d,
            recv=r,
            atts=[Att(fn, hj_doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区黄甲小学",
            "report",
            tests="Resent after 009 with the right name; the attachment bytes are identical "
            'to 009\'s. Outlook Express: `name="…"` and `filename="…"` are raw 8-bit GBK '
            "bytes (recover via surrogateescape → UTF-8 → GB18030).",
        ),
        fn,
        r,
        "Outlook Express 6",
    )

    # 011 "材料见附件" without an attachment ----------------------------------------------------
    k, d, r = "primary/011", t(5, 19, 16, 20, 11), t(5, 19, 16, 20, 15)
    add(
        "011",
        "no-attachment",
        qq_webmail(
            key=k,
            box=box,
            sender="2410397756@qq.com",
            sender_name="彭镇小学谢红",
            subject="双流区彭镇小学报告",
            text="张老师，您好！\n我校的报告材料见附件，请查收。\n\n彭镇小学 谢红",
            date=d,
            recv=r,
        ),
        Expect(
            "rejected",
            ["missing_attachment"],
            "双流区彭镇小学",
            None,
            tests="Says 材料见附件 but nothing is attached (multipart/alternative only).",
        ),
        None,
        r,
        "QQ Mail web",
    )

    # 012 report resent, subject split mid-character ---------------------------------------------
    k, d, r = "primary/012", t(5, 19, 16, 27, 36), t(5, 19, 16, 27, 40)
    fn = "双流区彭镇小学报告.docx"
    doc = report_docx("双流区彭镇小学", ["谢红", "邓勇", "曾琴"], "五年级", "confidence", d)
    subj = "双流区彭镇小学教育质量综合评价结果解读和改进活动报告（补发附件）"
    add(
        "012",
        "report-split-subject",
        qq_webmail(
            key=k,
            box=box,
            sender="2410397756@qq.com",
            sender_name="彭镇小学谢红",
            subject=subj,
            subject_header=ew_split_midchar(subj, "gb18030", "gb18030"),
            text="张老师，不好意思，上一封邮件忘记添加附件了，现补发，请查收。\n\n彭镇小学 谢红",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区彭镇小学",
            "report",
            tests="Report resent after 011. The long subject is two gb18030 encoded-words split "
            "inside one character: join the bytes before decoding (decode_header does; "
            "policy.default does not).",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 013 resubmitted report (supersedes 007) -----------------------------------------------------
    k, d, r = "primary/013", t(5, 20, 17, 35, 58), t(5, 20, 17, 36, 2)
    fn = "双流区棠湖小学报告.docx"
    doc = report_docx("双流区棠湖小学", ["何静", "罗军"], "五年级", "math", d, revised=True)
    add(
        "013",
        "report-resubmitted",
        qq_webmail(
            key=k,
            box=box,
            sender="1290476635@qq.com",
            sender_name="何静",
            subject="双流区棠湖小学报告（修改稿）",
            text="张老师：\n之前发送的报告中有两处数据需要更正，现发送修改稿，请以此稿为准。谢谢！\n\n何静",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区棠湖小学",
            "report",
            supersedes="primary/007-report-first-version.eml",
            tests="A second report from the same school before the deadline: accepted, and it "
            "supersedes 007 (the latest on-time report counts; this is not over_limit).",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 014 late report ------------------------------------------------------------------------------
    k, d, r = "primary/014", t(5, 22, 9, 7, 3), t(5, 22, 9, 7, 41)
    fn = "双流区东升小学报告.docx"
    doc = report_docx("双流区东升小学", ["唐亮", "宋佳"], "四年级", "reading", d)
    late_raw = qq_webmail(
        key=k,
        box=box,
        sender="604218837@qq.com",
        sender_name="东升小学唐亮",
        subject="双流区东升小学报告",
        text="张老师：\n不好意思，昨天学校网络故障，今天才把报告发出，麻烦您收一下，谢谢！"
        "\n\n东升小学 唐亮",
        date=d,
        recv=r,
        atts=[Att(fn, doc)],
    )
    add(
        "014",
        "report-late",
        late_raw,
        Expect(
            "rejected",
            ["late"],
            "双流区东升小学",
            "report",
            tests="Received 2021-05-22 09:07:41 +0800, after the deadline (2021-05-21 end of "
            "day, Asia/Shanghai). The Date header (09:07:03) is a slow sender clock.",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 015 QQ bounce of our reply to 014 -----------------------------------------------------------
    k, r = "primary/015", t(5, 22, 9, 8, 31)
    sent = t(5, 22, 9, 8, 5)
    reply_subject = "Re: 双流区东升小学报告"
    original = bot_reply(
        key="primary/014",
        box=box,
        to="604218837@qq.com",
        subject=reply_subject,
        text="双流区东升小学：\n\n您于2021年5月22日09:07发送的《双流区东升小学报告》晚于截止时间"
        "（2021年5月21日），按通知“过期不再接收”的要求，本次材料未予受理。\n\n"
        "双流区教育科学研究院 小学组",
        date=sent,
        in_reply_to=message_id_of(late_raw),
    )
    add(
        "015",
        "qq-bounce",
        qq_bounce(
            key=k,
            box=box,
            failed="604218837@qq.com",
            reason="收件人邮箱空间已满，无法接收新邮件。",
            original=original,
            orig_subject=reply_subject,
            orig_date=sent,
            recv=r,
        ),
        Expect(
            "ignored",
            ["bounce"],
            None,
            None,
            tests="QQ bounce of our reply to 014: From PostMaster@qq.com, subject "
            "来自qq.com的退信 as a GBK encoded-word, HTML body with 无法发送到 / 退信原因, our "
            "reply attached as mail.eml (message/rfc822). Never answer, never count.",
        ),
        None,
        r,
        "QQ system mail",
    )
    return out


def build_junior() -> list[Sample]:
    box = JUNIOR_BOX
    out: list[Sample] = []

    def add(
        n: str, slug: str, raw: bytes, expect: Expect, att: str | None, recv: datetime, client: str
    ) -> None:
        out.append(Sample(f"junior/{n}-{slug}.eml", raw, expect, att, recv, client))

    # 001 on-time report (superseded by 011) ------------------------------------------------------
    k, d, r = "junior/001", t(5, 11, 9, 30, 4), t(5, 11, 9, 30, 12)
    fn = "双流中学实验学校初中部报告.docx"
    doc = report_docx(
        "双流中学实验学校初中部", ["刘镕", "陈刚", "蒋丽娟", "胡斌"], "八年级", "burden", d
    )
    add(
        "001",
        "report-qq-webmail",
        qq_webmail(
            key=k,
            box=box,
            sender="1873620451@qq.com",
            sender_name="刘镕",
            subject="双流中学实验学校初中部报告",
            text="叶老师：\n您好！附件是双流中学实验学校初中部的教育质量综合评价结果解读和改进活动报告，请查收。\n\n刘镕",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流中学实验学校初中部",
            "report",
            tests="On-time report from QQ web mail (sender name 刘镕, outside GB2312). The "
            "school name itself contains 学校 and ends in 初中部. Superseded later by 011.",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 002 auto-reply, full-width colon ----------------------------------------------------------
    k, d, r = "junior/002", t(5, 11, 9, 31, 0), t(5, 11, 9, 31, 2)
    add(
        "002",
        "qq-vacation-autoreply",
        qq_autoreply(
            key=k,
            box=box,
            sender="1873620451@qq.com",
            sender_name="刘镕",
            subject="自动回复：Re: 双流中学实验学校初中部报告",
            date=d,
            recv=r,
        ),
        Expect(
            "ignored",
            ["auto_reply"],
            "双流中学实验学校初中部",
            None,
            tests="QQ vacation auto-reply with a full-width colon (自动回复：), HTML only, no "
            "Auto-Submitted header.",
        ),
        None,
        r,
        "QQ Mail auto-reply",
    )

    # 003 report via Foxmail, "x" <x> sender, GB2312 label with 镕
    k, d, s, r = "junior/003", t(5, 13, 11, 2, 14), t(5, 13, 11, 2, 33), t(5, 13, 11, 2, 36)
    fn = "双流区棠湖中学报告.docx"
    doc = report_docx(
        "双流区棠湖中学", ["李镕", "冯艳", "钟华", "任杰", "吕婷"], "八年级", "math", d
    )
    text = (
        "叶老师：\n  您好！附件是双流区棠湖中学的解读和改进活动报告（执笔：李镕等），请查收。"
        "\n\n棠湖中学教科室 李镕"
    )
    assert gb18030_only_ok(text)
    add(
        "003",
        "report-foxmail-gb2312-label",
        foxmail(
            key=k,
            box=box,
            sender="tanghu_zx@foxmail.com",
            sender_name=None,
            subject="双流区棠湖中学报告",
            text=text,
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区棠湖中学",
            "report",
            tests='Foxmail 7.2 with its default sender form `"tanghu_zx@foxmail.com" '
            "<tanghu_zx@foxmail.com>` (breaks QQ's IMAP ENVELOPE); body labelled "
            '`charset="GB2312"` but containing 镕 (GBK only). Five signatories.',
        ),
        fn,
        r,
        "Foxmail 7.2",
    )

    # 004 case （一）
    k, d, r = "junior/004", t(5, 14, 10, 15, 11), t(5, 14, 10, 15, 20)
    fn = "双流区棠湖中学改进案例（一）.docx"
    doc = case_docx("双流区棠湖中学", ["冯艳", "钟华"], "reasoning", d)
    add(
        "004",
        "case1-qq-webmail",
        qq_webmail(
            key=k,
            box=box,
            sender="tanghu_zx@foxmail.com",
            sender_name="棠湖中学教科室",
            subject="双流区棠湖中学改进案例（一）",
            text="叶老师：\n附件是我校的改进案例（一），请查收。\n\n棠湖中学教科室",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区棠湖中学",
            "case",
            tests="First case, name with （一）, QQ web mail from a foxmail.com account.",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 005 case 2, RFC 2231 gbk continuation
    k, d, r = "junior/005", t(5, 14, 10, 19, 52), t(5, 14, 10, 20, 5)
    fn = "双流区棠湖中学改进案例2.docx"
    doc = case_docx("双流区棠湖中学", ["任杰"], "mistakes", d)
    add(
        "005",
        "case2-rfc2231-gbk-continuation",
        outlook16(
            key=k,
            box=box,
            sender="735260918@qq.com",
            sender_name="冯艳",
            subject="双流区棠湖中学改进案例2",
            text="叶老师：\n您好！附件是我校的第二篇改进案例，请查收。\n\n冯艳\n双流区棠湖中学",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区棠湖中学",
            "case",
            tests="Second case, name with a plain 2, sent from the school's second address. "
            "Outlook 2016: `filename*0*=gbk''…; filename*1*=…` with the cut inside a "
            "character; encoded-words labelled gb2312.",
        ),
        fn,
        r,
        "Outlook 2016",
    )

    # 006 acknowledgement with QQ's quoted original ------------------------------------------------
    k, d, r = "junior/006", t(5, 14, 10, 36, 31), t(5, 14, 10, 36, 40)
    rid = reply_id("junior/004")
    text = (
        "来信已收到，谢谢\n\n\n"
        "------------------ 原始邮件 ------------------\n"
        '发件人: "叶书艳"<8762808@qq.com>;\n'
        "发送时间: 2021年5月14日(星期五) 上午10:15\n"
        '收件人: "棠湖中学教科室"<tanghu_zx@foxmail.com>;\n'
        "主题: Re: 双流区棠湖中学改进案例（一）\n\n"
        "双流区棠湖中学：\n"
        "您发送的附件《双流区棠湖中学改进案例（一）.docx》已收到并登记。"
    )
    add(
        "006",
        "manual-acknowledgement",
        qq_webmail(
            key=k,
            box=box,
            sender="tanghu_zx@foxmail.com",
            sender_name="棠湖中学教科室",
            subject="回复：Re: 双流区棠湖中学改进案例（一）",
            text=text,
            date=d,
            recv=r,
            extra=[("In-Reply-To", rid), ("References", rid)],
        ),
        Expect(
            "ignored",
            ["acknowledgement"],
            "双流区棠湖中学",
            None,
            tests=f"Manual 来信已收到，谢谢 replying to our reply to 004 (`In-Reply-To: {rid}`), "
            "with QQ's quoted 原始邮件 block that mentions 附件 and a .docx name.",
        ),
        None,
        r,
        "QQ Mail web",
    )

    # 007 third case (over the limit)
    k, d, r = "junior/007", t(5, 18, 15, 0, 19), t(5, 18, 15, 0, 27)
    fn = "双流区棠湖中学改进案例（三）.docx"
    doc = case_docx("双流区棠湖中学", ["吕婷", "李镕"], "anxiety", d)
    add(
        "007",
        "case3-over-limit",
        qq_webmail(
            key=k,
            box=box,
            sender="735260918@qq.com",
            sender_name="冯艳",
            subject="双流区棠湖中学改进案例（三）",
            text="叶老师：\n我校又完成了一篇改进案例，请一并查收。\n\n冯艳",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "rejected",
            ["over_limit"],
            "双流区棠湖中学",
            "case",
            tests="Third case; the school already has two accepted cases (004, 005), sent "
            "from two different roster addresses of the same school.",
        ),
        fn,
        r,
        "QQ Mail web",
    )

    # 008 misnamed attachment (no school name)
    k, s, r = "junior/008", t(5, 18, 20, 40, 5), t(5, 18, 20, 40, 9)
    fn = "教育质量综合评价结果解读和改进活动报告（定稿）.docx"
    xhg_doc = report_docx("双流区西航港第二初级中学", ["袁梅", "潘宇"], "八年级", "confidence", s)
    add(
        "008",
        "misnamed-attachment",
        coremail(
            key=k,
            box=box,
            sender="xhg2zx@163.com",
            sender_name="西航港二中袁梅",
            subject="西航港第二初级中学 报告",
            text="叶老师您好：\n附件是我校的报告，请查收！\n\n袁梅",
            sent=s,
            recv=r,
            atts=[Att(fn, xhg_doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区西航港第二初级中学",
            "report",
            tests="The file is named after the activity (教育质量综合评价结果解读和改进活动报告"
            "（定稿）.docx), not XX学校报告: the school comes from the subject, and the reply "
            "warns (name_from_subject) how to name it next time. 163 web mail.",
        ),
        fn,
        r,
        "163 web mail (Coremail)",
    )

    # 009 no attachment
    k, d, r = "junior/009", t(5, 19, 9, 12, 29), t(5, 19, 9, 12, 33)
    add(
        "009",
        "no-attachment",
        qq_webmail(
            key=k,
            box=box,
            sender="1547732098@qq.com",
            sender_name="喆远实验学校卢玥",
            subject="双流区喆远实验学校报告",
            text="叶老师：\n您好！我校报告材料见附件，请查收。\n\n喆远实验学校 卢玥",
            date=d,
            recv=r,
        ),
        Expect(
            "rejected",
            ["missing_attachment"],
            "双流区喆远实验学校",
            None,
            tests="材料见附件 but nothing attached; subject with 喆 (gb18030).",
        ),
        None,
        r,
        "QQ Mail web",
    )

    # 010 report with raw 8-bit GBK subject and filename -------------------------------------------
    k, d, r = "junior/010", t(5, 19, 9, 39, 50), t(5, 19, 9, 40, 18)
    fn = "双流区喆远实验学校报告.docx"
    doc = report_docx(
        "双流区喆远实验学校",
        ["彭喆", "卢玥", "何雨"],
        "八年级",
        "reading",
        d,
        body_font_on_runs=False,
    )
    add(
        "010",
        "report-raw-gbk-subject-filename",
        outlook_express(
            key=k,
            box=box,
            sender="zheyuan_jks@163.com",
            sender_name="喆远实验学校教科室",
            subject="双流区喆远实验学校报告",
            text="叶老师：\n上午的邮件没有带上附件，现重新发送。\n\n喆远实验学校 彭喆",
            date=d,
            recv=r,
            atts=[Att(fn, doc)],
            raw_subject=True,
        ),
        Expect(
            "accepted",
            [],
            "双流区喆远实验学校",
            "report",
            tests="Resent after 009 from the school's other address. Outlook Express with 8-bit "
            "headers: Subject and filename are raw GBK bytes including 喆 (0x86B4, not "
            "GB2312).",
        ),
        fn,
        r,
        "Outlook Express 6",
    )

    # 011 resubmitted report from the school's other address (supersedes 001)
    k, s, r = "junior/011", t(5, 20, 16, 5, 47), t(5, 20, 16, 5, 51)
    fn = "双流中学实验学校初中部报告.docx"
    doc = report_docx(
        "双流中学实验学校初中部",
        ["刘镕", "陈刚", "蒋丽娟", "胡斌"],
        "八年级",
        "burden",
        s,
        revised=True,
    )
    add(
        "011",
        "report-resubmitted",
        coremail(
            key=k,
            box=box,
            sender="slzxsyxx@163.com",
            sender_name="双流中学实验学校",
            subject="双流中学实验学校初中部报告（更正版）",
            text="叶老师：\n您好！我校5月11日发送的报告中有个别数据有误，现发送更正版，请以此版为准。谢谢！\n\n"
            "双流中学实验学校初中部 刘镕",
            sent=s,
            recv=r,
            atts=[Att(fn, doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流中学实验学校初中部",
            "report",
            supersedes="junior/001-report-qq-webmail.eml",
            tests="Corrected report before the deadline from the school's second roster address "
            "(163): accepted and supersedes 001.",
        ),
        fn,
        r,
        "163 web mail (Coremail)",
    )

    # 012 deadline boundary: received 23:59:30, Date after midnight; split subject -----------------
    k, d, s, r = "junior/012", t(5, 22, 0, 1, 12), t(5, 21, 23, 59, 27), t(5, 21, 23, 59, 30)
    fn = "双流区西航港第二初级中学报告.docx"
    subj = "双流区西航港第二初级中学教育质量综合评价结果解读和改进活动报告"
    add(
        "012",
        "report-deadline-boundary-split-subject",
        foxmail(
            key=k,
            box=box,
            sender="xhg2zx@163.com",
            sender_name="袁梅",
            subject=subj,
            subject_header=ew_split_midchar(subj, "GB18030", "gb18030"),
            text="叶老师：\n您好！附件是我校重新命名后的报告，请查收。\n\n袁梅",
            date=d,
            sent=s,
            recv=r,
            atts=[Att(fn, xhg_doc)],
        ),
        Expect(
            "accepted",
            [],
            "双流区西航港第二初级中学",
            "report",
            supersedes="junior/008-misnamed-attachment.eml",
            tests="Received 2021-05-21 23:59:30 +0800 (on time) although the Date header says "
            "2021-05-22 00:01:12 (sender clock fast): judge on the receive time. Same "
            "document as 008, renamed. Subject: two GB18030 encoded-words split inside a "
            "character.",
        ),
        fn,
        r,
        "Foxmail 7.2",
    )

    # 013 late report, Date before the deadline (outbox delay) -------------------------------------
    k, d, s, r = "junior/013", t(5, 21, 23, 52, 40), t(5, 22, 9, 15, 2), t(5, 22, 9, 15, 6)
    fn = "双流区永安中学报告.docx"
    doc = report_docx("双流区永安中学", ["魏东", "许静"], "八年级", "health", d)
    late_raw = foxmail(
        key=k,
        box=box,
        sender="yazx_jwc@163.com",
        sender_name="永安中学魏东",
        subject="双流区永安中学报告",
        text="叶老师：\n您好！附件是双流区永安中学的报告，请查收。\n\n永安中学 魏东",
        date=d,
        sent=s,
        recv=r,
        atts=[Att(fn, doc)],
        reply_to="yazx_jcw@163.com",
    )
    add(
        "013",
        "report-late",
        late_raw,
        Expect(
            "rejected",
            ["late"],
            "双流区永安中学",
            "report",
            tests="Received 2021-05-22 09:15:06 +0800: late, although the Date header says "
            "2021-05-21 23:52:40 (written to Foxmail's outbox before midnight, sent next "
            "morning). Carries a mistyped Reply-To (yazx_jcw@163.com), whence 014.",
        ),
        fn,
        r,
        "Foxmail 7.2",
    )

    # 014 bounce of our reply to the Reply-To of 013
    k, r = "junior/014", t(5, 22, 9, 16, 20)
    sent = t(5, 22, 9, 15, 40)
    reply_subject = "Re: 双流区永安中学报告"
    original = bot_reply(
        key="junior/013",
        box=box,
        to="yazx_jcw@163.com",
        subject=reply_subject,
        text="双流区永安中学：\n\n您于2021年5月22日09:15发送的《双流区永安中学报告》晚于截止时间"
        "（2021年5月21日），按通知“过期不再接收”的要求，本次材料未予受理。\n\n"
        "双流区教育科学研究院 初中组",
        date=sent,
        in_reply_to=message_id_of(late_raw),
    )
    add(
        "014",
        "qq-bounce",
        qq_bounce(
            key=k,
            box=box,
            failed="yazx_jcw@163.com",
            reason="收件人邮箱地址不存在（550 User not found: yazx_jcw@163.com）",
            original=original,
            orig_subject=reply_subject,
            orig_date=sent,
            recv=r,
        ),
        Expect(
            "ignored",
            ["bounce"],
            None,
            None,
            tests="QQ bounce of our reply to 013's mistyped Reply-To address; our reply is "
            "attached as mail.eml.",
        ),
        None,
        r,
        "QQ system mail",
    )
    return out


# =============================================================================================
# Output
# =============================================================================================

README_HEAD = """\
# Sample inbox: 双流区第四届教育质量综合评价结果解读运用展评 (2021)

Generated by `make_inbox.py` — do not edit by hand; change the generator and rerun:

    .venv/bin/python samples/make_inbox.py

The output is byte-stable (fixed timestamps, Message-IDs, MIME boundaries, docx core properties
and zip entry dates), so a rerun must leave `git status` clean.

## What the samples reproduce

The Shuangliu notice (seed `000_ca60f1b816d0fafe`, dated 2021-04-20): two groups, each its own mailbox —
小学组 `1036303270@qq.com` (张楠楠) and 初中组 `8762808@qq.com` (叶书艳). Each school sends one
mandatory 报告 named `XX学校报告` and at most two optional 改进案例 named `XX学校改进案例` (numbered
forms such as `XX学校改进案例（一）` and `XX学校改进案例2` are meant as the same name), where
XX学校 is the school's name as in `roster-shuangliu-2021.csv`. Deadline 2021-05-21, end of day Asia/Shanghai; nothing
later is accepted. Format: 宋体 throughout, title 18 pt (小二), unit/author line and body 12 pt
(小四), margins 2.5 cm (1417 twips); a case at most 2500 字 and 2 signatories, a report at most 5
signatories. Every document here meets the format rules; the samples test intake, not format.

## Files

- `roster-shuangliu-2021.csv` — UTF-8 with BOM, header `school,group,senders` (`group` is `primary` or
  `junior`, `senders` is `;`-separated). School names use 堃 玥 喆 (outside GB2312).
- `inbox/primary/*.eml`, `inbox/junior/*.eml` — raw messages (CRLF), one per file, numbered in
  order of arrival in each mailbox. The first line is a `Received:` header whose date is the
  server receive time (+0800): it stands in for IMAP INTERNALDATE and is what deadlines are
  judged on. The `Date:` header is the sender's clock and differs on purpose.
- `expected.json` — the table below, machine-readable: a list of
  `{"file", "decision", "reasons", "school", "kind", "supersedes", "attachment", "received_at"}`.
  `file` is relative to `inbox/`; `school` is the roster school of the sender (null when the
  sender is not on the roster); `kind` is `report`/`case` when the attachment's name identifies
  one, else null; `supersedes` names the earlier file a resubmission replaces; `attachment` is
  the decoded attachment name the parser must recover (null when none); `received_at` is the
  top `Received:` date in ISO 8601.

## Decision rules the expectations assume

- Messages are processed per mailbox in file order (= receive order).
- `accepted`: a correctly named .docx from a roster sender, received on or before
  2021-05-21 23:59:59 +0800, within the quota.
- `rejected`, reason codes: `late` (received after the deadline), `over_limit` (a third 改进案例
  from the same school), `missing_attachment` (no attachment at all), `bad_name` (the attachment
  name is not `XX学校报告` / `XX学校改进案例…` for the sender's school).
- A second 报告 from the same school before the deadline is **accepted and supersedes** the first
  (a school has one report; the latest on-time one counts). It is not `over_limit`.
- `ignored` (never answered, never counted), reason codes: `auto_reply`, `bounce`,
  `acknowledgement` (a short reply to one of our replies, `In-Reply-To: <…@intake.invalid>`).
- Schools are identified by sender address through the roster (several addresses per school).

"""


def write_outputs(samples: list[Sample]) -> None:
    inbox = HERE / "inbox"
    # Only this campaign's groups: other campaigns' samples share inbox/.
    for group in BOX_OF_GROUP:
        if (inbox / group).exists():
            shutil.rmtree(inbox / group)
    for s in samples:
        path = inbox / s.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(s.raw)

    with open(HERE / "roster-shuangliu-2021.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(["school", "group", "senders"])
        for school, group, senders in ROSTER:
            w.writerow([school, group, ";".join(senders)])

    expected = [
        {
            "file": s.file,
            "decision": s.expect.decision,
            "reasons": s.expect.reasons,
            "school": s.expect.school,
            "kind": s.expect.kind,
            "supersedes": s.expect.supersedes,
            "attachment": s.attachment,
            "received_at": s.received.isoformat(),
        }
        for s in samples
    ]
    (HERE / "expected.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

    lines = [README_HEAD]
    for group, title, box in (("primary", "小学组", PRIMARY_BOX), ("junior", "初中组", JUNIOR_BOX)):
        lines.append(f"## {title} — `inbox/{group}/` (mailbox {box})\n\n")
        lines.append(
            "| file | received (+0800) | sender client | school | what it tests | expected |\n"
        )
        lines.append("|---|---|---|---|---|---|\n")
        for s in samples:
            if not s.file.startswith(group + "/"):
                continue
            e = s.expect
            verdict = e.decision
            if e.reasons:
                verdict += ": " + ", ".join(e.reasons)
            if e.kind:
                verdict += f" ({e.kind})"
            if e.supersedes:
                verdict += f"; supersedes `{e.supersedes.split('/')[1][:3]}`"
            name = f"`{s.file.split('/', 1)[1]}`"
            att = f" Attachment: `{s.attachment}`." if s.attachment else ""
            lines.append(
                f"| {name} | {s.received:%m-%d %H:%M:%S} | {s.client} | {e.school or '—'} | "
                f"{e.tests}{att} | **{verdict}** |\n"
            )
        lines.append("\n")
    lines.append(
        "## Outcome per school\n\n"
        "| school | report | cases |\n|---|---|---|\n"
        "| 双流区实验小学 | 001 | — |\n"
        "| 双流区棠湖小学 | 013 (supersedes 007) | — |\n"
        "| 双流区堃玥小学 | 003 | 004, 005 (006 rejected: over_limit) |\n"
        "| 双流区东升小学 | — (014 rejected: late) | — |\n"
        "| 双流区黄甲小学 | 010 (009 rejected: bad_name) | — |\n"
        "| 双流区彭镇小学 | 012 (011 rejected: missing_attachment) | — |\n"
        "| 双流中学实验学校初中部 | 011 (supersedes 001) | — |\n"
        "| 双流区棠湖中学 | 003 | 004, 005 (007 rejected: over_limit) |\n"
        "| 双流区永安中学 | — (013 rejected: late) | — |\n"
        "| 双流区西航港第二初级中学 | 008, then 012 as version 2 | — |\n"
        "| 双流区喆远实验学校 | 010 (009 rejected: missing_attachment) | — |\n"
    )
    (HERE / "README.md").write_text("".join(lines), encoding="utf-8")


def main() -> None:
    samples = build_primary() + build_junior()
    for s in samples:
        assert s.raw.count(b"\n") == s.raw.count(b"\r\n"), s.file  # CRLF only
        assert s.raw.startswith(b"Received: "), s.file
        assert len(s.raw) < 80_000, (s.file, len(s.raw))
    write_outputs(samples)
    print(f"wrote {len(samples)} messages, roster-shuangliu-2021.csv, expected.json and README.md under {HERE}")


# =============================================================================================
# Text of the documents (invented; plausible, not real)
# =============================================================================================
# ---------------------------------------------------------------------------------------------
# 报告 (report): one template, filled from a "focus" per school.
# ---------------------------------------------------------------------------------------------

REPORT_FOCUS: dict[str, dict[str, str]] = {
    "reading": {
        "headline": "用好评价数据 点亮阅读人生",
        "strength": "品德行为、身体形态机能和艺术素养",
        "weakness": "课外阅读时间和阅读理解能力",
        "weak_detail": (
            "每天课外阅读时间达到30分钟的学生比例低于全区均值约8个百分点，"
            "语文学科“整体感知与信息提取”类题目得分率偏低"
        ),
        "cause1": "学校阅读课程缺少系统设计，整本书阅读停留在“推荐书目”层面",
        "cause2": "教师对阅读过程的指导和评价不足，学生阅读方法单一",
        "cause3": "部分家庭缺少亲子阅读氛围，学生课余时间被电子产品占用较多",
        "core_problem": "学生阅读时间不足、阅读质量不高",
        "measures": (
            "一是开设每周一节整本书阅读指导课，按年级编制必读与选读书目；"
            "二是实施“阅读存折”评价，学生每读完一本书由同伴和家长签字认证，"
            "学期末评选“阅读之星”；三是利用午间20分钟开展“静悄悄阅读”，"
            "教师与学生同读一本书，并在班级读书会上交流。"
        ),
        "lesson": "基于证据的阅读策略教学",
        "effect": "学生每天课外阅读时间达到30分钟的比例由61.3%提高到78.6%",
    },
    "burden": {
        "headline": "减负提质 从读懂数据开始",
        "strength": "学业水平、学习兴趣和师生关系",
        "weakness": "学业负担",
        "weak_detail": (
            "学生每天书面作业时间超过规定时长的比例、睡眠时间不足9小时的比例均高于全区均值"
        ),
        "cause1": "作业布置缺少年级统筹，各学科“各自为政”",
        "cause2": "作业设计以重复性练习为主，分层作业和弹性作业较少",
        "cause3": "部分家长额外布置练习或安排校外培训，挤占了学生的休息时间",
        "core_problem": "作业总量偏多、作业质量不高",
        "measures": (
            "一是建立年级作业公示和总量调控制度，由年级组长每日审核各学科作业时长；"
            "二是以学科组为单位开展作业设计研究，编制分层作业和实践性作业；"
            "三是通过家长会解读评价结果，引导家长科学安排孩子的课余生活，保障学生睡眠时间。"
        ),
        "lesson": "精讲精练 当堂达标",
        "effect": "学生每天书面作业时间超标的比例由27.5%下降到9.8%，睡眠时间达标率明显提高",
    },
    "math": {
        "headline": "聚焦高阶思维 改进数学课堂",
        "strength": "学业负担、学习习惯和身心健康",
        "weakness": "数学学科高阶思维能力",
        "weak_detail": ("“问题解决”和“推理论证”类题目得分率低于全区均值，达到高水平的学生比例偏低"),
        "cause1": "课堂教学偏重知识讲授和技能训练，学生独立思考和表达的机会不够",
        "cause2": "练习题以基础性、封闭性题目为主，缺少开放性和综合性问题",
        "cause3": "教师对学生思维过程的评价不足，对错误资源利用不够",
        "core_problem": "学生数学思维深度不够",
        "measures": (
            "一是开展“问题链”课堂教学研究，每节课设计至少一个开放性核心问题；"
            "二是组建数学思维社团，开展数学日记、“数学小讲师”等活动；"
            "三是改进单元检测命题，增加说理题和综合应用题的比例。"
        ),
        "lesson": "问题驱动 思维可见",
        "effect": "学生在“问题解决”类题目上的得分率提高了9.2个百分点",
    },
    "health": {
        "headline": "数据引领 让每个孩子阳光健康",
        "strength": "学业水平、品德行为和艺术素养",
        "weakness": "体质健康",
        "weak_detail": (
            "视力不良率、超重肥胖率高于全区均值，每天校内外体育锻炼达到1小时的学生比例偏低"
        ),
        "cause1": "大课间和体育课运动强度不足，练习密度偏低",
        "cause2": "学生户外活动时间少，近距离用眼时间长",
        "cause3": "家校在学生健康管理上缺少协同",
        "core_problem": "学生体质健康水平偏低",
        "measures": (
            "一是改革大课间活动，推行“一校一品、班班有特色”的体育活动；"
            "二是严格落实“两操一课”和每天校内1小时体育活动，开展视力健康月活动；"
            "三是建立学生体质健康档案，每学期向家长反馈体测数据并提出家庭锻炼建议。"
        ),
        "lesson": "提高体育课练习密度与运动强度",
        "effect": "学生体质健康测试优良率由38.4%提高到47.1%，每天锻炼1小时的学生比例明显提升",
    },
    "confidence": {
        "headline": "关注学生心灵 重建学习自信",
        "strength": "身体形态机能、学业负担和品德行为",
        "weakness": "学习自信心和师生关系",
        "weak_detail": (
            "“学习自信心”指数和“师生关系”指数低于全区均值，部分学生在问卷中表示“上课不敢提问”"
        ),
        "cause1": "部分教师课堂评价语言单一，批评多、激励少",
        "cause2": "学困生转化缺少针对性措施，学生的成功体验少",
        "cause3": "留守儿童和随迁子女比例较高，家庭关注不足",
        "core_problem": "学生学习自信心不足",
        "measures": (
            "一是实行“班主任+科任教师”全员导师制，每位教师联系5至8名学生；"
            "二是推行课堂激励性评价，为每名学生建立成长记录袋；"
            "三是开设心理健康课和团体辅导活动，为留守儿童建立关爱档案。"
        ),
        "lesson": "让每个学生都有表达的机会",
        "effect": "学生“学习自信心”指数较上一轮评价提升了0.21，课堂上主动发言的学生明显增多",
    },
}


def report_paragraphs(school: str, grade: str, focus: str) -> list[tuple[str, str]]:
    """The body of a 报告 as (kind, text) pairs; kind is "h" (heading) or "p"."""
    f = REPORT_FOCUS[focus]
    return [
        ("h", "一、评价结果解读"),
        (
            "p",
            f"（一）总体情况。2020年，我校{grade}学生参加了双流区中小学教育质量综合评价，"
            "评价内容涵盖品德社会化、学业发展水平、身心发展水平、兴趣特长养成和学业负担状况等方面。"
            f"校长牵头，组织学校行政、教研组长和年级组长对区级反馈的学校报告进行了逐项解读。"
            f"从结果看，我校学生在{f['strength']}等指标上高于全区均值，整体发展较为均衡；"
            f"但在{f['weakness']}方面与全区均值相比仍有差距，{f['weak_detail']}。",
        ),
        (
            "p",
            "（二）分析诊断。我们采用“数据比对—课堂观察—问卷访谈”三结合的方式，"
            "对评价数据进行了横向（与全区均值比较）和纵向（与上一轮评价比较）分析，"
            f"并分别召开了学生座谈会和家长座谈会。诊断发现，造成{f['weakness']}不足的主要原因有三："
            f"一是{f['cause1']}；二是{f['cause2']}；三是{f['cause3']}。",
        ),
        (
            "p",
            "（三）问题台账。在解读的基础上，学校建立了问题台账，明确每个问题的责任部门、"
            f"改进目标和完成时限，聚焦“{f['core_problem']}”这一主要问题，"
            "将其确定为本年度学校改进的重点。",
        ),
        ("h", "二、改进活动"),
        (
            "p",
            "（一）机制建设。学校成立了以校长为组长的评价结果运用工作小组，"
            "教导处、教科室、德育处分工负责，形成“学校—年级—学科组—教师”四级改进责任链，"
            "每月召开一次质量分析会，跟踪改进进度。",
        ),
        ("p", f"（二）措施方法。{f['measures']}"),
        (
            "p",
            f"（三）课堂改进。各学科组以“{f['lesson']}”为主题开展校本教研，"
            "每位教师每学期上一节改进研究课，教研组用课堂观察量表收集证据，"
            "课后围绕评价数据进行诊断式评课，形成“研究—实践—反思—再实践”的改进循环。",
        ),
        ("h", "三、改进效果与思考"),
        (
            "p",
            f"经过一个学期的改进，{f['effect']}。学生、家长对学校工作的满意度也有所提高。"
            "我们也认识到，改进工作还存在教师数据分析能力不均衡、部分措施落实不够深入等问题。"
            "下一步，学校将继续用好评价结果，把“解读—诊断—改进—再评价”作为常态工作机制，"
            "推动学校教育质量持续提升。",
        ),
        ("p", "附：改进活动图片、课堂实录视频见学校资料包（略）。"),
    ]


# ---------------------------------------------------------------------------------------------
# 改进案例 (case): each case written out in full.
# ---------------------------------------------------------------------------------------------

CASES: dict[str, dict[str, object]] = {
    "homework": {
        "title": "“作业超市”让作业减量不减质——五年级数学分层作业改进案例",
        "body": [
            ("h", "一、案例背景"),
            (
                "p",
                "2020年双流区教育质量综合评价结果显示，我校五年级学生每天书面作业时间超过60分钟的"
                "比例为31.2%，高于全区均值；同时，数学学科“运用知识解决问题”类题目的得分率"
                "却低于全区均值。作业多、效果差，成为摆在我们面前的一个“真问题”。",
            ),
            ("h", "二、评价结果的客观现状及分析诊断"),
            (
                "p",
                "我们对五年级四个班近两周的数学作业进行了统计，发现重复性计算题占作业总量的"
                "七成以上，分层作业几乎没有；学生问卷显示，学优生觉得作业“太简单、没意思”，"
                "学困生则“做得慢、做不完”。作业“一刀切”，是导致负担重而效果差的主要原因。",
            ),
            ("h", "三、改进过程"),
            (
                "p",
                "第一步，建立“作业超市”。数学组把每课作业分为“基础套餐”“提升套餐”和"
                "“挑战套餐”三类，学生在完成基础套餐后，可根据自身情况自主选择提升或挑战套餐。",
            ),
            (
                "p",
                "第二步，控制作业总量。年级组每天在班级群公示各科作业及预计完成时间，"
                "数学书面作业控制在20分钟以内；对连续三天超时完成的学生，教师进行个别访谈，"
                "及时调整作业内容。",
            ),
            (
                "p",
                "第三步，改进作业评价。教师采用“等级+评语”的方式批改作业，"
                "每周评选“作业小达人”，并把学生的典型错误整理成“错题微课”在课堂上讲评。",
            ),
            ("h", "四、改进成效"),
            (
                "p",
                "一学期后，五年级学生每天书面作业时间超过60分钟的比例下降到8.7%，"
                "数学单元检测中解决问题类题目的平均得分率提高了7.5个百分点，"
                "学生对数学作业的喜爱程度明显提高。",
            ),
            ("h", "五、反思与展望"),
            (
                "p",
                "作业改进的关键是教师的作业设计能力。下一步，我们将把“作业超市”的做法推广到"
                "语文、英语学科，并建立校本作业资源库，让作业真正成为促进学生发展的有效载体。",
            ),
        ],
    },
    "sleep": {
        "title": "守护睡眠：一个班级的作息改进行动",
        "body": [
            ("h", "一、案例背景"),
            (
                "p",
                "评价结果显示，我校六年级学生睡眠时间达到9小时的比例仅为54.6%，"
                "明显低于全区均值。我所任教的六年级二班情况尤为突出，"
                "上午第一、二节课常有学生精神不振、注意力不集中。",
            ),
            ("h", "二、评价结果的客观现状及分析诊断"),
            (
                "p",
                "通过“睡眠日记”连续记录两周，我们发现影响睡眠的因素主要有三：一是晚上使用手机、"
                "平板的时间过长；二是部分学生参加校外培训，回家后还要完成学校作业；"
                "三是家长对睡眠的重要性认识不足，没有固定的就寝时间。",
            ),
            ("h", "三、改进过程"),
            (
                "p",
                "我们召开了以“睡个好觉”为主题的班会，请学生根据评价数据讨论睡眠不足的危害，"
                "共同制定《班级作息公约》：晚上9点前完成作业，9点半前上床，睡前不看电子屏幕。",
            ),
            (
                "p",
                "同时，我们向家长发放《致家长的一封信》，在家长会上解读评价结果，"
                "请家长与孩子一起填写“睡眠打卡表”；各科教师协同控制作业量，周三定为“无书面作业日”。",
            ),
            ("h", "四、改进成效"),
            (
                "p",
                "两个月后，班级学生平均睡眠时间由8小时15分钟延长到9小时05分钟，"
                "上午课堂上打瞌睡的现象基本消失，学生的课堂参与度明显提高。",
            ),
            ("h", "五、反思与展望"),
            (
                "p",
                "睡眠问题看似小事，却直接影响学生的身心健康和学习效率。"
                "家校协同是改进的关键，我们将把这一做法在全年级推广。",
            ),
        ],
    },
    "recess": {
        "title": "“微运动”让课间十分钟动起来",
        "body": [
            ("h", "一、案例背景"),
            (
                "p",
                "评价结果显示，我校学生每天校内外体育锻炼达到1小时的比例低于全区均值，"
                "课间“圈养”现象突出，不少学生课间只在教室里休息。",
            ),
            ("h", "二、评价结果的客观现状及分析诊断"),
            (
                "p",
                "观察发现，课间活动少的原因主要是场地有限、缺少适合短时间开展的活动项目，"
                "以及部分教师担心安全问题而限制学生外出。",
            ),
            ("h", "三、改进过程"),
            (
                "p",
                "体育组设计了跳绳、踢毽子、“小小障碍跑”等十余项“微运动”，"
                "把走廊和楼顶平台划分为活动区，由各班轮流使用，并培训学生安全员协助管理。",
            ),
            ("h", "四、改进成效"),
            (
                "p",
                "一学期后，课间参加运动的学生比例由35%提高到82%，学生体质健康测试中跳绳项目的"
                "优秀率提高了11个百分点。",
            ),
            ("h", "五、反思与展望"),
            (
                "p",
                "下一步，我们将把“微运动”与体育家庭作业相结合，进一步增加学生的锻炼时间。",
            ),
        ],
    },
    "reasoning": {
        "title": "从“讲题”到“说题”：八年级数学推理能力改进案例",
        "body": [
            ("h", "一、案例背景"),
            (
                "p",
                "2020年双流区教育质量综合评价中，我校八年级学生数学“推理论证”类题目得分率为"
                "52.3%，低于全区均值6.1个百分点。学生会做题却说不清道理，几何证明书写混乱，"
                "是数学组老师们普遍反映的问题。",
            ),
            ("h", "二、评价结果的客观现状及分析诊断"),
            (
                "p",
                "我们抽取了两个班的课堂实录进行分析，发现教师讲解时间占一节课的七成左右，"
                "学生完整表达解题思路的机会平均每节课不到两次。学生“听懂了”不等于“会推理”，"
                "缺少说理训练是推理能力薄弱的重要原因。",
            ),
            ("h", "三、改进过程"),
            (
                "p",
                "我们在八年级开展“说题”活动：每节课留出8至10分钟，由学生上台讲解一道题的"
                "已知条件、思路和依据，其他同学追问和补充；教师只在关键处点拨。",
            ),
            (
                "p",
                "我们还设计了“说题评价表”，从条件分析、思路清晰、依据充分、表达规范四个维度进行"
                "同伴互评；每周评选“最佳说题人”，把优秀说题视频上传到班级空间供学生反复观看。",
            ),
            ("h", "四、改进成效"),
            (
                "p",
                "一学期后，实验班学生在期末检测中推理论证类题目得分率提高了8.4个百分点，"
                "几何证明的书写规范率明显提高，学生普遍反映“讲给别人听，自己理解得更透”。",
            ),
            ("h", "五、反思与展望"),
            (
                "p",
                "“说题”改变了课堂上教师讲、学生听的局面。下一步，我们将研究不同层次学生的"
                "说题要求，让学困生也能说、愿意说。",
            ),
        ],
    },
    "mistakes": {
        "title": "用好错题资源 提升解决问题能力",
        "body": [
            ("h", "一、案例背景"),
            (
                "p",
                "评价结果显示，我校七年级学生数学“问题解决”类题目得分率偏低，"
                "同类错误反复出现，学生订正错题往往只是照抄正确答案。",
            ),
            ("h", "二、评价结果的客观现状及分析诊断"),
            (
                "p",
                "对学生错题本的抽查表明，约六成学生的错题本只记录题目和答案，"
                "没有分析错误原因，教师也缺少对全班共性错误的系统整理。",
            ),
            ("h", "三、改进过程"),
            (
                "p",
                "我们指导学生按“错题—错因—正解—变式”四栏整理错题，每周由小组长检查；"
                "教师每两周汇总一次共性错误，编写“错题变式练习”，在习题课上集中讲评。",
            ),
            ("h", "四、改进成效"),
            (
                "p",
                "两个月后，学生同类错误的重复率下降了近一半，"
                "问题解决类题目的得分率提高了6.3个百分点。",
            ),
            ("h", "五、反思与展望"),
            (
                "p",
                "错题是宝贵的教学资源。我们将继续完善错题资源库，并探索利用信息技术进行错题分析。",
            ),
        ],
    },
    "anxiety": {
        "title": "九年级学生考前焦虑的团体辅导干预",
        "body": [
            ("h", "一、案例背景"),
            (
                "p",
                "评价结果显示，我校九年级学生“考试焦虑”指数高于全区均值，"
                "部分学生出现失眠、注意力下降等情况。",
            ),
            ("h", "二、评价结果的客观现状及分析诊断"),
            (
                "p",
                "心理教师对九年级学生进行了焦虑量表筛查，发现中度以上考试焦虑的学生占14.2%，"
                "主要原因是对升学的过度担忧和缺少有效的情绪调节方法。",
            ),
            ("h", "三、改进过程"),
            (
                "p",
                "学校组建了“轻松迎考”团体辅导小组，开展放松训练、认知调整和同伴支持等八次活动，"
                "并为班主任开设了识别和疏导学生焦虑情绪的专题培训。",
            ),
            ("h", "四、改进成效"),
            (
                "p",
                "干预后复测，参加辅导的学生焦虑得分平均下降了18%，"
                "学生表示“知道紧张的时候该怎么办了”。",
            ),
            ("h", "五、反思与展望"),
            (
                "p",
                "下一步，我们将把团体辅导前移到八年级，并建立学生心理健康动态档案。",
            ),
        ],
    },
}


if __name__ == "__main__":
    main()
