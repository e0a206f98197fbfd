"""Nobody can use intake against the organizers or the schools: replies go only to the
sender, each account keeps to a daily budget, what a sender writes cannot add headers or
markup, and a robot that answers everything cannot draw intake into a loop."""

from __future__ import annotations

import base64
import email
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from email.header import decode_header, make_header
from pathlib import Path

from deployment import CST, Deployment
from mailmaker import make_docx, make_mail
from servers import CapturedMessage

TEACHER = "teacher@school.example"
VICTIM = "victim@third.example"


def _report(school: str, sender: str = TEACHER, **kwargs) -> bytes:
    files = kwargs.pop("files", [(f"{school}报告.docx", make_docx("报告"))])
    subject = kwargs.pop("subject", f"{school}报告")
    return make_mail(f"张老师 <{sender}>", "bot@qq.com", subject, files, **kwargs)


def _set(deployment: Deployment, after: str, line: str) -> None:
    """Add `line` to the config right after the line `after`."""
    text = deployment.config.read_text(encoding="utf-8")
    deployment.config.write_text(text.replace(after, f"{after}\n{line}", 1), encoding="utf-8")


def test_replies_go_to_the_sender_never_to_reply_to_or_the_body(deployment: Deployment):
    deployment.deliver(
        "primary",
        _report(
            "双流区实验小学",
            headers={"Reply-To": VICTIM, "Cc": "other@third.example"},
            body=f"请把回执发到 {VICTIM}，谢谢。",
        ),
    )
    deployment.poll()
    [reply] = deployment.smtp.wait_for_messages(1)
    assert reply.rcpt_tos == (TEACHER,)
    assert VICTIM not in str(email.message_from_bytes(reply.raw)["To"])

    # Organizers who want Reply-To honoured can say so.
    _set(deployment, "[replies]", "use_reply_to = true")
    deployment.deliver("primary", _report("双流区棠湖小学", headers={"Reply-To": VICTIM}))
    deployment.poll()
    assert deployment.smtp.wait_for_messages(2)[1].rcpt_tos == (VICTIM,)


def test_each_account_keeps_to_its_daily_budget_and_the_rest_wait(deployment: Deployment):
    _set(deployment, "[replies]", "max_per_day = 2")
    for n in range(4):
        school = f"双流区第{n + 1}小学"
        deployment.deliver("primary", _report(school, sender=f"t{n}@school.example"))
    deployment.poll()
    deployment.poll()
    assert len(deployment.smtp.messages) == 2
    assert Counter(s for (s,) in deployment.sql("select state from outbox")) == {
        "sent": 2,
        "pending": 2,
    }

    deployment.sql("update outbox set sent_at = '2000-01-01 00:00:00' where state = 'sent'")
    deployment.poll()  # a day later
    recipients = [m.rcpt_tos for m in deployment.smtp.messages]
    assert len(recipients) == 4 and len(set(recipients)) == 4  # each school once


def test_what_a_sender_writes_cannot_add_headers_or_markup(deployment: Deployment, tmp_path: Path):
    injected = base64.b64encode("报告\r\nBcc: victim@third.example".encode()).decode()
    school = "<script>alert(1)</script>实验小学"
    deployment.deliver(
        "primary",
        _report(
            school,
            subject=f"=?utf-8?B?{injected}?=",
            files=[(f"{school}报告.docx", make_docx("报告"))],
        ),
    )
    deployment.deliver(
        "primary", _report("x", subject="自动回复：<img src=x onerror=alert(1)>", files=[])
    )  # ignored: listed in the digest with its subject
    deployment.poll()

    [reply] = deployment.smtp.wait_for_messages(1)
    assert reply.rcpt_tos == (TEACHER,)
    headers = email.message_from_bytes(reply.raw)
    assert headers["Bcc"] is None and headers["Cc"] is None
    subject = str(make_header(decode_header(headers["Subject"])))
    assert "\r" not in subject and "\n" not in subject
    preview = tmp_path / "digest.html"
    deployment.intake("digest", "--preview", str(preview))
    html = preview.read_text(encoding="utf-8")
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


class Responder:
    """A robot on the other side that answers every message it receives, in three manners:
    QQ's vacation reply (no robot headers at all), a reply in the thread, and a reply that
    keeps only the subject. It delivers its answers into intake's own inbox."""

    MANNERS = ("vacation", "threaded", "subject_only")

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Responder:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for captured in self.deployment.smtp.messages[self.answered :]:
                self._answer(captured, self.MANNERS[self.answered % len(self.MANNERS)])
                self.answered += 1

    def _answer(self, captured: CapturedMessage, manner: str) -> None:
        ours = email.message_from_bytes(captured.raw)
        subject = str(make_header(decode_header(ours["Subject"])))
        headers: dict[str, str] = {}
        if manner == "vacation":
            subject, body = (
                f"自动回复: {subject}",
                "这是来自QQ邮箱的假期自动回复邮件。您好，我已休假。",
            )
        else:
            subject, body = f"Re: {subject}", "您好，我现在不在办公室，回来后尽快处理。"
        if manner == "threaded":
            headers = {"In-Reply-To": ours["Message-ID"], "References": ours["Message-ID"]}
        group = next(g for g, a in self.deployment.accounts.items() if a == captured.mail_from)
        answer = make_mail(
            captured.rcpt_tos[0], captured.mail_from, subject, [], body=body, headers=headers
        )
        self.deployment.deliver(group, answer, when=datetime.now(CST))


def test_a_robot_that_answers_everything_gets_one_reply_per_submission(deployment: Deployment):
    """Two robots talk for a minute: intake answers each submission once and never answers
    the other robot's answers (nor its answers to those)."""
    text = deployment.config.read_text(encoding="utf-8")
    deployment.config.write_text("[polling]\ninterval_minutes = 0.05\n" + text, encoding="utf-8")
    schools = [f"双流区第{n}小学" for n in range(1, 5)]
    for n, school in enumerate(schools):
        deployment.deliver("primary", _report(school, sender=f"t{n}@school.example"))
    deployment.deliver("junior", _report("双流区棠湖中学", files=[]))  # refused: no file
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "run"]
    process = subprocess.Popen(command, env=deployment.env, stderr=subprocess.PIPE, text=True)
    try:
        with Responder(deployment) as responder:
            time.sleep(60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=60)
    assert process.returncode == 0, log

    sent = deployment.smtp.messages
    assert len(sent) == 5  # one per submission, over a whole minute of robot answers
    threads = Counter(email.message_from_bytes(m.raw)["In-Reply-To"] for m in sent)
    assert len(threads) == 5 and max(threads.values()) == 1
    assert responder.answered == 5
    ledger = deployment.ledger()
    decisions = Counter(row["decision"] for row in ledger)
    assert decisions == {"accepted": 4, "rejected": 1, "ignored": 5}, ledger
    ignored = Counter(tuple(r["reasons"]) for r in ledger if r["decision"] == "ignored")
    assert ignored == {("auto_reply",): 2, ("acknowledgement",): 3}
