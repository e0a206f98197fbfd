"""Hostile and broken mail, byte for byte: a fixed corpus, attachment names meant to escape
the archive, and hypothesis strategies that build whole messages and mutate real ones.

Nothing here goes through the email package's encoder, which would only ever write clean MIME.
"""

from __future__ import annotations

import base64
import random
import urllib.parse
from collections.abc import Callable

from hypothesis import strategies as st
from mailmaker import make_docx

CRLF = b"\r\n"
SCHOOLS = ("双流区实验小学", "棠湖小学", "华阳小学", "东升小学", "九江小学", "彭镇小学")


def crlf(*lines: bytes) -> bytes:
    return CRLF.join(lines) + CRLF


def b64(data: bytes, width: int = 76) -> bytes:
    """Base64 in lines, as mail carries it."""
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + width] for i in range(0, len(encoded), width))


def word(text: str, charset: str = "utf-8", codec: str | None = None) -> bytes:
    """One RFC 2047 encoded-word (B), the label possibly lying about the bytes."""
    data = text.encode(codec or charset)
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


def head(number: int, subject: bytes, *extra: bytes) -> list[bytes]:
    """The usual headers of a school's message; each sample its own sender and Message-ID."""
    return [
        b"From: =?utf-8?B?5byg6ICB5biI?= <t%02d@school.example>" % number,
        b"To: bot@qq.example",
        b"Subject: " + subject,
        b"Date: Thu, 20 May 2021 09:12:33 +0800",
        b"Message-ID: <hostile-%02d@school.example>" % number,
        b"MIME-Version: 1.0",
        *extra,
    ]


def report(school: str) -> tuple[bytes, bytes]:
    """A real, well-formatted report: the file name (UTF-8) and the .docx bytes."""
    name = f"{school}报告.docx".encode()
    return name, make_docx(f"{school}教育质量综合评价结果解读和改进活动报告")


def _unterminated_boundary() -> bytes:
    return crlf(
        *head(1, word("双流区实验小学报告")),
        b'Content-Type: multipart/mixed; boundary="XX"',
        b"",
        b"--XX",
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        "附件是报告。".encode(),
        b"--XX",
        b'Content-Type: application/octet-stream; name="' + report(SCHOOLS[0])[0] + b'"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b"UEsDBBQABgAIAAAAIQ",  # cut off mid-stream, no closing boundary
    )


def _bad_base64() -> bytes:
    return crlf(
        *head(2, b"=?utf-8?B?5oiQ*6YO9?= =?utf-8?B?!!!?="),
        b'Content-Type: multipart/mixed; boundary="B"',
        b"",
        b"--B",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        b"",
        b"5oiQ6YO9***\xff\xfe====5oiQ",
        b"--B",
        b'Content-Type: application/octet-stream; name="a.docx"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b"UEsD=BBQ\x00ABg\xe4\xb8\xadAI=A=A=A",
        b"Q",
        b"--B",
        b'Content-Type: application/pdf; name="b.pdf"',
        b"Content-Transfer-Encoding: BASE64",
        b"",
        b"====",
        b"--B--",
    )


def _many_headers() -> bytes:
    name, docx = report(SCHOOLS[1])
    filler = [b"X-Filler-%d: value %d" % (i, i) for i in range(5000)]
    return crlf(
        *head(3, word(f"{SCHOOLS[1]}报告"), *filler),
        b'Content-Type: multipart/mixed; boundary="M"',
        b"",
        b"--M",
        b'Content-Type: application/octet-stream; name="' + name + b'"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(docx),
        b"--M--",
    )


def _huge_header_line() -> bytes:
    return crlf(
        *head(4, b"10 MB header", b"X-Huge: " + b"a" * (10 * 1024 * 1024)),
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        b"no attachment",
    )


def _huge_subject() -> bytes:
    return crlf(
        *head(5, "长".encode() * 350_000),  # one 1 MB Subject line, unfolded
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        b"subject only",
    )


def _huge_filename() -> bytes:
    """A file name of three megabytes in one header line."""
    return crlf(
        *head(23, b"a long name"),
        b'Content-Type: multipart/mixed; boundary="F"',
        b"",
        b"--F",
        b'Content-Type: application/octet-stream; name="' + "长".encode() * 1_000_000 + b'.docx"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(b"long name"),
        b"--F--",
    )


