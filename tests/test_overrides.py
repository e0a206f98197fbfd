"""An organizer overrides the rules: recorded with who and why, the files counted or no longer
counted, the school told only when asked, and `intake explain` tells the whole story."""

from __future__ import annotations

import email
import getpass

from deployment import Deployment
from mailmaker import make_docx, make_mail

SCHOOL = "双流区实验小学"


def _mail(filename: str, body: str = "正文。") -> bytes:
    return make_mail("t@school.example", "b@qq.com", SCHOOL, [(filename, make_docx("材料", body))])


def _text(raw: bytes) -> str:
    message = email.message_from_bytes(raw)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


def test_an_organizer_accepts_a_rejected_file_and_rejects_an_accepted_one(deployment: Deployment):
    deployment.deliver("primary", _mail(f"{SCHOOL}报告.docx"))  # version 1
    deployment.deliver("primary", _mail(f"{SCHOOL}报告.docx", "第二版。"))  # version 2
    deployment.deliver("primary", _mail("材料.docx"))  # no name: rejected
    deployment.poll()
    first, second, unnamed = deployment.ledger()
    assert unnamed["decision"] == "rejected"
    assert len(deployment.smtp.wait_for_messages(3)) == 3

    # The second version is withdrawn: the first counts again. The school is not told.
    deployment.intake("decide", second["receipt"], "--reject", "--reason", "重复提交")
    assert deployment.sql(
        "select version, current from entries where kind = 'report' order by version"
    ) == [(1, 1), (2, 0)]
    assert len(deployment.smtp.wait_for_messages(4, timeout=1)) == 3

    # The unnamed file stays without an entry (nothing says which kind it is), but the
    # decision is the organizer's, and the school is told.
    printed = deployment.intake(
        "decide", str(unnamed["id"]), "--accept", "--reason", "已电话核实", "--notify"
    )
    assert "accepted" in printed
    [correction] = [m for m in deployment.smtp.wait_for_messages(4) if "更正" in _text(m.raw)]
    body = _text(correction.raw)
    assert "现予受理" in body and "已电话核实" in body and unnamed["receipt"] in body

    rows = {row["id"]: row for row in deployment.ledger()}
    assert rows[second["id"]]["decision"] == "rejected"
    assert rows[unnamed["id"]]["decision"] == "accepted"
    actions = deployment.sql(
        "select message_pk, kind, by, reason, old_decision, new_decision, notified from actions order by id"
    )
    user = getpass.getuser()
    assert actions == [
        (second["id"], "override", user, "重复提交", "accepted", "rejected", 0),
        (unnamed["id"], "override", user, "已电话核实", "rejected", "accepted", 1),
    ]

    story = deployment.intake("explain", second["receipt"])
    assert (
        f"{user} 人工改判（override）：已受理（accepted） → 未受理（rejected）；原因：重复提交"
        in story
    )
    english = deployment.intake("explain", str(unnamed["id"]), "--lang", "en")
    assert (
        f"{user} override: rejected → accepted; reason: 已电话核实 (the school was told)" in english
    )
    assert first["decision"] == "accepted"

    digest = deployment.intake("digest", "--campaign", "sl")
    assert "【人工处理与重新判定】" in digest
    assert (
        f"{second['receipt']} 双流区实验小学：已受理 → 未受理（人工改判，{user}：重复提交" in digest
    )


def test_rejected_then_accepted_again_counts_again_and_kept_back_replies_never_go(
    deployment: Deployment,
):
    deployment.deliver("primary", _mail(f"{SCHOOL}报告.docx"))
    deployment.intake("replay", "sl/primary")  # recorded; its reply kept back
    [row] = deployment.ledger()
    deployment.intake("decide", row["receipt"], "--reject", "--reason", "核对中")
    assert deployment.sql("select current from entries") == [(0,)]
    deployment.intake("decide", row["receipt"], "--accept", "--reason", "核对无误")
    assert deployment.sql("select version, current from entries order by id") == [(1, 0), (2, 1)]
    # The reply written for the first decision is never sent, not even when asked for.
    deployment.intake("replay", "sl/primary", "--send-replies")
    assert deployment.smtp.wait_for_messages(1, timeout=1) == []
    assert deployment.sql("select state from outbox") == [("superseded",)]
