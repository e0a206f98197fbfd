"""`intake run` polls on its schedule and stops cleanly on SIGTERM; a message whose handling
raises is quarantined and the poll goes on; the authorization code never reaches the log."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deployment import Deployment
from mailmaker import make_docx, make_mail

from intake import flow, prepare
from intake.app import build
from intake.config import load_config

SCHOOL = "双流区实验小学"


def _report(school: str = SCHOOL) -> bytes:
    return make_mail(
        "t@school.example", "b@qq.com", f"{school}报告", [(f"{school}报告.docx", make_docx("报告"))]
    )


def test_run_answers_on_schedule_and_stops_on_sigterm(deployment: Deployment):
    text = deployment.config.read_text(encoding="utf-8")
    deployment.config.write_text("[polling]\ninterval_minutes = 0.05\n" + text, encoding="utf-8")
    deployment.deliver("primary", _report())
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "-v", "run"]
    process = subprocess.Popen(command, env=deployment.env, stderr=subprocess.PIPE, text=True)
    try:
        deployment.smtp.wait_for_messages(1, timeout=60)
        deployment.deliver("primary", _report("双流区棠湖小学"))  # found by a later poll
        deployment.smtp.wait_for_messages(2, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=60)
    assert process.returncode == 0, log
    assert "stopped" in log
    assert deployment.dovecot.password not in log
    assert [row["decision"] for row in deployment.ledger()] == ["accepted", "accepted"]


def test_a_message_that_fails_is_quarantined_and_the_poll_goes_on(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
):
    failing = _report("出错小学")
    deployment.deliver("primary", failing)
    deployment.deliver("primary", _report())
    real = flow.evaluate

    def fail_on_one(facts):
        if "出错小学" in facts.mail.subject:
            raise RuntimeError("a rule broke on this message")
        return real(facts)

    monkeypatch.setattr(flow, "evaluate", fail_on_one)
    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    app = build(load_config(deployment.config))
    try:
        app.poll()
        app.send_replies()
    finally:
        app.close()

    broken, fine = deployment.ledger()
    assert (broken["decision"], broken["reasons"]) == ("quarantined", ["processing_error"])
    assert "a rule broke on this message" in broken["error"]
    assert fine["decision"] == "accepted"
    [(raw_path,)] = deployment.sql("select raw_path from messages where decision = 'quarantined'")
    assert Path(raw_path).read_bytes().replace(b"\r\n", b"\n") == failing.replace(b"\r\n", b"\n")
    assert deployment.sql("select last_uid from cursors where folder = 'INBOX'") == [(2,)]
    assert len(deployment.smtp.wait_for_messages(1)) == 1  # only the good one is answered


def test_a_wrong_authorization_code_is_reported_without_the_code(deployment: Deployment):
    deployment.deliver("junior", _report("双流区棠湖中学"))
    env = {**deployment.env, "TEST_CODE_primary": "wrongcode-secret-xyz"}
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "poll", "--once"]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert [row["group"] for row in deployment.ledger()] == ["junior"]  # still polled
    assert "授权码" in done.stderr and "primary" in done.stderr
    assert "wrongcode-secret-xyz" not in done.stderr + done.stdout
    assert time.monotonic() - started < 60
    # Each mailbox's outcome is kept for the organizers' digest, without the code.
    status = dict(deployment.sql("select mailbox, last_error from mailbox_status"))
    assert status["sl/junior"] == "" and status["sl/primary"]
    assert "wrongcode-secret-xyz" not in status["sl/primary"]
    [(success,)] = deployment.sql(
        "select last_success_at from mailbox_status where mailbox = 'sl/primary'"
    )
    assert success is None


def test_a_quarantined_message_is_retried_once_fixed_and_keeps_its_receipt(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
):
    deployment.deliver("primary", _report("出错小学"))
    deployment.deliver("primary", _report())
    real = prepare.parse_mail

    def parser_breaks_on_one(raw: bytes):
        if "出错小学".encode() in raw or b"5Ye66ZSZ5bCP5a2m" in raw:
            raise ValueError("the parser broke on this message")
        return real(raw)

    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(prepare, "parse_mail", parser_breaks_on_one)
    app = build(load_config(deployment.config))
    try:
        app.poll()
        app.send_replies()
    finally:
        app.close()
    broken, fine = deployment.ledger()
    assert (broken["decision"], fine["decision"]) == ("quarantined", "accepted")
    listed = json.loads(deployment.intake("quarantine", "list", "--json"))
    assert [(row["id"], row["error"]) for row in listed] == [
        (broken["id"], "ValueError: the parser broke on this message")
    ]

    monkeypatch.setattr(prepare, "parse_mail", real)  # the parser is fixed
    printed = deployment.intake("quarantine", "retry", "--all")
    assert f"#{broken['id']} {broken['receipt']} → accepted" in printed
    retried, _ = deployment.ledger()
    assert (retried["id"], retried["receipt"], retried["decision"], retried["error"]) == (
        broken["id"],
        broken["receipt"],
        "accepted",
        "",
    )
    assert json.loads(deployment.intake("quarantine", "list", "--json")) == []
    assert deployment.sql("select kind, old_decision, new_decision from actions") == [
        ("retry", "quarantined", "accepted")
    ]
    assert len(deployment.smtp.wait_for_messages(2)) == 2  # the school is answered now
