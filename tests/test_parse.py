"""parse_mail against messages as Chinese schools' mail clients really write them.

Every message here is written out byte for byte the way its client produces it, including the
non-standard forms (gb2312 labels on GBK text, raw 8-bit names, QQ's quoted encoded-words).
None of them is built with the email package's encoder, which would produce clean MIME.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from intake.domain import Attachment, LargeFileLink, ParsedMail
from intake.mail.parse import parse_mail

CST = timezone(timedelta(hours=8))
DOCX_HEAD = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"  # base64 "UEsDBBQABgAIAAAAIQA="


def crlf(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n"


# (a) Foxmail 7.2 with a gb2312 label on GBK text: 喆 is not in GB2312.
FOXMAIL_GB2312 = crlf(
    b"Received: from LAPTOP-WZ2021 (unknown [171.221.128.34])",
    b"\tby newxmesmtplogicsvrsza5.qq.com (NewEsmtp) with SMTP",
    b"\tid 3B2E8F02; Thu, 20 May 2021 09:12:35 +0800",
    b"Date: Thu, 20 May 2021 09:12:33 +0800",
    b'From: "=?gb2312?B?zfWGtA==?=" <WangZhe2021@foxmail.com>',
    b'To: "=?gb2312?B?tPPI/Nfpzq+74Q==?=" <contest2021@qq.com>',
    b"Subject: =?gb2312?B?sajD+7HtIM31hrQ=?=",
    b"X-Priority: 3",
    b"X-GUID: 5E0C8D1B-7A43-4F2E-9C61-0B7D8E2F4A11",
    b"X-Has-Attach: yes",
    b"X-Mailer: Foxmail 7.2.19.158[cn]",
    b"Mime-Version: 1.0",
    b"Message-ID: <202105200912333251038@foxmail.com>",
    b"Content-Type: multipart/mixed;",
    b'\tboundary="----=_001_NextPart431581541250_=----"',
    b"",
    b"This is a multi-part message in MIME format.",
    b"",
    b"------=_001_NextPart431581541250_=----",
    b"Content-Type: text/plain;",
    b'\tcharset="GB2312"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"zfXAz8qmo7oNCri9vP7Kx7Gow/ux7aOsx+uy6crVoaMNCs31hrQNCg==",
    b"",
    b"------=_001_NextPart431581541250_=----",
    b"Content-Type: application/octet-stream;",
    b'\tname="=?gb2312?B?6UaGtNbQ0ae4xL34sLjA/aOo0rujqS5kb2N4?="',
    b"Content-Transfer-Encoding: base64",
    b"Content-Disposition: attachment;",
    b'\tfilename="=?gb2312?B?6UaGtNbQ0ae4xL34sLjA/aOo0rujqS5kb2N4?="',
    b"",
    b"UEsDBBQABgAIAAAAIQA=",
    b"",
    b"------=_001_NextPart431581541250_=------",
)

# (b) An old school office system (JMail) writing raw 8-bit GBK into Subject and filename.
# GBK of 玥 is AB 68: its second byte is the ASCII letter "h".
RAW_GBK = crlf(
    b"From: office@slqkyxx.cn",
    b"To: contest2021@qq.com",
    b"Subject: " + "双流区堃玥小学 报告".encode("gbk"),
    b"Date: Fri, 21 May 2021 16:02:11 +0800",
    b"X-Mailer: w3 JMail 4.5.0 Server",
    b"MIME-Version: 1.0",
    b'Content-Type: multipart/mixed; boundary="=====003_Dragon137805271436_====="',
    b"",
    b"--=====003_Dragon137805271436_=====",
    b"Content-Type: text/plain; charset=gb2312",
    b"Content-Transfer-Encoding: 8bit",
    b"",
    "附件是我校报告。堃玥小学".encode("gbk"),
    b"",
    b"--=====003_Dragon137805271436_=====",
    b'Content-Type: application/msword; name="' + "双流区堃玥小学报告.docx".encode("gbk") + b'"',
    b"Content-Transfer-Encoding: base64",
    b'Content-Disposition: attachment; filename="' + "双流区堃玥小学报告.docx".encode("gbk") + b'"',
    b"",
    b"UEsDBBQABgAIAAAAIQA=",
    b"",
    b"--=====003_Dragon137805271436_=====--",
)

# (c) iPhone Mail splitting a long UTF-8 subject in the middle of 堃 (E5 A0 | 83).
IPHONE_SPLIT_SUBJECT = crlf(
    b"Content-Type: text/plain; charset=utf-8",
    b"Content-Transfer-Encoding: base64",
    b"From: =?utf-8?B?546L5ZaG?= <wangzhe2021@icloud.com>",
    b"Mime-Version: 1.0 (1.0)",
    b"Date: Sat, 22 May 2021 07:45:01 +0800",
    b"Subject: =?utf-8?B?5oiQ6YO95biC5Y+M5rWB5Yy65aCD5w==?=",
    b" =?utf-8?B?jqXlsI/lrablj4LotZvkvZzlk4HmiqXlkI3ooag=?=",
    b"Message-Id: <5A0B1C2D-3E4F-4061-8273-9A8B7C6D5E4F@icloud.com>",
    b"To: contest2021@qq.com",
    b"X-Mailer: iPhone Mail (18E199)",
    b"",
    b"6ZmE5Lu25piv5oiR5qCh55qE5pS56L+b5qGI5L6L77yM6K+35p+l5pS244CC",
)

# (c) Foxmail splitting a GB18030 subject in the middle of 关 (B9 | D8).
FOXMAIL_SPLIT_SUBJECT = crlf(
    b"Date: Sat, 22 May 2021 10:01:00 +0800",
    b'From: "rongzhe@foxmail.com" <rongzhe@foxmail.com>',
    b"To: contest2021 <contest2021@qq.com>",
    b"Subject: =?GB18030?B?6UaGtNbQ0ae5?=",
    b"\t=?GB18030?B?2NPasajLzbjEvfiwuMD9tcS6rw==?=",
    b"Mime-Version: 1.0",
    b"Message-ID: <tencent_0A1B2C3D4E5F60718293A4B5C6D7E8F90A05@qq.com>",
    b"Content-Type: text/plain;",
    b'\tcharset="GB18030"',
    b"Content-Transfer-Encoding: base64",
    b"X-Mailer: Foxmail 7.2.20.273[cn]",
    b"",
    b"zfXAz8qmo7oNCri9vP7Kx7Gow/ux7aOsx+uy6crVoaMNCs31hrQNCg==",
)

# (d) Thunderbird with a GBK default charset: RFC 2231 continuations split inside 玥 (AB | 68).
THUNDERBIRD_RFC2231_GBK = crlf(
    b"To: contest2021@qq.com",
    b"From: =?GBK?B?y6vB98f4iNKraNCh0ac=?= <slqkyxx@163.com>",
    b"Subject: =?GBK?B?y6vB98f4iNKraNCh0acgsajD+7Ht?=",
    b"Message-ID: <8c1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6@163.com>",
    b"Date: Sun, 23 May 2021 20:30:00 +0800",
    b"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:78.0) Gecko/20100101",
    b" Thunderbird/78.10.2",
    b"MIME-Version: 1.0",
    b"Content-Type: multipart/mixed;",
    b' boundary="------------6E2F0B7A1C9D3E4F5A6B7C8D"',
    b"Content-Language: zh-CN",
    b"",
    b"This is a multi-part message in MIME format.",
    b"--------------6E2F0B7A1C9D3E4F5A6B7C8D",
    b"Content-Type: text/plain; charset=GBK; format=flowed",
    b"Content-Transfer-Encoding: 8bit",
    b"",
    "附件是我校报告。堃玥小学".encode("gbk"),
    b"",
    b"--------------6E2F0B7A1C9D3E4F5A6B7C8D",
    b"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;",
    b" name*0*=gbk''%CB%AB%C1%F7%C7%F8%88%D2%AB;",
    b" name*1*=h%D0%A1%D1%A7%B8%C4%BD%F8%B0%B8%C0%FD%A3%A8%D2%BB%A3%A9.docx",
    b"Content-Transfer-Encoding: base64",
    b"Content-Disposition: attachment;",
    b" filename*0*=gbk''%CB%AB%C1%F7%C7%F8%88%D2%AB;",
    b" filename*1*=h%D0%A1%D1%A7%B8%C4%BD%F8%B0%B8%C0%FD%A3%A8%D2%BB%A3%A9.docx",
    b"",
    b"UEsDBBQABgAIAAAAIQA=",
    b"",
    b"--------------6E2F0B7A1C9D3E4F5A6B7C8D--",
)

# (e) QQ web mail: gb18030 everywhere, name="=?gb18030?B?...?=" inside quotes, a nested
# boundary parameter ending in ";", and an inline signature image.
QQ_WEB = crlf(
    b"X-QQ-FEAT: 3rE9EdSNRgRTbEgkqb7pGn9FvbQh1UBKEvN5BWDvJmf3B1vjYmDhcW8Vcd3YF",
    b"X-QQ-SSF: 00000000000000F000000000000000Z",
    b"X-HAS-ATTACH: yes",
    b"X-QQ-BUSINESS-ORIGIN: 2",
    b"X-Originating-IP: 118.113.42.7",
    b"X-QQ-STYLE: ",
    b"X-QQ-mid: webmail720t1621488706t2140813",
    b'From: "=?gb18030?B?6UaGtNbQ0ae9zM7xtKY=?=" <2401234567@qq.com>',
    b'To: "=?gb18030?B?y6vB98f4vczR0MrS?=" <contest2021@qq.com>',
    b"Subject: =?gb18030?B?6UaGtNbQ0acgss7I/Nf3xrc=?=",
    b"Mime-Version: 1.0",
    b"Content-Type: multipart/mixed;",
    b'\tboundary="----=_NextPart_60A5F1A2_0E3B8B28_2C0F3A5D"',
    b"Content-Transfer-Encoding: 8Bit",
    b"Date: Thu, 20 May 2021 13:31:46 +0800",
    b"X-Priority: 3",
    b"Message-ID: <tencent_4D1F3E6B0C9A8F27E51B5A3C9D2E4F6A7B08@qq.com>",
    b"X-QQ-MIME: TCMime 1.0 by Tencent",
    b"X-Mailer: QQMail 2.x",
    b"X-QQ-Mailer: QQMail 2.x",
    b"",
    b"This is a multi-part message in MIME format.",
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_2C0F3A5D",
    b"Content-Type: multipart/related;",
    b'\tboundary="----=_NextPart_60A5F1A2_0E3B8B28_1A2B3C4D";',
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_1A2B3C4D",
    b"Content-Type: multipart/alternative;",
    b'\tboundary="----=_NextPart_60A5F1A2_0E3B8B28_6B4E2D1C";',
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_6B4E2D1C",
    b"Content-Type: text/plain;",
    b'\tcharset="gb18030"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"uPfOu8DPyqa6w6O6DQq4vbz+ysfO0tCjtcSyzsj81/fGt6Osx+uy6crVoaMNCulGhrTW0NGnDQo=",
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_6B4E2D1C",
    b"Content-Type: text/html;",
    b'\tcharset="gb18030"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"PGRpdj649867wM/KprrDo7o8L2Rpdj48ZGl2Pri9vP7Kx87S0KO1xLLOyPzX98a3o6zH67LpytWh",
    b"ozwvZGl2PjxkaXY+6UaGtNbQ0ac8L2Rpdj4=",
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_6B4E2D1C--",
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_1A2B3C4D",
    b"Content-Type: image/png;",
    b'\tname="sig.png"',
    b"Content-Transfer-Encoding: base64",
    b"Content-ID: <7E1A2B3C@3A0B9E1D.8A5F6B60>",
    b"",
    b"iVBORw0KGgo=",
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_1A2B3C4D--",
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_2C0F3A5D",
    b"Content-Type: application/octet-stream;",
    b'\tcharset="gb18030";',
    b'\tname="=?gb18030?B?6UaGtNbQ0ae4xL34sLjA/aOo0rujqS5kb2N4?="',
    b"Content-Disposition: attachment; filename="
    b'"=?gb18030?B?6UaGtNbQ0ae4xL34sLjA/aOo0rujqS5kb2N4?="',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"UEsDBBQABgAIAAAAIQA=",
    b"",
    b"------=_NextPart_60A5F1A2_0E3B8B28_2C0F3A5D--",
)

# (f) Gmail: raw 8-bit UTF-8 in name= and filename= (RFC 6532 style), with a Content-ID.
GMAIL_RAW_UTF8 = crlf(
    b"MIME-Version: 1.0",
    b"From: =?UTF-8?B?6ZWV5ZaG5Lit5a2m?= <rongzhe.school@gmail.com>",
    b"Date: Mon, 24 May 2021 11:20:03 +0800",
    b"Message-ID: <CAJx9Qm3pZ1+7kq2W0uQ5vF8rT4nE6yH2dB1cA0sX9wV7tU@mail.gmail.com>",
    b"Subject: =?UTF-8?B?6ZWV5ZaG5Lit5a2m5pS56L+b5qGI5L6L?=",
    b"To: contest2021@qq.com",
    b'Content-Type: multipart/mixed; boundary="000000000000a1b2c305c2b1d4e7"',
    b"",
    b"--000000000000a1b2c305c2b1d4e7",
    b'Content-Type: text/plain; charset="UTF-8"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"6ZmE5Lu25piv5oiR5qCh55qE5pS56L+b5qGI5L6L77yM6K+35p+l5pS244CC",
    b"--000000000000a1b2c305c2b1d4e7",
    b"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document; ",
    b'\tname="' + "镕喆中学改进案例（一）.docx".encode() + b'"',
    b'Content-Disposition: attachment; filename="' + "镕喆中学改进案例（一）.docx".encode() + b'"',
    b"Content-Transfer-Encoding: base64",
    b"Content-ID: <f_kp0x1y2z0>",
    b"X-Attachment-Id: f_kp0x1y2z0",
    b"",
    b"UEsDBBQABgAIAAAAIQA=",
    b"--000000000000a1b2c305c2b1d4e7--",
)

# (g) Thunderbird with UTF-8: filename*=UTF-8''… and an encoded-word name= fallback.
THUNDERBIRD_RFC2231_UTF8 = crlf(
    b"To: contest2021@qq.com",
    b"From: slqkyxx <slqkyxx@163.com>",
    b"Subject: =?UTF-8?B?5Y+M5rWB5Yy65aCD546l5bCP5a2m5oql5ZGK?=",
    b"Message-ID: <0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f7@163.com>",
    b"Date: Mon, 24 May 2021 21:00:00 +0800",
    b"MIME-Version: 1.0",
    b"Content-Type: multipart/mixed;",
    b' boundary="------------0A1B2C3D4E5F60718293A4B5"',
    b"",
    b"--------------0A1B2C3D4E5F60718293A4B5",
    b"Content-Type: text/plain; charset=UTF-8; format=flowed",
    b"Content-Transfer-Encoding: 7bit",
    b"",
    b"See attachment.",
    b"",
    b"--------------0A1B2C3D4E5F60718293A4B5",
    b"Content-Type: application/pdf;",
    b' name="=?UTF-8?B?5Y+M5rWB5Yy65aCD546l5bCP5a2m5oql5ZGK?=.pdf"',
    b"Content-Transfer-Encoding: base64",
    b"Content-Disposition: attachment;",
    b" filename*=UTF-8''%E5%8F%8C%E6%B5%81%E5%8C%BA%E5%A0%83%E7%8E%A5%E5%B0%8F%E5%AD%A6%E6%8A%A5"
    b"%E5%91%8A.pdf",
    b"",
    b"JVBERi0xLjQK",
    b"",
    b"--------------0A1B2C3D4E5F60718293A4B5--",
)


# --- the acceptance test: every encoding, exact names -------------------------------------------

EXPECTED = [
    # raw, subject, sender, sender name, attachment file names
    (
        FOXMAIL_GB2312,
        "报名表 王喆",
        "wangzhe2021@foxmail.com",
        "王喆",
        ["镕喆中学改进案例（一）.docx"],
    ),
    (RAW_GBK, "双流区堃玥小学 报告", "office@slqkyxx.cn", "", ["双流区堃玥小学报告.docx"]),
    (
        IPHONE_SPLIT_SUBJECT,
        "成都市双流区堃玥小学参赛作品报名表",
        "wangzhe2021@icloud.com",
        "王喆",
        [],
    ),
    (FOXMAIL_SPLIT_SUBJECT, "镕喆中学关于报送改进案例的函", "rongzhe@foxmail.com", "", []),
    (
        THUNDERBIRD_RFC2231_GBK,
        "双流区堃玥小学 报名表",
        "slqkyxx@163.com",
        "双流区堃玥小学",
        ["双流区堃玥小学改进案例（一）.docx"],
    ),
    (
        QQ_WEB,
        "镕喆中学 参赛作品",
        "2401234567@qq.com",
        "镕喆中学教务处",
        ["sig.png", "镕喆中学改进案例（一）.docx"],
    ),
    (
        GMAIL_RAW_UTF8,
        "镕喆中学改进案例",
        "rongzhe.school@gmail.com",
        "镕喆中学",
        ["镕喆中学改进案例（一）.docx"],
    ),
    (
        THUNDERBIRD_RFC2231_UTF8,
        "双流区堃玥小学报告",
        "slqkyxx@163.com",
        "slqkyxx",
        ["双流区堃玥小学报告.pdf"],
    ),
]


def test_every_encoding_chinese_senders_produce_decodes_exactly() -> None:
    for raw, subject, sender, sender_name, filenames in EXPECTED:
        mail = parse_mail(raw)
        assert mail.subject == subject
        assert mail.sender == sender
        assert mail.sender_name == sender_name
        assert [attachment.filename for attachment in mail.attachments] == filenames
        for attachment in mail.attachments:
            assert "\ufffd" not in attachment.filename
        assert "\ufffd" not in mail.text


# --- each client in detail ----------------------------------------------------------------------


def test_foxmail_gb2312_message() -> None:
    mail = parse_mail(FOXMAIL_GB2312)
    assert mail == ParsedMail(
        message_id="202105200912333251038@foxmail.com",
        sender="wangzhe2021@foxmail.com",
        sender_name="王喆",
        reply_to="wangzhe2021@foxmail.com",
        to=("contest2021@qq.com",),
        subject="报名表 王喆",
        date=datetime(2021, 5, 20, 9, 12, 33, tzinfo=CST),
        text="王老师：\n附件是报名表，请查收。\n王喆",
        headers=mail.headers,
        content_type="multipart/mixed",
        attachments=(
            Attachment(
                filename="镕喆中学改进案例（一）.docx",
                content_type="application/octet-stream",
                payload=DOCX_HEAD,
            ),
        ),
        links=(),
        references=(),
    )
    assert mail.headers["from"] == '"王喆" <WangZhe2021@foxmail.com>'
    assert mail.headers["to"] == '"大赛组委会" <contest2021@qq.com>'
    assert mail.headers["x-mailer"] == "Foxmail 7.2.19.158[cn]"
    # The first Received header, unfolded.
    assert mail.headers["received"].startswith("from LAPTOP-WZ2021 (unknown [171.221.128.34])\tby")


def test_raw_gbk_subject_body_and_filename() -> None:
    mail = parse_mail(RAW_GBK)
    assert mail.text == "附件是我校报告。堃玥小学"
    assert mail.attachments[0].content_type == "application/msword"
    assert mail.attachments[0].payload == DOCX_HEAD


def test_qq_web_mail() -> None:
    mail = parse_mail(QQ_WEB)
    assert mail.message_id == "tencent_4D1F3E6B0C9A8F27E51B5A3C9D2E4F6A7B08@qq.com"
    assert mail.headers["x-mailer"] == "QQMail 2.x"
    assert mail.to == ("contest2021@qq.com",)
    assert mail.headers["to"] == '"双流区教研室" <contest2021@qq.com>'
    assert mail.text == "各位老师好：\n附件是我校的参赛作品，请查收。\n镕喆中学"
    signature, document = mail.attachments
    assert signature == Attachment(
        filename="sig.png",
        content_type="image/png",
        payload=b"\x89PNG\r\n\x1a\n",
        inline=True,
    )
    assert document.inline is False
    assert document.payload == DOCX_HEAD
    assert mail.date == datetime(2021, 5, 20, 13, 31, 46, tzinfo=CST)


def test_html_body_is_used_when_there_is_no_plain_text() -> None:
    html_only = QQ_WEB.replace(b"Content-Type: text/plain;", b"Content-Type: text/x-other;")
    mail = parse_mail(html_only)
    assert mail.text == "各位老师好：\n附件是我校的参赛作品，请查收。\n镕喆中学"
    assert "text/x-other" in [attachment.content_type for attachment in mail.attachments]


def test_gmail_content_id_on_an_attachment_is_not_inline() -> None:
    mail = parse_mail(GMAIL_RAW_UTF8)
    assert mail.attachments[0].inline is False
    assert mail.text == "附件是我校的改进案例，请查收。"


def test_rfc2231_extended_filename_wins_over_plain_fallback() -> None:
    raw = THUNDERBIRD_RFC2231_UTF8.replace(
        b"Content-Disposition: attachment;",
        b'Content-Disposition: attachment; filename="____.pdf";',
    )
    assert parse_mail(raw).attachments[0].filename == "双流区堃玥小学报告.pdf"


def test_name_from_content_type_when_disposition_has_none() -> None:
    raw = THUNDERBIRD_RFC2231_GBK.replace(b" filename*", b" x-filename*")
    assert parse_mail(raw).attachments[0].filename == "双流区堃玥小学改进案例（一）.docx"


# --- auto-replies and bounces -------------------------------------------------------------------

QQ_VACATION_REPLY = crlf(
    b'From: "=?gb18030?B?6UaGtNbQ0ae9zM7xtKY=?=" <2401234567@qq.com>',
    b"To: contest2021@qq.com",
    b"Subject: =?gb18030?B?19S2r7vYuLQ6ILGow/ux7SDN9Ya0?=",
    b"Mime-Version: 1.0",
    b"Content-Type: text/html;",
    b'\tcharset="gb18030"',
    b"Content-Transfer-Encoding: base64",
    b"Date: Tue, 25 May 2021 08:00:02 +0800",
    b"Message-ID: <tencent_9F8E7D6C5B4A39281706F5E4D3C2B1A09F08@qq.com>",
    b"X-QQ-MIME: TCMime 1.0 by Tencent",
    b"X-Mailer: QQMail 2.x",
    b"X-QQ-Mailer: QQMail 2.x",
    b"",
    b"PGRpdiBzdHlsZT0iZm9udC1zaXplOjE0cHgiPtXiysfAtNfUUVHTys/ktcS82cba19S2r7vYuLTT",
    b"yrz+oaM8YnI+PGJyPsT6usOjrM7S1+69/NX91NrQ3bzZ1tCjrM7et6jH19fUu9i4tMT6tcTTyrz+",
    b"oaPO0r2r1Nq82cbaveHK+Lrzo6y+ob/suPjE+rvYuLShozwvZGl2Pg==",
)


def test_qq_vacation_auto_reply() -> None:
    mail = parse_mail(QQ_VACATION_REPLY)
    assert mail.subject == "自动回复: 报名表 王喆"
    assert mail.content_type == "text/html"
    assert mail.text.startswith("这是来自QQ邮箱的假期自动回复邮件。")
    assert mail.text == (
        "这是来自QQ邮箱的假期自动回复邮件。\n\n"
        "您好，我最近正在休假中，无法亲自回复您的邮件。我将在假期结束后，尽快给您回复。"
    )
    # QQ sends none of the standard auto-reply headers.
    assert "auto-submitted" not in mail.headers
    assert mail.attachments == ()


QQ_BOUNCE = crlf(
    b"From: PostMaster@qq.com",
    b"To: contest2021@qq.com",
    b"Subject: =?gbk?B?wLTX1HFxLmNvbbXEzcvQxQ==?=",
    b"Date: Tue, 25 May 2021 14:03:27 +0800",
    b"Message-ID: <tencent_6C5D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A09@qq.com>",
    b"Mime-Version: 1.0",
    b'Content-Type: multipart/mixed; boundary="----=_NextPart_60AC93BF_0B1A2C3D_51E4F6A7"',
    b"",
    b"------=_NextPart_60AC93BF_0B1A2C3D_51E4F6A7",
    b'Content-Type: text/html; charset="gbk"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"PGh0bWw+PGJvZHk+PGRpdj663LGnx7jE+rXE08q8/s7et6i3osvNtb0gbm9zdWNoMjAyMUBxcS5j",
    b"b208L2Rpdj48ZGl2Ps3L0MXUrdLyIMrVvP7Iy9PKz+S12Na3sru05tTaPC9kaXY+PC9ib2R5Pjwv",
    b"aHRtbD4=",
    b"",
    b"------=_NextPart_60AC93BF_0B1A2C3D_51E4F6A7",
    b'Content-Type: message/rfc822; name="mail.eml"',
    b'Content-Disposition: attachment; filename="mail.eml"',
    b"",
    b"From: contest2021@qq.com",
    b"To: nosuch2021@qq.com",
    b"Subject: =?utf-8?B?5Zue5aSN77ya5oql5ZCN6KGoIOeOi+WWhiDlt7Llj5fnkIY=?=",
    b"Message-ID: <intake.42.1621922605@contest2021.qq.com>",
    b"Auto-Submitted: auto-replied",
    b"Content-Type: text/plain; charset=utf-8",
    b"Content-Transfer-Encoding: 8bit",
    b"",
    "您的报名表已受理。".encode(),
    b"",
    b"------=_NextPart_60AC93BF_0B1A2C3D_51E4F6A7--",
)


def test_qq_bounce_with_the_original_attached() -> None:
    mail = parse_mail(QQ_BOUNCE)
    assert mail.sender == "postmaster@qq.com"
    assert mail.subject == "来自qq.com的退信"
    assert mail.text == "很抱歉您的邮件无法发送到 nosuch2021@qq.com\n退信原因 收件人邮箱地址不存在"
    (original,) = mail.attachments
    assert (original.filename, original.content_type) == ("mail.eml", "message/rfc822")
    assert original.payload.startswith(b"From: contest2021@qq.com\r\n")
    inner = parse_mail(original.payload)
    assert inner.subject == "回复：报名表 王喆 已受理"
    assert inner.message_id == "intake.42.1621922605@contest2021.qq.com"
    assert inner.headers["auto-submitted"] == "auto-replied"
    assert inner.text == "您的报名表已受理。"


def test_auto_reply_headers_and_references_are_kept() -> None:
    raw = crlf(
        b"Return-Path: <>",
        b"Received: by mx1.example.cn; Tue, 25 May 2021 14:00:00 +0800",
        b"Received: by mx0.example.cn; Tue, 25 May 2021 13:59:59 +0800",
        b"From: Mailer-Daemon <MAILER-DAEMON@example.cn>",
        b"Reply-To: Noreply <NoReply@Example.cn>",
        b"To: a@qq.com, =?gb18030?B?y6vB98f4vczR0MrS?= <B@QQ.com>",
        b"Subject: Auto-Reply: test",
        b"Auto-Submitted: auto-replied",
        b"Precedence: bulk",
        b"X-Autoreply: yes",
        b"In-Reply-To: <intake.42.1621922605@contest2021.qq.com>",
        b"References: <first@qq.com>",
        b" <intake.42.1621922605@contest2021.qq.com>",
        b"Message-ID:   <auto.1@example.cn>  ",
        b"",
        b"I am away.",
    )
    mail = parse_mail(raw)
    assert mail.headers["return-path"] == "<>"
    assert mail.headers["auto-submitted"] == "auto-replied"
    assert mail.headers["precedence"] == "bulk"
    assert mail.headers["x-autoreply"] == "yes"
    assert mail.headers["received"] == "by mx1.example.cn; Tue, 25 May 2021 14:00:00 +0800"
    assert mail.references == ("intake.42.1621922605@contest2021.qq.com", "first@qq.com")
    assert mail.message_id == "auto.1@example.cn"
    assert mail.sender == "mailer-daemon@example.cn"
    assert mail.sender_name == "Mailer-Daemon"
    assert mail.reply_to == "noreply@example.cn"
    assert mail.to == ("a@qq.com", "b@qq.com")
    assert mail.content_type == "text/plain"
    assert mail.date is None
    assert mail.text == "I am away."


# --- 超大附件 -------------------------------------------------------------------------------------

OLD_FTN_URL = (
    "http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download"
    "&k=2a6164383f9a4cc8c6f8bcf31c3a054b1f5b5c0d57550e0e1d5c510a54184a5d&code=2e2a1bc9"
)
NEW_FTN_URL = (
    "https://wx.mail.qq.com/ftn/download?func=3&key=9d99e661d02acf1eafea4861346332398"
    "&code=bffa6c29&k=9d99e661d02acf1eafea4861346332398"
)


def qq_large_file_mail(content_type: bytes, body: str) -> bytes:
    return crlf(
        b'From: "=?gb18030?B?6UaGtNbQ0ae9zM7xtKY=?=" <2401234567@qq.com>',
        b"To: contest2021@qq.com",
        b"Subject: =?gb18030?B?6UaGtNbQ0acgss7I/Nf3xrc=?=",
        b"Mime-Version: 1.0",
        b"Content-Type: " + content_type + b'; charset="gb18030"',
        b"Content-Transfer-Encoding: 8Bit",
        b"Date: Thu, 20 May 2021 22:00:00 +0800",
        b"Message-ID: <tencent_1A2B3C4D5E6F708192A3B4C5D6E7F8091A0B@qq.com>",
        b"X-Mailer: QQMail 2.x",
        b"",
        body.encode("gb18030"),
    )


def test_old_large_file_link_in_plain_text() -> None:
    body = (
        "\r\n从QQ邮箱发来的超大附件\r\n\r\n"
        f"双流区堃玥小学课堂实录.mp4 (128.03M, 2021年5月20日 21:59 到期)进入下载页面：{OLD_FTN_URL}"
    )
    mail = parse_mail(qq_large_file_mail(b"text/plain", body))
    assert mail.links == (
        LargeFileLink("双流区堃玥小学课堂实录.mp4", "128.03M", "2021年5月20日 21:59", OLD_FTN_URL),
    )
    assert mail.attachments == ()


def test_new_large_file_link_only_in_html_href() -> None:
    href = NEW_FTN_URL.replace("&", "&amp;")
    body = (
        '<div style="font-size:12px">从QQ邮箱发来的超大附件</div>'
        '<div style="padding:8px"><a href="' + href + '" target="_blank">'
        "镕喆中学 说课视频.mp4</a>&nbsp;(1.35G, 2021年6月3日 10:20 到期)</div>"
    )
    mail = parse_mail(qq_large_file_mail(b"text/html", body))
    assert mail.links == (
        LargeFileLink("镕喆中学 说课视频.mp4", "1.35G", "2021年6月3日 10:20", NEW_FTN_URL),
    )
    assert NEW_FTN_URL not in mail.text
    assert (
        mail.text
        == "从QQ邮箱发来的超大附件\n镕喆中学 说课视频.mp4 (1.35G, 2021年6月3日 10:20 到期)"
    )


# --- malformed input never raises -----------------------------------------------------------------

BAD_BASE64 = crlf(
    b"From: a@qq.com",
    b"Subject: =?utf-8?B?5oiQ6YO9*?=",
    b'Content-Type: multipart/mixed; boundary="B"',
    b"",
    b"--B",
    b"Content-Type: text/plain; charset=utf-8",
    b"Content-Transfer-Encoding: base64",
    b"",
    b"5oiQ6YO9!!5biC5Y+M",
    b"--B",
    b'Content-Type: application/octet-stream; name="a.docx"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"UEsDBBQA%%BgAIAAAAIQ",
    b"--B--",
)

UNTERMINATED_BOUNDARY = crlf(
    b"From: a@qq.com",
    b"Subject: test",
    b'Content-Type: multipart/mixed; boundary="B"',
    b"",
    b"--B",
    b"Content-Type: text/plain; charset=gbk",
    b"",
    "报名表".encode("gbk"),
    b"--B",
    b'Content-Type: application/octet-stream; name="a.docx"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"UEsDBBQABgAI",
)

NUL_BYTES = crlf(
    b"From: a\x00b <a@qq.com>",
    b"Subject: \x00=?gbk?B?sajD+7Ht?=\x00",
    b'Content-Type: text/plain; charset="gbk\x00"',
    b"",
    b"\x00\x00" + "报名表".encode("gbk") + b"\x00",
)

UNKNOWN_CHARSET = crlf(
    b"From: =?x-unknown?B?546L5ZaG?= <a@qq.com>",
    b"Subject: =?x-unknown?B?sajD+7HtIM31hrQ=?=",
    b'Content-Type: multipart/mixed; boundary="B"',
    b"",
    b"--B",
    b"Content-Type: text/plain; charset=x-unknown",
    b"Content-Transfer-Encoding: 8bit",
    b"",
    "王喆".encode("gbk"),
    b"--B",
    b"Content-Type: text/html; charset=undefined",
    b"Content-Transfer-Encoding: 8bit",
    b"",
    "<p>王喆</p>".encode("gbk"),
    b"--B",
    b'Content-Type: application/octet-stream; charset=undefined; name="a\xff.txt"',
    b"Content-Transfer-Encoding: base64",
    b"",
    b"QUJD\xff",
    b"--B--",
)

MISSING_BOUNDARY = crlf(
    b"From: a@qq.com",
    b"Content-Type: multipart/mixed",
    b"",
    b"--XYZ",
    b"Content-Type: text/plain",
    b"",
    b"hello",
    b"--XYZ--",
)


def test_bad_base64_is_decoded_as_far_as_it_goes() -> None:
    mail = parse_mail(BAD_BASE64)
    assert mail.subject == "成都"  # the stray "*" is skipped, as mail clients do
    assert mail.text.startswith("成都")
    assert mail.attachments[0].payload.startswith(b"PK\x03\x04")


def test_unterminated_boundary_keeps_the_parts_read() -> None:
    mail = parse_mail(UNTERMINATED_BOUNDARY)
    assert mail.text == "报名表"
    assert [attachment.filename for attachment in mail.attachments] == ["a.docx"]


def test_nul_bytes() -> None:
    mail = parse_mail(NUL_BYTES)
    assert "报名" in mail.subject
    assert "报名表" in mail.text
    assert mail.sender == "a@qq.com"


def test_unknown_and_unusable_charsets() -> None:
    mail = parse_mail(UNKNOWN_CHARSET)
    assert mail.subject == "报名表 王喆"
    assert mail.sender_name == "王喆"
    assert mail.text == "王喆"
    (attachment,) = mail.attachments
    assert attachment.payload == b"ABC"
    assert attachment.filename.startswith("a")


def test_missing_boundary_keeps_the_body_as_an_opaque_part() -> None:
    mail = parse_mail(MISSING_BOUNDARY)
    assert mail.content_type == "multipart/mixed"
    assert mail.text == ""
    (part,) = mail.attachments
    assert b"hello" in part.payload


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n",
        b"not a mail at all",
        b"\x00" * 64,
        bytes(range(256)) * 4,
        b"Subject: only headers",
        b"Subject no colon\r\nFrom a@b\r\n\r\nbody",
        b"From: <<<@>>>\nTo: ,,,\nDate: Mon, 99 Foo 2021 99:99:99 +9999\n\nx",
        b"Date: Thu, 20 May 2021 09:12:33 +2500\r\n\r\nx",
        b"From: " + b"(" * 5000 + b"a@b.c\r\n\r\nx",
        b"Content-Type: text/html\r\n\r\n<![if !supportLists]><!DOCTYPE x [<!x>]><p>ok",
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody",
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\n"
        b"Content-Type: message/rfc822\r\n\r\n--A--\r\n",
    ],
)
def test_garbage_does_not_raise(raw: bytes) -> None:
    assert isinstance(parse_mail(raw), ParsedMail)


def test_absurdly_deep_nesting_does_not_raise() -> None:
    depth = 3000
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(depth)
    )
    mail = parse_mail(b"From: a@qq.com\r\nSubject: deep\r\n" + head + b"\r\nx\r\n")
    assert mail.subject == "deep"
    assert mail.sender == "a@qq.com"


SAMPLES = [
    FOXMAIL_GB2312,
    RAW_GBK,
    IPHONE_SPLIT_SUBJECT,
    THUNDERBIRD_RFC2231_GBK,
    QQ_WEB,
    GMAIL_RAW_UTF8,
    QQ_BOUNCE,
    UNKNOWN_CHARSET,
]


def mutate(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        position = rng.randrange(len(data))
        action = rng.randrange(4)
        if action == 0:
            data[position] = rng.randrange(256)
        elif action == 1:
            del data[position : position + rng.randint(1, 40)]
        elif action == 2:
            data[position:position] = rng.choice(
                [b"\r\n", b"--", b"=?", b"?=", b";", b'"', b"\x00"]
            )
        else:
            data = data[:position]
        if not data:
            break
    return bytes(data)


def test_mutated_real_messages_never_raise() -> None:
    rng = random.Random(20210520)
    for _ in range(400):
        assert isinstance(parse_mail(mutate(rng.choice(SAMPLES), rng)), ParsedMail)
