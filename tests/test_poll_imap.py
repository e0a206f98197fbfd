"""End to end against a real Dovecot and a real SMTP server: APPEND, `intake poll --once`,
then read the ledger and the replies the SMTP server received."""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from deployment import CST, ON_TIME, Deployment, deploy
from mailmaker import make_docx, make_mail
from servers import Dovecot, SmtpServer

SCHOOL = "双流区实验小学"
TEACHER = "teacher@school.example"
REPORT = [(f"{SCHOOL}报告.docx", make_docx(f"{SCHOOL}教育质量综合评价结果解读和改进活动报告"))]


def _mail(subject: str, files=REPORT, sender: str = TEACHER, **kwargs) -> bytes:
    return make_mail(f"张老师 <{sender}>", "bot@qq.com", subject, files, **kwargs)


def _body(raw: bytes) -> str:
    message = email.message_from_bytes(raw)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


def _subject(raw: bytes) -> str:
    return str(make_header(decode_header(email.message_from_bytes(raw)["Subject"])))


def test_an_on_time_report_is_accepted_recorded_and_acknowledged(deployment: Deployment):
    raw = _mail(f"{SCHOOL}报告", message_id="<report-1@school.example>")
    uid = deployment.deliver("primary", raw)
    deployment.poll()

    [row] = deployment.ledger()
    assert row["decision"] == "accepted" and row["reasons"] == []
    assert (row["school"], row["kind"], row["group"]) == (SCHOOL, "report", "primary")
    assert (row["folder"], row["uid"], row["sender"]) == ("INBOX", uid, TEACHER)
    assert row["received_at"] == "2021-05-20T02:00:00+00:00"
    [reply] = deployment.smtp.wait_for_messages(1)
    account = deployment.accounts["primary"]
    assert reply.mail_from == account and reply.rcpt_tos == (TEACHER,)
    headers = email.message_from_bytes(reply.raw)
    assert account in headers["From"] and headers["Auto-Submitted"] == "auto-replied"
    assert headers["In-Reply-To"] == "<report-1@school.example>"
    assert "<report-1@school.example>" in headers["References"]
    body = _body(reply.raw)
    assert row["receipt"] in body and SCHOOL in body and f"{SCHOOL}报告.docx" in body
    assert "已受理" in _subject(reply.raw)
    # Fetching read-only left the message unread for the organizer.
    with deployment.dovecot.session(account) as imap:
        imap.select_folder("INBOX", readonly=True)
        assert rb"\Seen" not in imap.get_flags([uid])[uid]


def test_the_deadline_is_judged_on_the_server_receive_time(deployment: Deployment):
    last_minute = datetime(2021, 5, 21, 23, 59, tzinfo=CST)
    just_late = datetime(2021, 5, 22, 0, 0, 30, tzinfo=CST)
    early_clock = datetime(2021, 5, 20, 8, 0, tzinfo=CST)  # the sender's Date: lies
    deployment.deliver("primary", _mail(f"{SCHOOL}报告"), last_minute)
    deployment.deliver(
        "junior",
        _mail("棠湖中学报告", files=[("棠湖中学报告.docx", make_docx("报告"))], date=early_clock),
        just_late,
    )
    deployment.poll()

    on_time, late = deployment.ledger()
    assert on_time["decision"] == "accepted"
    assert (late["decision"], late["reasons"], late["group"]) == ("rejected", ["late"], "junior")
    replies = {r.mail_from: r for r in deployment.smtp.wait_for_messages(2)}
    late_reply = _body(replies[deployment.accounts["junior"]].raw)
    assert "2021年5月21日" in late_reply and "过期不再接收" in late_reply


def test_a_later_report_supersedes_the_earlier_as_a_new_version(deployment: Deployment):
    deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
    second = [(f"{SCHOOL}报告（修改版）.docx", make_docx("报告 修改版"))]
    deployment.deliver(
        "primary", _mail(f"{SCHOOL}报告 修改", files=second), ON_TIME + timedelta(hours=3)
    )
    deployment.poll()

    first, latest = deployment.ledger()
    assert first["decision"] == latest["decision"] == "accepted"
    entries = deployment.sql("select version, current, filename from entries order by version")
    assert entries == [(1, 0, f"{SCHOOL}报告.docx"), (2, 1, f"{SCHOOL}报告（修改版）.docx")]
    reply = _body(deployment.smtp.wait_for_messages(2)[1].raw)
    assert "第 2 版" in reply and f"{SCHOOL}报告.docx" in reply