def _nested(depth: int, number: int) -> bytes:
    name, docx = report(SCHOOLS[2])
    lines = head(number, word(f"{SCHOOLS[2]}报告"))
    for level in range(depth):
        lines += [b'Content-Type: multipart/mixed; boundary="n%d"' % level, b"", b"--n%d" % level]
    lines += [
        b'Content-Type: application/octet-stream; name="' + name + b'"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(docx),
    ]
    for level in reversed(range(depth)):
        lines.append(b"--n%d--" % level)
    return crlf(*lines)


def _gb2312_label_on_gb18030() -> bytes:
    # 𠮷 and 䶮 are four-byte GB18030 characters, outside both GB2312 and GBK.
    school = "双流区䶮小学"
    return crlf(
        *head(7, word(f"{school}报告 𠮷", "gb2312", "gb18030")),
        b'Content-Type: multipart/mixed; boundary="G"',
        b"",
        b"--G",
        b"Content-Type: text/plain; charset=gb2312",
        b"Content-Transfer-Encoding: 8bit",
        b"",
        "𠮷老师：附件是䶮小学的报告。".encode("gb18030"),
        b"--G",
        b'Content-Type: application/octet-stream; name="'
        + word(f"{school}报告.docx", "gb2312", "gb18030")
        + b'"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(b"not a docx"),
        b"--G--",
    )


def _unknown_charset() -> bytes:
    return crlf(
        *head(8, word("双流区实验小学报告", "x-unknown", "gb18030")),
        b'Content-Type: multipart/mixed; boundary="U"',
        b"",
        b"--U",
        b'Content-Type: text/plain; charset="x-unknown"',
        b"Content-Transfer-Encoding: 8bit",
        b"",
        "王喆".encode("gbk"),
        b"--U",
        b"Content-Type: application/octet-stream",
        b"Content-Disposition: attachment; filename*=x-unknown''%CB%AB%C1%F7.docx",
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(b"x"),
        b"--U--",
    )


def _nul_bytes() -> bytes:
    return crlf(
        b"From: a\x00b <t09@school.example>",
        b"To: bot@qq.example\x00",
        b"Subject: \x00" + word("报名表") + b"\x00",
        b"Message-ID: <hostile-09\x00@school.example>",
        b'Content-Type: multipart/mixed; boundary="N\x00"',
        b"",
        b"--N\x00",
        b'Content-Type: text/plain; charset="utf-8\x00"',
        b"",
        b"\x00\x00" + "报名表".encode() + b"\x00",
        b"--N\x00",
        b'Content-Type: application/octet-stream; name="a\x00b.docx"',
        b"",
        b"\x00" * 100,
        b"--N\x00--",
    )


def _only_headers() -> bytes:
    return CRLF.join(head(10, b"only headers"))  # no blank line, no body, no final CRLF


def _binary_garbage() -> bytes:
    return random.Random(20210520).randbytes(65536)


def _transfer_encodings() -> bytes:
    parts = []
    for cte in (b"x-uuencode", b"base64; junk", b"8bit7bit", b"quoted-printable", b"\xff\xfe"):
        parts += [
            b"--T",
            b'Content-Type: application/octet-stream; name="cte.docx"',
            b"Content-Transfer-Encoding: " + cte,
            b"",
            b"=ZZ=\xe4=0=\r begin 644 x\r\n`\r\nend UEsDBA==",
        ]
    return crlf(
        *head(11, b"transfer encodings"),
        b'Content-Type: multipart/mixed; boundary="T"',
        b"Content-Transfer-Encoding: base64",  # on a multipart: forbidden
        b"",
        *parts,
        b"--T--",
    )


def _odd_boundaries() -> bytes:
    long = b"L" * 5000
    return crlf(
        *head(12, b"odd boundaries"),
        b'Content-Type: multipart/mixed; boundary="S"',
        b"",
        b"--S",
        b'Content-Type: multipart/alternative; boundary="S"',  # the same boundary again
        b"",
        b"--S",
        b"Content-Type: text/plain",
        b"",
        b"inner",
        b"--S--",
        b"--S",
        b'Content-Type: multipart/related; boundary=""',
        b"",
        b"--",
        b"Content-Type: text/plain",
        b"",
        b"empty boundary",
        b"----",
        b"--S",
        b'Content-Type: multipart/mixed; boundary="' + long + b'"',
        b"",
        b"--" + long,
        b'Content-Type: application/octet-stream; name="long.bin"',
        b"",
        b"payload",
        b"--" + long + b"--",
        b"--S",
        b"Content-Type: multipart/mixed",  # no boundary at all
        b"",
        b"--nothing",
        b"--S--",
    )


