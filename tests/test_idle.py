"""`intake run` waits in IMAP IDLE: a message appended to INBOX is answered within seconds,
long before the next timed poll; with IDLE turned off it waits for that poll."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from deployment import Deployment
from mailmaker import make_docx, make_mail


def _report(school: str) -> bytes:
    return make_mail(
        "t@school.example", "b@qq.com", f"{school}报告", [(f"{school}报告.docx", make_docx("报告"))]
    )


def _run(deployment: Deployment, idle: bool) -> subprocess.Popen[str]:
    text = deployment.config.read_text(encoding="utf-8")
    polling = f"[polling]\ninterval_minutes = 10\nidle = {str(idle).lower()}\n"
    deployment.config.write_text(polling + text, encoding="utf-8")
    deployment.intake("db", "upgrade")
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "run"]
    process = subprocess.Popen(command, env=deployment.env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    try:
        while len(deployment.sql("select * from mailbox_status")) < 2:  # the first poll is done
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    time.sleep(1)  # the IDLE sessions are open
    return process


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, log = process.communicate(timeout=60)
    assert process.returncode == 0, log
    return log


def test_idle_answers_a_new_message_within_seconds(deployment: Deployment):
    process = _run(deployment, idle=True)
    try:
        latencies = []
        for school in ("双流区实验小学", "双流区棠湖小学", "双流区棠湖中学"):
            group = "junior" if school.endswith("中学") else "primary"
            started = time.monotonic()
            deployment.deliver(group, _report(school))
            replies = deployment.smtp.wait_for_messages(len(latencies) + 1, timeout=30)
            assert len(replies) == len(latencies) + 1
            latencies.append(time.monotonic() - started)
    finally:
        log = _stop(process)
    assert max(latencies) < 10, latencies  # the next timed poll is 10 minutes away
    assert "new mail announced" in log
    assert len(deployment.ledger()) == 3


def test_without_idle_a_new_message_waits_for_the_next_poll(deployment: Deployment):
    process = _run(deployment, idle=False)
    try:
        deployment.deliver("primary", _report("双流区实验小学"))
        assert deployment.smtp.wait_for_messages(1, timeout=12) == []
    finally:
        _stop(process)
