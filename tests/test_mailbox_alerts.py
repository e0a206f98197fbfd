"""A mailbox whose login is refused: organizers are told once (not every poll), through
another account; the mailbox is then tried less and less often; once it works again its
mail is read with nothing lost, and a later failure is told anew."""

from __future__ import annotations

import email
import subprocess
import sys
from email.header import decode_header, make_header

from deployment import Deployment
from mailmaker import make_docx, make_mail

ORGANIZER = "boss@edu.example"
WRONG = "wrongcode-abcdefgh"


def _report(school: str) -> bytes:
    return make_mail(
        "t@school.example", "b@qq.com", f"{school}报告", [(f"{school}报告.docx", make_docx("报告"))]
    )


def _poll(deployment: Deployment, code: str) -> subprocess.CompletedProcess[str]:
    env = {**deployment.env, "TEST_CODE_junior": code}
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "poll", "--once"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def _alerts(deployment: Deployment) -> list[email.message.Message]:
    found = [email.message_from_bytes(m.raw) for m in deployment.smtp.messages]
    return [m for m in found if ORGANIZER in str(m["To"]) and "alert" in str(m["Message-ID"])]


def _status(deployment: Deployment) -> tuple:
    [row] = deployment.sql(
        "select failures, login_failed, alerted_at is not null from mailbox_status"
        " where mailbox = 'sl/junior'"
    )
    return row


def test_a_refused_login_is_told_once_then_tried_less_often(deployment: Deployment):
    with deployment.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[campaigns.sl.digest]\nrecipients = ["{ORGANIZER}"]\n')
    deployment.deliver("junior", _report("双流区棠湖中学"))
    logins = deployment.dovecot.log_size()

    first = _poll(deployment, WRONG)
    assert first.returncode == 1
    [alert] = _alerts(deployment)
    assert alert["From"].endswith(f"<{deployment.accounts['primary']}>")  # the working account
    assert alert["Auto-Submitted"] == "auto-generated"
    subject = str(make_header(decode_header(alert["Subject"])))
    assert deployment.accounts["junior"] in subject and "无法登录" in subject
    body = alert.get_payload(decode=True).decode("utf-8")
    assert "授权码" in body and "不会丢失" in body and WRONG not in body
    assert _status(deployment) == (1, 1, 1)

    _poll(deployment, WRONG)  # fails again: not told again
    assert len(_alerts(deployment)) == 1 and _status(deployment) == (2, 1, 1)
    tried = deployment.dovecot.log_since(logins).count(deployment.accounts["junior"])
    third = _poll(deployment, WRONG)  # within the wait: not even tried
    assert "后再试" in third.stderr
    assert deployment.dovecot.log_since(logins).count(deployment.accounts["junior"]) == tried
    assert _status(deployment) == (2, 1, 1) and deployment.ledger() == []

    deployment.sql("update mailbox_status set last_error_at = '2000-01-01 00:00:00'")
    assert _poll(deployment, deployment.dovecot.password).returncode == 0
    assert [row["school"] for row in deployment.ledger()] == ["双流区棠湖中学"]  # nothing lost
    assert _status(deployment) == (0, 0, 0)

    _poll(deployment, WRONG)  # a new failure is a new alert
    assert len(_alerts(deployment)) == 2


def test_without_recipients_the_refused_login_is_logged_once_as_an_error(
    deployment: Deployment,
):
    first = _poll(deployment, WRONG)
    assert "no digest recipient is configured" in first.stderr
    deployment.sql("update mailbox_status set last_error_at = '2000-01-01 00:00:00'")
    second = _poll(deployment, WRONG)
    assert "登录失败" in second.stderr  # still reported by the poll itself
    assert "no digest recipient is configured" not in second.stderr
    assert _alerts(deployment) == []