def test_a_third_distinct_case_is_rejected_naming_the_two_held(deployment: Deployment):
    for number, hour in (("（一）", 1), ("2", 2), ("3", 3)):
        name = f"{SCHOOL}改进案例{number}.docx"
        deployment.deliver(
            "primary",
            _mail(name, files=[(name, make_docx("案例"))]),
            ON_TIME + timedelta(hours=hour),
        )
    deployment.poll()

    decisions = [(r["decision"], r["reasons"]) for r in deployment.ledger()]
    assert decisions == [("accepted", []), ("accepted", []), ("rejected", ["over_limit"])]
    body = _body(deployment.smtp.wait_for_messages(3)[2].raw)
    assert f"{SCHOOL}改进案例（一）.docx" in body and f"{SCHOOL}改进案例2.docx" in body
    assert "不超过 2 篇" in body


def test_missing_and_misnamed_files_are_rejected_with_the_naming_rule(deployment: Deployment):
    deployment.deliver("primary", _mail("材料", files=[]))
    misnamed = [("新建 Microsoft Word 文档.docx", make_docx("报告"))]
    deployment.deliver("primary", _mail("材料", files=misnamed))
    deployment.poll()

    missing, bad = deployment.ledger()
    assert (missing["decision"], missing["reasons"]) == ("rejected", ["missing_attachment"])
    assert (bad["decision"], bad["reasons"]) == ("rejected", ["bad_name"])
    for reply in deployment.smtp.wait_for_messages(2):
        body = _body(reply.raw)
        assert "“XX学校报告”" in body and "“XX学校改进案例”" in body


def test_robots_and_thank_you_notes_are_recorded_but_never_answered(deployment: Deployment):
    account = deployment.accounts["primary"]
    vacation = _mail(
        "自动回复: 材料", files=[], body="", html="<p>这是来自QQ邮箱的假期自动回复邮件。</p>"
    )
    bounce = make_mail(
        "PostMaster@qq.com", account, "来自qq.com的退信", [], body="无法发送到 x@qq.com"
    )
    own = make_mail(account, account, "【已受理】", [], body="回执")
    thanks = _mail(
        "回复：【已受理】",
        files=[],
        body="来信已收到，谢谢！",
        headers={"In-Reply-To": "<SL21-00001.ab12.intake@example.test>"},
    )
    for raw in (vacation, bounce, own, thanks):
        deployment.deliver("primary", raw)
    deployment.poll()

    rows = deployment.ledger()
    assert [(r["decision"], r["reasons"]) for r in rows] == [
        ("ignored", ["auto_reply"]),
        ("ignored", ["bounce"]),
        ("ignored", ["own_mail"]),
        ("ignored", ["acknowledgement"]),
    ]
    assert deployment.smtp.messages == []


def test_junk_is_polled_too(deployment: Deployment):
    deployment.deliver(
        "junior",
        _mail("棠湖中学报告", files=[("棠湖中学报告.docx", make_docx("x"))]),
        folder="Junk",
    )
    deployment.poll()
    [row] = deployment.ledger()
    assert (row["folder"], row["decision"], row["group"]) == ("Junk", "accepted", "junior")


def test_polling_again_or_after_a_crash_before_the_cursor_moved_adds_nothing(
    deployment: Deployment,
):
    deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
    deployment.poll()
    deployment.poll()
    # The state a crash leaves between a message's commit and its cursor update: the message
    # is recorded, the cursor is not.
    deployment.sql("delete from cursors")
    deployment.poll()

    assert len(deployment.ledger()) == 1
    assert deployment.sql("select count(*) from locations") == [(1,)]
    assert len(deployment.smtp.wait_for_messages(1)) == 1
    assert deployment.sql("select count(*) from outbox") == [(1,)]


def test_one_email_in_both_group_mailboxes_is_one_message(deployment: Deployment):
    raw = _mail(f"{SCHOOL}报告")
    deployment.deliver("primary", raw)
    deployment.deliver("junior", raw)
    deployment.poll()

    [row] = deployment.ledger()
    assert len(row["seen_in"]) == 2
    assert len(deployment.smtp.wait_for_messages(1)) == 1


def test_a_uidvalidity_change_rescans_without_duplicates(deployment: Deployment):
    account = deployment.accounts["primary"]
    raw = _mail(f"{SCHOOL}报告")
    deployment.deliver("primary", raw)
    deployment.poll()
    # The server puts the same message back under a new UIDVALIDITY and a new UID.
    deployment.dovecot.change_uidvalidity(account, "INBOX")
    new = _mail("棠湖小学报告", files=[("棠湖小学报告.docx", make_docx("x"))])
    deployment.deliver("primary", new)
    deployment.poll()

    rows = deployment.ledger()
    assert [r["school"] for r in rows] == [SCHOOL, "棠湖小学"]
    assert len(rows[0]["seen_in"]) == 2
    assert len(deployment.smtp.wait_for_messages(2)) == 2


