"""After the deadline in the configuration is corrected, `intake reprocess` shows which
decisions change and records them only with --apply, telling schools only with --notify."""

from __future__ import annotations

import email
from datetime import datetime

from deployment import CST, Deployment
from mailmaker import make_docx, make_mail


def _report(school: str) -> bytes:
    return make_mail(
        "t@school.example", "b@qq.com", f"{school}报告", [(f"{school}报告.docx", make_docx("报告"))]
    )


def _text(raw: bytes) -> str:
    message = email.message_from_bytes(raw)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


def test_a_corrected_deadline_changes_the_late_messages_only_when_applied(deployment: Deployment):
    deployment.deliver("primary", _report("双流区实验小学"), datetime(2021, 5, 20, 9, tzinfo=CST))
    deployment.deliver("primary", _report("双流区棠湖小学"), datetime(2021, 5, 22, 9, tzinfo=CST))
    deployment.poll()
    on_time, late = deployment.ledger()
    assert (on_time["decision"], late["reasons"]) == ("accepted", ["late"])
    assert len(deployment.smtp.wait_for_messages(2)) == 2

    # The organizer extends the deadline by two days.
    text = deployment.config.read_text(encoding="utf-8")
    deployment.config.write_text(
        text.replace("deadline = 2021-05-21", "deadline = 2021-05-23"), encoding="utf-8"
    )

    printed = deployment.intake("reprocess", "--campaign", "sl")
    assert printed.splitlines() == [
        f"#{late['id']} {late['receipt']}: rejected → accepted  原因 late → -  提示 - → -",
        "1 封邮件的判定会改变；加 --apply 记录",
    ]
    assert [row["decision"] for row in deployment.ledger()] == ["accepted", "rejected"]

    printed = deployment.intake("reprocess", "--campaign", "sl", "--apply", "--notify")
    assert printed.splitlines()[-1] == "已记录 1 封，通知学校 1 封"
    rows = deployment.ledger()
    assert [(row["decision"], row["reasons"]) for row in rows] == [
        ("accepted", []),
        ("accepted", []),
    ]
    assert deployment.sql("select school, version, current from entries order by id") == [
        ("双流区实验小学", 1, 1),
        ("双流区棠湖小学", 1, 1),
    ]
    assert deployment.sql("select kind, old_decision, new_decision, notified from actions") == [
        ("reprocess", "rejected", "accepted", 1)
    ]
    [correction] = [m for m in deployment.smtp.wait_for_messages(3) if "更正" in _text(m.raw)]
    assert late["receipt"] in _text(correction.raw) and "现予受理" in _text(correction.raw)

    # Judged again with nothing changed: nothing to do.
    assert deployment.intake("reprocess", "--campaign", "sl").strip() == "没有变化"
