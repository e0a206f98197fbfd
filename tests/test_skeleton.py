"""Setting long base64 runs aside before parsing changes nothing the parser decides.

Each message is parsed twice, by the standard parser alone and through Skeleton, and the two
trees must be the same part for part: headers, text, preamble, epilogue and defects.
"""

from __future__ import annotations

import base64
import contextlib
import email
import random
from email.message import Message

import pytest
from hostile_mail import corpus, mutations, whole_messages
from hypothesis import HealthCheck, given, settings
from mailmaker import make_docx, make_mail

from intake.mail.skeleton import Skeleton

CRLF = b"\r\n"


def _shape(message: Message) -> list[object]:
    shape: list[object] = []
    stack = [message]
    while stack:
        part = stack.pop()
        payload = getattr(part, "_payload", None)
        shape.append(
            (
                list(part.raw_items()),
                payload if isinstance(payload, str) else None,
                part.preamble,
                part.epilogue,
                [type(defect).__name__ for defect in part.defects],
            )
        )
        if isinstance(payload, list):
            stack.extend(payload)
    return shape


def _same_tree(raw: bytes) -> Skeleton:
    skeleton = Skeleton(raw)
    tree = email.message_from_bytes(skeleton.data)
    skeleton.restore(tree)
    assert _shape(tree) == _shape(email.message_from_bytes(raw))
    return skeleton


def _lines(data: bytes, width: int = 76) -> bytes:
    encoded = base64.b64encode(data)
    return CRLF.join(encoded[i : i + width] for i in range(0, len(encoded), width))


def _noise(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def test_a_qq_message_with_a_large_attachment_is_parsed_from_a_few_lines() -> None:
    raw = make_mail(
        "张老师 <12345@qq.com>",
        "intake@qq.com",
        "棠湖小学报告",
        [("棠湖小学报告.docx", make_docx("报告") + _noise(300_000))],
    )
    skeleton = _same_tree(raw)
    assert len(skeleton.runs) == 1
    assert len(skeleton.data) < 2_000 < 300_000 < len(raw)


@pytest.mark.parametrize("line_end", [b"\r\n", b"\n"])
def test_runs_next_to_boundaries_preambles_epilogues_and_attached_messages(
    line_end: bytes,
) -> None:
    run = _lines(_noise(5_000))
    inner = CRLF.join(
        [
            b"Subject: inner",
            b'Content-Type: multipart/mixed; boundary="in"',
            b"",
            run,  # an inner preamble that looks like base64
            b"--in",
            b"Content-Transfer-Encoding: base64",
            b"",
            run,
            b"--in--",
            run,  # and an epilogue
        ]
    )
    raw = CRLF.join(
        [
            b"From: a@example.test",
            b'Content-Type: multipart/mixed; boundary="out"',
            b"",
            run,
            b"--out",
            b"Content-Type: application/octet-stream",
            b"Content-Transfer-Encoding: base64",
            b"",
            run,
            b"--out",
            b"Content-Type: message/rfc822",
            b"",
            inner,
            b"--out",
            b"Content-Type: text/plain",
            b"Content-Transfer-Encoding: quoted-printable",
            b"",
            CRLF.join(
                [b"=E6=88=91=E6=A0=A1=E7=9A=84=E6=8A=A5=E5=91=8A=E5=B7=B2=E5=AE=8C=E6=88=90="] * 20
            ),
            b"--out--",
            run,
        ]
    ).replace(CRLF, line_end)
    skeleton = _same_tree(raw)
    assert len(skeleton.runs) == 7  # the quoted-printable run too: its bytes come back as well


def test_a_stand_in_written_by_the_sender_is_only_text() -> None:
    run = _lines(_noise(3_000))
    first = Skeleton(CRLF.join([b"Subject: x", b"", run]))
    raw = CRLF.join([b"Subject: x", b"", first.data.split(CRLF)[-1], run])
    _same_tree(raw)


def test_every_hostile_message_parses_the_same() -> None:
    for name, raw in corpus().items():
        try:
            _same_tree(raw)
        except RecursionError:
            continue  # the standard parser alone cannot read it either
        except AssertionError:
            pytest.fail(f"{name} parses differently")


@given(whole_messages())
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_messages_parse_the_same(raw: bytes) -> None:
    _same_tree(raw)


@given(mutations(tuple(corpus().values())[:6]))
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_mutated_messages_parse_the_same(raw: bytes) -> None:
    with contextlib.suppress(RecursionError):  # the standard parser alone fails too
        _same_tree(raw)
