"""`intake explain`: the story of an accepted, a late and a quarantined message, read back from
a ledger the flow really wrote, in Chinese and in English."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from databases import database_url
from deployment import CST
from mailmaker import make_docx, make_mail

from intake import flow
from intake.app import App, build, repo_path
from intake.config import load_config
from intake.domain import RawMail
from intake.store.explain import explain, find_message
from intake.store.models import Message

SCHOOL = "双流区实验小学"
ON_TIME = datetime(2021, 5, 20, 9, 0, tzinfo=CST)
LATE = datetime(2021, 5, 22, 9, 30, tzinfo=CST)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    def local(data: dict[str, Any]) -> None:
        data["database"] = {"url": database_url(tmp_path)}
        data["storage"] = {"archive_dir": str(tmp_path / "archive")}
        data["replies"] = {"transport": "folder", "folder": str(tmp_path / "outbox")}

    real = flow.evaluate

    def fail_on_one(facts: Any) -> Any:
        if "出错小学" in facts.mail.subject:
            raise RuntimeError("a rule broke on this message")
        return real(facts)

    monkeypatch.setattr(flow, "evaluate", fail_on_one)
    built = build(load_config(repo_path("config.example.toml"), local))
    yield built
    built.close()


def _send(
    app: App, subject: str, files: list[tuple[str, bytes]], uid: int, at: datetime
) -> tuple[int, str]:
    ref = app.refs[0]
    message_id = f"<explain-{uid}@school.example>"
    raw = make_mail("t@school.example", ref.account, subject, files, message_id=message_id)
    message = flow.handle(app.intake, ref, RawMail(ref.key, "INBOX", 7, uid, at, raw))
    app.send_replies()
    return message.id, message_id


def _story(app: App, key: str, lang: str = "zh") -> list[str]:
    with app.intake.factory() as session:
        message = find_message(session, key)
        assert message is not None
        return explain(session, message, lang).splitlines()  # type: ignore[arg-type]


def _outbox(app: App) -> Path:
    return Path(app.intake.replies.folder)


def test_an_accepted_report_with_a_format_warning(app: App):
    report = make_docx("报告", margin_cm=3.0)
    pk, _ = _send(app, f"{SCHOOL}材料", [(f"{SCHOOL}报告.docx", report)], 1, ON_TIME)
    zh = _story(app, str(pk))
    [eml] = _outbox(app).glob("SL21-*.eml")
    assert zh[:2] == [f"消息 #{pk}", f"回执号：SL21-{pk:05d}"]
    assert "活动：shuangliu-2021 · 组别：primary · 阶段：submission" in zh
    assert "收到时间：2021年5月20日 09:00（Asia/Shanghai）" in zh
    assert "  shuangliu-2021/primary 文件夹 INBOX UID 1" in zh
    assert f"  1. {SCHOOL}报告.docx" in zh
    assert f"     归类：report · {SCHOOL} · 第 1 篇；结果：已受理（accepted）" in zh
    assert (
        "     格式：字体 宋体; 字号 18/12; 页边距（上/下/左/右）3/3/3/3 厘米; 正文 21 字; 署名 —"
        in zh
    )
    assert (
        "  1. [format] 警告（warn） bad_margins（页边距不符合要求） — 附件 1; check=margins; "
        "section=1; sections=1; required=2.5; found=上 3.0, 下 3.0, 左 3.0, 右 3.0"
    ) in zh
    assert f"  report 第 1 篇 第 1 版（当前）{SCHOOL}报告.docx" in zh
    assert "决定：已受理（accepted）" in zh
    assert "  警告：bad_margins（页边距不符合要求）" in zh
    assert f"     服务器应答：written to {eml}" in zh
    assert any(
        line.startswith("     收件人 t@school.example；状态：已发送（sent）；尝试 1 次")
        for line in zh
    )

    en = _story(app, f"sl21-{pk:05d}", "en")
    assert en[:2] == [f"Message #{pk}", f"Receipt: SL21-{pk:05d}"]
    assert "Received: 2021-05-20 09:00 (Asia/Shanghai)" in en
    assert f"     classified: report · {SCHOOL} · slot 1; outcome: accepted" in en
    assert "  1. [format] warn bad_margins (wrong page margins) — file 1; check=margins; " in (
        "\n".join(en)
    )
    assert "Decision: accepted" in en
    assert "  warnings: bad_margins (wrong page margins)" in en
    assert f"     server answer: written to {eml}" in en
    assert any(line.startswith("     to t@school.example; state: sent; attempts: 1") for line in en)


def test_a_late_case_is_rejected_and_says_why(app: App):
    case = make_docx("案例")
    pk, message_id = _send(app, f"{SCHOOL}案例", [(f"{SCHOOL}改进案例1.docx", case)], 2, LATE)
    zh = _story(app, message_id)
    assert _story(app, message_id.strip("<>")) == zh
    assert zh[1] == f"回执号：SL21-{pk:05d}"
    assert f"Message-ID：{message_id}" in zh
    assert "收到时间：2021年5月22日 09:30（Asia/Shanghai）" in zh
    assert f"     归类：case · {SCHOOL} · 第 1 篇；结果：未受理（rejected）" in zh
    assert (
        "  1. [deadline] 拒收（reject） late（逾期提交） — stage=submission; "
        "stage_label=材料报送; deadline=2021-05-21; closes_at=2021-05-22T00:00:00+08:00; "
        "received_at=2021-05-22T09:30:00+08:00"
    ) in zh
    assert zh[zh.index("条目：") + 1] == "  （无）"
    assert "决定：未受理（rejected）" in zh
    assert "  原因：late（逾期提交）" in zh
    [eml] = _outbox(app).glob("SL21-*.eml")
    assert f"     服务器应答：written to {eml}" in zh

    en = _story(app, str(pk), "en")
    assert "  1. [deadline] reject late (received after the deadline) — stage=submission; " in (
        "\n".join(en)
    )
    assert en[en.index("Entries:") + 1] == "  (none)"
    assert "Decision: rejected" in en
    assert "  reasons: late (received after the deadline)" in en


def test_a_quarantined_message_shows_its_error_and_how_to_retry(app: App):
    report = make_docx("报告")
    pk, _ = _send(app, "出错小学材料", [("出错小学报告.docx", report)], 3, ON_TIME)
    zh = _story(app, str(pk))
    assert "决定：已隔离（quarantined）" in zh
    assert "  原因：processing_error（处理出错，已隔离）" in zh
    assert zh[zh.index("回复：") + 1] == "  （无）"
    assert zh[-2:] == [
        "错误：RuntimeError: a rule broke on this message",
        f"可用 intake quarantine retry {pk} 重新处理",
    ]
    en = _story(app, str(pk), "en")
    assert en[-2:] == [
        "Error: RuntimeError: a rule broke on this message",
        f"retry with: intake quarantine retry {pk}",
    ]


def test_find_message_by_id_receipt_and_message_id(app: App):
    report = make_docx("报告")
    pk, message_id = _send(app, f"{SCHOOL}材料", [(f"{SCHOOL}报告.docx", report)], 4, ON_TIME)
    with app.intake.factory() as session:
        found = [
            find_message(session, key)
            for key in (str(pk), f"SL21-{pk:05d}", f"sl21-{pk:05d}", message_id, message_id[1:-1])
        ]
        assert {m.id for m in found if isinstance(m, Message)} == {pk}
        assert None not in found
        assert find_message(session, "999") is None
        assert find_message(session, "SL21-99999") is None
        assert find_message(session, "<nobody@school.example>") is None