def test_replies_per_sender_per_day_are_capped(
    dovecot: Dovecot, smtp_server: SmtpServer, tmp_path: Path
):
    deployment = deploy(dovecot, smtp_server, tmp_path, budget=2)
    for hour in range(3):
        deployment.deliver("primary", _mail("材料", files=[]), ON_TIME + timedelta(hours=hour))
    deployment.poll()

    assert len(deployment.ledger()) == 3
    assert deployment.sql("select state from outbox order by id") == [
        ("sent",),
        ("sent",),
        ("held",),
    ]
    assert len(smtp_server.messages) == 2


def test_throttling_is_retried_later_and_sent_once(deployment: Deployment):
    deployment.smtp.fail_next(1, code=550, text="Connection frequency limited", stage="MAIL")
    deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
    deployment.poll()
    assert deployment.sql("select state, attempts from outbox") == [("pending", 1)]
    assert deployment.smtp.messages == []

    deployment.sql("update outbox set next_attempt_at = '2000-01-01 00:00:00'")  # time passes
    deployment.poll()
    deployment.poll()
    assert deployment.sql("select state, attempts from outbox") == [("sent", 2)]
    assert len(deployment.smtp.messages) == 1


def test_a_reply_is_never_sent_twice_when_the_process_dies_after_the_server_took_it(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
):
    from intake.app import build
    from intake.config import load_config
    from intake.mail.smtp import SmtpTransport

    deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
    deployment.intake("db", "upgrade")
    real_send = SmtpTransport.send

    def send_then_die(self, *args):
        real_send(self, *args)
        raise SystemExit("killed right after the server accepted the reply")

    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    app = build(load_config(deployment.config))
    app.poll()
    SmtpTransport.send = send_then_die  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            app.send_replies()
    finally:
        SmtpTransport.send = real_send  # type: ignore[method-assign]
        app.close()
    deployment.poll()  # a new process finds the reply in `sending`

    assert len(deployment.smtp.messages) == 1
    assert deployment.sql("select state from outbox") == [("unknown",)]


def test_a_connection_dropped_after_the_text_was_sent_is_never_resent(deployment: Deployment):
    deployment.smtp.drop_after_data_next(1)
    deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
    deployment.poll()
    deployment.sql("update outbox set next_attempt_at = '2000-01-01 00:00:00'")
    deployment.poll()

    assert deployment.sql("select state from outbox") == [("unknown",)]
    assert len(deployment.smtp.messages) == 1  # the server has it once; nobody sends it again


def test_a_permanent_refusal_fails_the_reply_without_retrying(deployment: Deployment):
    deployment.smtp.fail_next(1, code=550, text="Mailbox not found", stage="RCPT")
    deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
    deployment.deliver(
        "primary", _mail("棠湖小学报告", files=[("棠湖小学报告.docx", make_docx("x"))])
    )
    deployment.poll()

    assert deployment.sql("select state from outbox order by id") == [("failed",), ("sent",)]
    assert len(deployment.smtp.messages) == 1


def test_a_refusal_after_the_text_is_not_taken_for_a_delivery(deployment: Deployment):
    filter_text = "The mail may contain inappropriate words or content."
    deployment.smtp.fail_next(1, code=550, text=filter_text, stage="DATA")
    deployment.smtp.fail_next(1, code=451, text="Try again later", stage="DATA")
    deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
    deployment.deliver(
        "primary", _mail("棠湖小学报告", files=[("棠湖小学报告.docx", make_docx("x"))])
    )
    deployment.poll()

    rows = deployment.sql("select state, last_error from outbox order by id")
    assert rows[0][0] == "failed" and filter_text in rows[0][1]
    assert rows[1][0] == "pending"  # 4xx: retried later
    assert deployment.smtp.messages == []


def test_a_reply_to_smtp_cannot_write_is_answered_at_the_from_address(deployment: Deployment):
    odd = _mail(f"{SCHOOL}报告", headers={"Reply-To": "王老师 <王@学校.cn>"})
    deployment.deliver("primary", odd)
    deployment.poll()

    [row] = deployment.ledger()
    assert row["decision"] == "accepted"
    [reply] = deployment.smtp.wait_for_messages(1)
    assert reply.rcpt_tos == (TEACHER,)


def test_a_session_the_server_dropped_is_reopened_and_nothing_is_missed(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
):
    from intake.app import build
    from intake.config import load_config

    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    app = build(load_config(deployment.config))
    try:
        app.poll()  # sessions open and stay open between polls
        deployment.dovecot.doveadm("kick", deployment.accounts["primary"])
        deployment.deliver("primary", _mail(f"{SCHOOL}报告"))
        first = app.poll()
        second = app.poll()
    finally:
        app.close()
    assert first.errors and not second.errors
    assert [row["decision"] for row in deployment.ledger()] == ["accepted"]