def _broken_rfc822() -> bytes:
    return crlf(
        *head(13, b"attached mail"),
        b'Content-Type: multipart/mixed; boundary="R"',
        b"",
        b"--R",
        b"Content-Type: message/rfc822; charset=x-unknown",
        b"Content-Transfer-Encoding: base64",
        b"",
        b"U3ViamVjdDog5bCP5a2mDQpDb250ZW50LVR5cGU6IG11bHRpcGFydC9taXhlZDsgYm91bmRh",
        b"--R",
        b"Content-Type: message/rfc822",
        b"",
        b"Subject: inner",
        b"Content-Type: multipart/mixed; boundary=inner",
        b"",
        b"--inner",
        b'Content-Type: application/octet-stream; name="inner.docx"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b"UEsDB",
        b"--R--",
    )


def _control_characters_in_headers() -> bytes:
    """Encoded-words that decode to line breaks: a reply built from them must not break."""
    newline = b"=?utf-8?Q?=E6=8A=A5=0D=0ABcc:_victim@example.com=0A?="
    return crlf(
        b"From: =?utf-8?Q?=E5=BC=A0=0D=0A?= <t14@school.example>",
        b"To: bot@qq.example",
        b"Subject: " + newline,
        b"Message-ID: =?utf-8?Q?<a=0D=0Ab@school.example>?=",
        b"In-Reply-To: =?utf-8?Q?<x=0Ay@school.example>?=",
        b"References: <ok@school.example> =?utf-8?Q?<p=0D=0Aq@x>?=",
        b'Content-Type: multipart/mixed; boundary="C"',
        b"",
        b"--C",
        b"Content-Type: application/octet-stream",
        b"Content-Disposition: attachment; filename*=utf-8''%E6%8A%A5%0D%0A%E5%91%8A.docx",
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(b"not a document"),
        b"--C--",
    )


def _python_only_codecs() -> bytes:
    """Labels that name Python codecs, not charsets: they can produce lone surrogates."""
    return crlf(
        b"From: =?unicode_escape?Q?=5Cud800?= <t15@school.example>",
        b"To: bot@qq.example",
        b"Subject: =?unicode_escape?Q?=5Cud800=5Cx00?= =?utf-7?Q?+2AA-?=",
        b"Message-ID: <hostile-15@school.example>",
        b'Content-Type: multipart/mixed; boundary="P"',
        b"",
        b"--P",
        b"Content-Type: text/plain; charset=unicode_escape",
        b"",
        b"\\ud800 \\U0010ffff \\N{SNOWMAN}",
        b"--P",
        b"Content-Type: text/html; charset=utf-7",
        b"",
        b"<p>+2AA-</p>",
        b"--P",
        b"Content-Type: application/octet-stream",
        b"Content-Disposition: attachment; filename*=unicode_escape''%5Cud800.docx",
        b"",
        b"x",
        b"--P",
        b"Content-Type: application/octet-stream",
        b'Content-Disposition: attachment; filename="=?raw_unicode_escape?Q?=5Cudfff?=.pdf"',
        b"",
        b"y",
        b"--P--",
    )


def _hostile_html() -> bytes:
    return crlf(
        *head(16, b"html"),
        b"Content-Type: text/html; charset=utf-8",
        b"",
        b"<html><![if !supportLists]><!DOCTYPE x [<!x>]><!-- never closed <script>",
        b'<a href="' + b"h" * 200_000 + b'">x</a><![CDATA[ <p> ]]><table><td><td>',
        b"&#xD800; &#0; &#x110000; &bogus; <p/><</>",
    )


def _deep_attached_messages() -> bytes:
    lines = head(17, b"matryoshka")
    for _ in range(50):
        lines += [b"Content-Type: message/rfc822", b"", b"Subject: inner"]
    lines += [b"Content-Type: text/plain", b"", b"innermost"]
    return crlf(*lines)


