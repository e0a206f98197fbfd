"""Through the real IMAP server, the encodings Chinese clients really send come out as the exact
school names and file names (no roster: the names come from decoding alone)."""

import json

import pytest
from deployment import Deployment

from intake.demo import SAMPLES
from intake.mail.sources import receive_time

EXPECTED = {
    case["file"]: case for case in json.loads((SAMPLES / "expected.json").read_text("utf-8"))
}
CASES = {
    "primary/001-report-qq-webmail.eml": "QQ web mail: gb18030 encoded-words, quoted name=",
    "primary/006-case3-over-limit.eml": "gb2312-labelled encoded-words carrying GBK 堃 玥",
    "junior/010-report-raw-gbk-subject-filename.eml": "raw 8-bit GBK subject and filename (喆)",
    "primary/012-report-split-subject.eml": "subject split mid-character over two encoded-words",
    "junior/005-case2-rfc2231-gbk-continuation.eml": "RFC 2231 gbk'' continuation",
    "primary/005-case2-rfc2231-utf8-filename.eml": "RFC 2231 utf-8'' filename",
}


@pytest.mark.parametrize("sample", sorted(CASES))
def test_names_are_decoded_exactly(deployment: Deployment, sample: str):
    raw = (SAMPLES / "inbox" / sample).read_bytes()
    deployment.deliver(sample.split("/")[0], raw, receive_time(raw))
    deployment.poll()

    [row] = deployment.ledger()
    expected = EXPECTED[sample]
    assert row["school"] == expected["school"], CASES[sample]
    stored = deployment.sql("select filename from attachments where position = 0")
    assert stored == [(expected["attachment"],)], CASES[sample]


def test_a_gb2312_label_on_a_name_outside_gb2312_is_read_as_gb18030(deployment: Deployment):
    # 喆 is not in GB2312: a strict gb2312 decoder loses the subject ("报名表 王喆" → "_h_").
    subject = (
        "=?gb2312?B?" + __import__("base64").b64encode("报名表 王喆".encode("gbk")).decode() + "?="
    )
    raw = (
        "From: a@school.example\r\nTo: b@qq.com\r\nSubject: " + subject + "\r\n"
        "Message-ID: <gb2312-label@school.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + "王喆老师：附件见后。\r\n".encode("gbk")
    deployment.deliver("primary", raw)
    deployment.poll()
    [row] = deployment.ledger()
    assert row["subject"] == "报名表 王喆"
