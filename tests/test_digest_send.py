"""The daily digest goes through the real SMTP server, once a day whatever restarts, and the
organizers' mail client gets a text and an HTML version."""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from email.header import decode_header, make_header

from deployment import CST, Deployment
from mailmaker import make_docx, make_mail

from intake.app import build
from intake.config import load_config

ORGANIZER = "organizer@county.example"


class _At:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def _with_digest(deployment: Deployment) -> None:
    text = deployment.config.read_text(encoding="utf-8")
    text += f'\n[campaigns.sl.digest]\nrecipients = ["{ORGANIZER}"]\ntime = "07:30"\n'
    deployment.config.write_text(text, encoding="utf-8")


def test_intake_digest_send_mails_text_and_html_to_the_organizers(deployment: Deployment):
    deployment.deliver(
        "primary",
        make_mail(
            "t@school.example",
            "b@qq.com",
            "双流区实验小学报告",
            [("双流区实验小学报告.docx", make_docx("报告"))],
        ),
    )
    deployment.poll()
    deployment.smtp.wait_for_messages(1)  # the school's acknowledgement
    _with_digest(deployment)  # after the poll, which would otherwise send the day's digest
    printed = deployment.intake("digest", "--campaign", "sl", "--send")
    assert "双流区实验小学" in printed and ORGANIZER in printed

    digest = next(m for m in deployment.smtp.wait_for_messages(2) if ORGANIZER in m.rcpt_tos)
    assert digest.mail_from == deployment.accounts["primary"]
    parsed = email.message_from_bytes(digest.raw)
    subject = str(make_header(decode_header(parsed["Subject"])))
    assert (
        subject.startswith("【每日汇总】双流区第四届")
        and parsed["Auto-Submitted"] == "auto-generated"
    )
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode("utf-8")
        for p in parsed.walk()
        if not p.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert "双流区实验小学" in parts["text/plain"] and "双流区实验小学" in parts["text/html"]
    assert "<script" not in parts["text/html"]
    assert "http://" not in parts["text/html"] and "https://" not in parts["text/html"]


def test_a_digest_is_sent_once_a_day_even_across_restarts(deployment: Deployment, monkeypatch):
    _with_digest(deployment)
    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    before = datetime(2021, 5, 20, 7, 0, tzinfo=CST)
    for moment, expected in (
        (before, []),  # not yet 07:30
        (before + timedelta(minutes=45), ["sl"]),
        (before + timedelta(hours=3), []),  # later the same day: already sent
    ):
        app = build(load_config(deployment.config), clock=_At(moment))  # a fresh start each time
        try:
            assert app.send_due_digests() == expected
        finally:
            app.close()
    next_day = build(load_config(deployment.config), clock=_At(before + timedelta(days=1, hours=1)))
    try:
        assert next_day.send_due_digests() == ["sl"]
    finally:
        next_day.close()
    sent = [m for m in deployment.smtp.wait_for_messages(2) if ORGANIZER in m.rcpt_tos]
    assert len(sent) == 2
    assert deployment.sql("select day, state from digests order by day") == [
        ("2021-05-20", "sent"),
        ("2021-05-21", "sent"),
    ]