def _broken_header_section() -> bytes:
    return crlf(
        b" continuation before any header",
        b"From t18@school.example",
        b"From: " + b"(" * 5000 + b"t18@school.example",
        b"To: ,,,,<<<>>>,@,",
        b"Date: Mon, 99 Foo 99999 99:99:99 +9999",
        b"Subject: =?utf-8?B?",
        b"Subject: second subject",
        b"Content-Type: ;;;==; charset",
        b"Content-Disposition: attachment; filename*0*=utf-8''%E6; filename*=x; filename*1=%",
        b"\tfolded: nothing",
        b"",
        b"body",
    )


def _many_attachments() -> bytes:
    parts = []
    for i in range(300):
        parts += [
            b"--A",
            b'Content-Type: application/octet-stream; name="part-%d.bin"' % i,
            b"",
            b"%d" % i,
        ]
    return crlf(
        *head(19, b"300 attachments"),
        b'Content-Type: multipart/mixed; boundary="A"',
        b"",
        *parts,
        b"--A--",
    )


def _quoted_printable() -> bytes:
    return crlf(
        *head(20, b"=?utf-8?Q?=E6=8A=A5=ZZ=?="),
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        b"=E6=8A=A5=E5=91=8A=ZZ=4=",
        b"=",
    )


def _accepted_despite_noise() -> bytes:
    """A good report wrapped in junk headers and an odd preamble: still a submission."""
    name, docx = report(SCHOOLS[3])
    return crlf(
        *head(21, word(f"{SCHOOLS[3]}报告"), b"X-Note: \xe4\xb8", b"Content-Language: \x01"),
        b'Content-Type: multipart/mixed; boundary="OK"',
        b"",
        b"preamble \xff\x00 with --OK inside the line",
        b"--OK",
        b'Content-Type: application/octet-stream; name="' + name + b'"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(docx),
        b"--OK--",
        b"epilogue --OK",
    )


def _eight_bit_header_names() -> bytes:
    """A header name that is not ASCII ends the header section for some parsers, not others."""
    name, docx = report(SCHOOLS[4])
    return crlf(
        *head(22, word(f"{SCHOOLS[4]}报告"), "X-学校: 1".encode(), b"X-\xff\xfe: \xe4\xb8"),
        b'Content-Type: multipart/mixed; boundary="E"',
        b"",
        b"--E",
        b'Content-Type: application/octet-stream; name="' + name + b'"',
        b"Content-Transfer-Encoding: base64",
        b"",
        b64(docx),
        b"--E--",
    )


CORPUS: dict[str, Callable[[], bytes]] = {
    "unterminated boundary": _unterminated_boundary,
    "bad base64": _bad_base64,
    "5,000 header lines": _many_headers,
    "a 10 MB header line": _huge_header_line,
    "a 1 MB subject": _huge_subject,
    "a 3 MB file name": _huge_filename,
    "multiparts nested 200 deep": lambda: _nested(200, 6),
    "gb2312 label on GB18030 text": _gb2312_label_on_gb18030,
    "unknown charset": _unknown_charset,
    "NUL bytes in headers and body": _nul_bytes,
    "only headers": _only_headers,
    "binary garbage": _binary_garbage,
    "invalid transfer encodings": _transfer_encodings,
    "odd boundaries": _odd_boundaries,
    "broken attached messages": _broken_rfc822,
    "encoded line breaks in headers": _control_characters_in_headers,
    "Python-only codec labels": _python_only_codecs,
    "hostile HTML": _hostile_html,
    "attached messages nested 50 deep": _deep_attached_messages,
    "broken header section": _broken_header_section,
    "300 attachments": _many_attachments,
    "broken quoted-printable": _quoted_printable,
    "a good report in noise": _accepted_despite_noise,
    "8-bit header names": _eight_bit_header_names,
}


def corpus() -> dict[str, bytes]:
    """Every hostile sample by what it is; all different bytes."""
    return {label: build() for label, build in CORPUS.items()}


# --- attachment names -------------------------------------------------------------------------

