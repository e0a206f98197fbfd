"""Size limits: a message over `sizes.max_message_mb` is never downloaded (only its header),
a file over `sizes.max_attachment_mb` is never opened; both are refused with a reply that
says what to do, and both are recorded: nothing is lost."""

from __future__ import annotations

import email
import imaplib
import os
from pathlib import Path

import pytest
from deployment import ON_TIME, Deployment
from mailmaker import make_docx, make_mail

SCHOOL = "双流区实验小学"
SIZES = "\n[sizes]\nmax_message_mb = 2\nmax_attachment_mb = 1\n"


def _limited(deployment: Deployment) -> Deployment:
    with deployment.config.open("a", encoding="utf-8") as config:
        config.write(SIZES)
    return deployment


def _mail(filename: str, payload: bytes, tag: str) -> bytes:
    return make_mail(
        "张老师 <t@school.example>",
        "bot@qq.com",
        f"{SCHOOL}报告",
        [(filename, payload)],
        message_id=f"<{tag}@school.example>",
        date=ON_TIME,
    )


def _reply_text(raw: bytes) -> str:
    message = email.message_from_bytes(raw)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


def test_a_message_over_the_limit_is_refused_from_its_header_alone(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
):
    from intake.app import build
    from intake.config import load_config

    _limited(deployment)
    huge = _mail(f"{SCHOOL}报告.mp4", os.urandom(2_500_000), "huge")  # ~3.4 MB encoded
    deployment.deliver("primary", huge)
    fetched: list[str] = []
    real = imaplib.IMAP4._command

    def record(self, name, *args):
        if name == "UID" and args[0] == "FETCH":
            fetched.append(str(args[2:]))
        return real(self, name, *args)

    monkeypatch.setattr(imaplib.IMAP4, "_command", record)
    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    app = build(load_config(deployment.config))
    try:
        app.poll()
        app.send_replies()
    finally:
        app.close()

    assert any("BODY.PEEK[HEADER]" in f for f in fetched)
    assert not any("BODY.PEEK[]" in f for f in fetched)  # the body never crossed the wire
    [row] = deployment.ledger()
    assert row["decision"] == "rejected" and row["reasons"] == ["message_too_large"]
    [(size, raw_path)] = deployment.sql("select size, raw_path from messages")
    assert size > 2 * 1024 * 1024 and Path(raw_path).stat().st_size < 10_000
    [reply] = deployment.smtp.wait_for_messages(1)
    text = _reply_text(reply.raw)
    assert "超过了本平台可接收的 2 MB" in text and "超大附件" in text

    deployment.poll()  # fetched again by nobody: the cursor passed it
    assert len(deployment.ledger()) == 1 and len(deployment.smtp.messages) == 1


def test_a_file_over_the_attachment_limit_is_refused_unopened(deployment: Deployment):
    _limited(deployment)
    big = make_docx("报告") + b"\0" * 1_200_000  # a .docx of 1.2 MB: never opened
    raw = make_mail(
        "张老师 <t@school.example>",
        "bot@qq.com",
        f"{SCHOOL}报告",
        [(f"{SCHOOL}报告.docx", big), (f"{SCHOOL}改进案例.docx", make_docx("案例"))],
    )
    deployment.deliver("primary", raw)
    deployment.poll()

    [row] = deployment.ledger()
    assert row["decision"] == "accepted"  # the case is kept, the oversized report is not
    assert "attachment_too_large" in row["reasons"]
    facts = deployment.sql("select filename, outcome from attachments order by id")
    assert (f"{SCHOOL}报告.docx", "rejected") in facts
    [reply] = deployment.smtp.wait_for_messages(1)
    assert f"附件“{SCHOOL}报告.docx”约 1.2 MB，超过了单个附件 1 MB 的上限" in _reply_text(reply.raw)


def test_a_replayed_file_over_the_limit_is_refused_too(deployment: Deployment, tmp_path: Path):
    _limited(deployment)
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "1.eml").write_bytes(_mail(f"{SCHOOL}报告.mp4", os.urandom(2_500_000), "file"))
    deployment.intake("replay", str(folder), "--mailbox", "sl/primary")

    [row] = deployment.ledger()
    assert row["decision"] == "rejected" and row["reasons"] == ["message_too_large"]
