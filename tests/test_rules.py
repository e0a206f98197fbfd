"""The rules and the chain on parsed messages, without servers: one behaviour per test."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from intake.campaigns.campaign import load_campaigns
from intake.campaigns.classify import classify
from intake.config import load_config
from intake.domain import Attachment, Decision, ParsedMail
from intake.rules.base import HeldFile, MessageFacts
from intake.rules.chain import evaluate

CAMPAIGN = load_campaigns(load_config(Path(__file__).parents[1] / "config.example.toml"))[0]
CST = timezone(timedelta(hours=8))
ON_TIME = datetime(2021, 5, 20, 9, tzinfo=CST)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def mail(subject="材料", files=(), text="请查收", sender="t@school.example", **extra) -> ParsedMail:
    attachments = tuple(Attachment(name, DOCX if "." in name else "x/y", b"x") for name in files)
    defaults = dict(
        message_id="m@x",
        sender=sender,
        sender_name="",
        reply_to=sender,
        to=(),
        subject=subject,
        date=None,
        text=text,
        headers={},
        content_type="multipart/mixed",
    )
    defaults.update(extra)
    return ParsedMail(attachments=attachments, **defaults)


def judge(parsed: ParsedMail, when=ON_TIME, holdings=None, same_id=None):
    facts = MessageFacts(
        parsed,
        when,
        CAMPAIGN,
        "primary",
        tuple(classify(parsed, CAMPAIGN, "primary")),
        frozenset({"1036303270@qq.com"}),
        same_id,
        holdings or {},
    )
    return evaluate(facts)


def test_report_and_case_in_one_message_are_both_accepted():
    verdict = judge(mail(files=["甲小学报告.docx", "甲小学改进案例1.docx", "照片.jpg"]))
    assert verdict.decision is Decision.ACCEPTED
    assert [(p.kind, p.slot, p.version) for p in verdict.placements] == [
        ("report", "1", 1),
        ("case", "1", 1),
    ]
    assert verdict.outcomes == {0: "accepted", 1: "accepted", 2: "supporting"}


def test_the_subject_names_a_file_that_does_not_and_a_warning_says_so():
    verdict = judge(mail(subject="甲小学报告", files=["新建 Microsoft Word 文档.docx"]))
    assert verdict.decision is Decision.ACCEPTED and verdict.warnings == ["name_from_subject"]


def test_the_subject_does_not_speak_for_several_files():
    verdict = judge(mail(subject="甲小学报告", files=["文档1.docx", "文档2.docx"]))
    assert (verdict.decision, verdict.reasons) == (Decision.REJECTED, ["bad_name"])


def test_only_pictures_is_a_missing_attachment():
    verdict = judge(mail(subject="甲小学报告", files=["照片.jpg"]))
    assert verdict.reasons == ["missing_attachment"]


def test_a_case_number_seen_before_is_a_new_version_not_a_third_case():
    held = {
        "甲小学": (
            HeldFile("case", "1", 1, "甲小学改进案例1.docx", ON_TIME),
            HeldFile("case", "2", 1, "甲小学改进案例2.docx", ON_TIME),
        )
    }
    again = judge(mail(files=["甲小学改进案例（一）.docx"]), holdings=held)
    assert again.decision is Decision.ACCEPTED and again.placements[0].version == 2
    third = judge(mail(files=["甲小学改进案例3.docx"]), holdings=held)
    assert third.reasons == ["over_limit"]
    [finding] = [f for f in third.findings if f.code == "over_limit"]
    assert finding.params["held"] == ["甲小学改进案例1.docx", "甲小学改进案例2.docx"]


def test_the_same_entry_twice_in_one_message_counts_once():
    verdict = judge(mail(files=["甲小学报告.docx", "甲小学报告.pdf"]))
    assert len(verdict.placements) == 1 and verdict.warnings == ["same_file_twice"]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"headers": {"auto-submitted": "auto-replied"}}, "auto_reply"),
        ({"headers": {"precedence": "bulk"}}, "auto_reply"),
        ({"headers": {"return-path": "<>"}}, "auto_reply"),
        ({"subject": "自動回覆：材料"}, "auto_reply"),
        ({"subject": "Auto-Reply: x"}, "auto_reply"),
        ({"sender": "10000@qq.com"}, "auto_reply"),
        ({"content_type": "multipart/report"}, "bounce"),
        (
            {
                "sender": "mailer-daemon@example.com",
                "subject": "Undelivered Mail Returned to Sender",
            },
            "bounce",
        ),
        ({"sender": "1036303270@qq.com"}, "own_mail"),
    ],
)
def test_robots_are_ignored_even_when_they_carry_a_named_file(extra, reason):
    verdict = judge(mail(**{"files": ["甲小学报告.docx"], **extra}))
    assert (verdict.decision, verdict.reasons) == (Decision.IGNORED, [reason])


def test_auto_submitted_no_is_a_person():
    verdict = judge(mail(files=["甲小学报告.docx"], headers={"auto-submitted": "no"}))
    assert verdict.decision is Decision.ACCEPTED


def test_a_thank_you_answering_us_is_ignored_but_a_corrected_file_answering_us_is_judged():
    ref = ("SL21-00001.ab12.intake@qq.com",)
    thanks = judge(
        mail(subject="回复：【已受理】", text="收到，谢谢！\n\n原始邮件\n已受理", references=ref)
    )
    assert thanks.reasons == ["acknowledgement"]
    corrected = judge(mail(subject="回复：【未受理】", files=["甲小学报告.docx"], references=ref))
    assert corrected.decision is Decision.ACCEPTED


def test_a_long_reply_that_only_mentions_receipt_is_not_an_acknowledgement():
    text = "老师您好，" + "我校的材料还在修改中，请问截止时间能否延后？" * 5 + "收到请回复。"
    verdict = judge(mail(subject="Re: 通知", text=text, references=("x@y",)))
    assert verdict.reasons == ["missing_attachment"]


def test_the_same_message_id_with_other_bytes_is_a_duplicate():
    verdict = judge(mail(files=["甲小学报告.docx"]), same_id=7)
    assert (verdict.decision, verdict.reasons) == (Decision.IGNORED, ["duplicate"])


def test_late_ends_the_chain_before_file_rules():
    verdict = judge(mail(files=["新建文档.docx"]), when=datetime(2021, 5, 22, 0, 0, 1, tzinfo=CST))
    assert verdict.reasons == ["late"]