CONTROLS = "".join(chr(c) for c in [*range(0x20), 0x7F])
HOSTILE_NAMES: tuple[str, ...] = (
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/abs/path.docx",
    "C:\\Windows\\x.docx",
    "C:x.docx",
    "\\\\server\\share\\x.docx",
    "CON",
    "nul.docx",
    "aux",
    "Com1.txt",
    "lpt9.pdf",
    "con .docx",
    "CONIN$",
    "COM¹.docx",
    "a\x00b.docx",
    "tab\there\x1f.docx",
    "del\x7f.docx",
    "c1\x85\x9b.docx",
    "bidi\u202excod.docx",
    "line\u2028sep.docx",
    "new\r\nline.docx",
    "every" + CONTROLS + "control.docx",
    "x" * 1000 + ".docx",
    "长" * 1000 + ".docx",
    "长" * 1000,
    "..",
    ".",
    "....",
    ".. .",
    "",
    " ",
    ".hidden",
    "report.docx.",
    "trailing ",
)


def name_header_forms(name: str) -> list[tuple[str, list[bytes]]]:
    """The ways clients write a file name into a part's headers, for one name."""
    utf8 = name.encode("utf-8", "surrogatepass")
    quoted = (
        utf8.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\r", b"").replace(b"\n", b"")
    )
    encoded = urllib.parse.quote_from_bytes(utf8, safe="").encode()
    gb = name.encode("gb18030", "replace")
    return [
        ("raw 8-bit", [b'Content-Disposition: attachment; filename="' + quoted + b'"']),
        (
            "RFC 2047 in quotes",
            [b'Content-Type: application/octet-stream; name="' + _words(utf8) + b'"'],
        ),
        ("RFC 2231", [b"Content-Disposition: attachment; filename*=utf-8''" + encoded]),
        (
            "RFC 2231 gb18030",
            [
                b"Content-Disposition: attachment; filename*=gb18030''"
                + urllib.parse.quote_from_bytes(gb, safe="").encode()
            ],
        ),
    ]


def _words(data: bytes) -> bytes:
    """Encoded-words of at most 45 bytes each, split anywhere (also inside a character)."""
    chunks = [data[i : i + 45] for i in range(0, len(data), 45)] or [b""]
    return b" ".join(b"=?utf-8?B?" + base64.b64encode(chunk) + b"?=" for chunk in chunks)


def named_attachment_mail(number: int, name: str, payload: bytes) -> tuple[bytes, list[bytes]]:
    """One message carrying the payload once per header form of the name; returns it and the
    payloads in order."""
    parts: list[bytes] = []
    payloads: list[bytes] = []
    for index, (_form, headers) in enumerate(name_header_forms(name)):
        data = payload + b" form %d" % index
        payloads.append(data)
        has_type = any(h.lower().startswith(b"content-type") for h in headers)
        parts += [
            b"--NAMES",
            *([] if has_type else [b"Content-Type: application/octet-stream"]),
            *headers,
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(data),
        ]
    raw = crlf(
        *head(number, b"names %d" % number),
        b'Content-Type: multipart/mixed; boundary="NAMES"',
        b"",
        *parts,
        b"--NAMES--",
    )
    return raw, payloads


# --- hypothesis: whole messages ---------------------------------------------------------------

# Labels senders write, labels that lie, labels no codec has, and Python codecs that are no
# charset at all.
CHARSETS = (
    "utf-8",
    "gb2312",
    "gbk",
    "gb18030",
    "big5",
    "utf-16",
    "utf-7",
    "iso-2022-jp",
    "latin-1",
    "x-unknown",
    "undefined",
    "unicode_escape",
    "raw-unicode-escape",
    "base64",
    "utf-8*zh",
    "",
    "gbk\x00",
)
TRANSFER_ENCODINGS = (
    "base64",
    "BASE64",
    "quoted-printable",
    "7bit",
    "8bit",
    "binary",
    "x-uuencode",
    "base64; junk",
    "",
    "\xff",
)
HOSTILE_ALPHABET = (
    "ab.-_ /\\:*?\"<>|%=;'`~$ ..\x00\x01\x09\x0a\x0d\x1b\x1f\x7f\x85\x9b"
    "\u202e\u200d\u2028\u3000\uff0f\u0301\ufffd报告案例长学校校📄"
)
ENDINGS = ("", ".docx", ".pdf", ".zip", ".7z", ".eml", ".txt", ".", ".DOCX", ".docx.exe")

_hostile_text = st.text(alphabet=HOSTILE_ALPHABET, max_size=40)
hostile_names = st.one_of(
    st.builds(
        lambda prefix, middle, ending: prefix + middle + ending,
        st.sampled_from(["", "CON", "nul", "aux", "com1", "LPT9", "../", "/", "C:\\", "..\\"]),
        _hostile_text,
        st.sampled_from(ENDINGS),
    ),
    st.sampled_from(HOSTILE_NAMES),
)


def encode_text(text: str, charset: str) -> bytes:
    """Text in a charset as far as it goes; a label Python lacks gets GB18030 bytes."""
    for codec in (charset.split("*")[0].strip("\x00"), "gb18030"):
        try:
            return text.encode(codec, "replace")
        except (LookupError, UnicodeError, TypeError):
            continue
    return text.encode("utf-8", "surrogatepass")


@st.composite
def encoded_words(draw: st.DrawFn) -> bytes:
    """Header text: plain runs and encoded-words (B or Q, maybe broken) in random charsets."""
    pieces = []
    for _ in range(draw(st.integers(0, 4))):
        text = draw(_hostile_text)
        charset = draw(st.sampled_from(CHARSETS))
        data = encode_text(
            text, draw(st.sampled_from(CHARSETS)) if draw(st.booleans()) else charset
        )
        style = draw(st.sampled_from(["B", "Q", "plain", "raw", "broken"]))
        label = charset.encode("ascii", "replace")
        if style == "B":
            pieces.append(b"=?" + label + b"?B?" + base64.b64encode(data) + b"?=")
        elif style == "Q":
            quoted = b"".join(b"=%02X" % byte for byte in data)
            pieces.append(b"=?" + label + b"?Q?" + quoted + b"?=")
        elif style == "raw":
            pieces.append(data)  # 8-bit bytes straight in the header
        elif style == "broken":
            pieces.append(b"=?" + label + b"?B?" + base64.b64encode(data)[:-1] + b"*?")
        else:
            pieces.append(text.encode("ascii", "ignore"))
    return b" ".join(pieces).replace(b"\r", b"").replace(b"\n", b"")


@st.composite
def name_params(draw: st.DrawFn) -> list[bytes]:
    """Content-Disposition / Content-Type lines naming a file, in one of the written forms."""
    name = draw(hostile_names)
    charset = draw(st.sampled_from(CHARSETS))
    data = encode_text(name, charset)
    form = draw(st.sampled_from(["none", "raw", "2047", "2231", "2231-split", "both"]))
    quoted = data.replace(b"\r", b"").replace(b"\n", b"").replace(b'"', b"")
    if form == "none":
        return [b"Content-Type: application/octet-stream"]
    if form == "raw":
        return [b'Content-Disposition: attachment; filename="' + quoted + b'"']
    if form == "2047":
        label = charset.encode("ascii", "replace")
        value = b"=?" + label + b"?B?" + base64.b64encode(data) + b"?="
        return [b'Content-Type: application/octet-stream; name="' + value + b'"']
    encoded = urllib.parse.quote_from_bytes(data, safe="").encode()
    label = urllib.parse.quote(charset, safe="").encode()
    if form == "2231":
        return [b"Content-Disposition: attachment; filename*=" + label + b"''" + encoded]
    if form == "2231-split":
        half = len(encoded) // 2
        return [
            b"Content-Disposition: attachment;",
            b" filename*0*=" + label + b"''" + encoded[:half] + b";",
            b" filename*1*=" + encoded[half:],
        ]
    return [
        b'Content-Disposition: attachment; filename="' + quoted + b'";',
        b" filename*=" + label + b"''" + encoded,
    ]


def _body(payload: bytes, cte: str) -> bytes:
    """The payload written in its transfer encoding, when that encoding is a real one."""
    name = cte.lower()
    if name == "base64":
        return b64(payload)
    if name == "quoted-printable":
        return b"".join(
            b"=%02X" % byte if byte > 126 or byte == 61 else bytes([byte]) for byte in payload
        )
    return payload


@st.composite
def leaf_parts(draw: st.DrawFn) -> bytes:
    """One body part or attachment: any type, charset and transfer encoding, maybe named."""
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(TRANSFER_ENCODINGS))
    headers = [b"Content-Type: " + content_type + b'; charset="' + charset.encode() + b'"']
    if draw(st.booleans()):
        headers.append(b"Content-Transfer-Encoding: " + cte.encode("latin-1"))
    if draw(st.booleans()):
        headers += draw(name_params())
    if content_type.startswith(b"text") and draw(st.booleans()):
        payload = encode_text(draw(st.text(max_size=200)), charset)
    else:
        payload = draw(st.binary(max_size=300))
    if draw(st.integers(0, 9)) == 0:
        return CRLF.join(headers)  # a part that ends in its headers
    return CRLF.join([*headers, b"", _body(payload, cte)])


CONTENT_TYPES = (
    b"text/plain",
    b"text/html",
    b"application/octet-stream",
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"application/pdf",
    b"application/zip",
    b"image/png",
    b"message/rfc822",
    b"multipart/mixed",  # a multipart without boundary or parts
    b"text",
    b"",
    b"x/\x00;;",
)
BOUNDARY_ALPHABET = "AZaz09'()+_,-./:=? \"\x00\xff"


def multipart_of(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """A multipart around some parts: boundary missing, empty, odd or reused; maybe never
    closed, maybe with preamble and epilogue."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        subtype = draw(st.sampled_from([b"mixed", b"alternative", b"related", b"report", b"x"]))
        boundary = draw(st.text(alphabet=BOUNDARY_ALPHABET, max_size=12)).encode("utf-8")
        parts = draw(st.lists(children, max_size=4))
        header = b"Content-Type: multipart/" + subtype
        style = draw(st.sampled_from(["quoted", "bare", "missing", "different"]))
        if style == "quoted":
            header += b'; boundary="' + boundary + b'"'
        elif style == "bare":
            header += b"; boundary=" + boundary
        elif style == "different":
            header += b'; boundary="' + boundary + b'x"'  # never used in the body
        lines = [header, b""]
        if draw(st.booleans()):
            lines.append(draw(st.binary(max_size=40)))  # preamble
        for part in parts:
            lines += [b"--" + boundary, part]
        if draw(st.booleans()):
            lines.append(b"--" + boundary + b"--")
            if draw(st.booleans()):
                lines.append(draw(st.binary(max_size=40)))  # epilogue
        return CRLF.join(lines)

    return build()


mime_trees = st.recursive(leaf_parts(), multipart_of, max_leaves=8)


@st.composite
def header_fields(draw: st.DrawFn) -> list[bytes]:
    """From, Subject, ids and some random fields, each possibly broken."""
    fields = []
    sender = draw(
        st.sampled_from(
            [
                b"From: t@school.example",
                b"From: =?utf-8?B?5byg6ICB5biI?= <t@school.example>",
                b"From: ",
                b"From: <<<@>>>",
                b"From: postmaster@qq.com",
                b"From: bot@qq.example",
            ]
        )
    )
    if draw(st.booleans()):
        sender = b"From: " + draw(encoded_words()) + b" <t@school.example>"
    fields.append(sender)
    fields.append(b"Subject: " + draw(encoded_words()))
    if draw(st.booleans()):
        fields.append(b"Message-ID: <" + draw(encoded_words()) + b"@school.example>")
    if draw(st.booleans()):
        fields.append(b"In-Reply-To: " + draw(encoded_words()))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([b"X-Any", b"Auto-Submitted", b"Precedence", b"Date", b"To"]))
        fields.append(name + b": " + draw(encoded_words()))
    if draw(st.booleans()):
        fields.append(b"MIME-Version: 1.0")
    return fields


@st.composite
def whole_messages(draw: st.DrawFn) -> bytes:
    """A whole message: headers, then a MIME tree whose first line is its Content-Type."""
    fields = draw(header_fields())
    tree = draw(mime_trees)
    if draw(st.integers(0, 9)) == 0:
        fields.append(b"Content-Type: text/plain")  # a second Content-Type, before the tree's
    return CRLF.join(fields) + CRLF + tree + CRLF


@st.composite
def mutations(draw: st.DrawFn, bases: tuple[bytes, ...]) -> bytes:
    """A valid message with some bytes changed, removed, inserted or cut off."""
    data = bytearray(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert", "cut", "duplicate"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 64))]
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from(
                    [b"\r\n", b"\r\n\r\n", b"--", b"=?", b"?=", b";", b'"', b"\x00", b"\xff"]
                )
                | st.binary(min_size=1, max_size=16)
            )
        elif action == "cut":
            del data[position:]
        else:
            end = position + draw(st.integers(1, 200))
            data[position:position] = data[position:end]
    return bytes(data)
