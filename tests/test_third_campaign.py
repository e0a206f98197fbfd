"""A third competition is a configuration file: stages, a registration table with its own
columns, a file-name kind and a per-school limit, none of them known to the code."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from databases import database_url
from deployment import CST
from mailmaker import make_docx, make_mail

from intake.app import App, build
from intake.config import load_config
from intake.domain import RawMail
from intake.flow import handle
from intake.store.views import ledger_rows, registrations

CONFIG = """
[database]
url = "{database}"
[storage]
archive_dir = "{tmp}/archive"
[replies]
transport = "folder"
folder = "{tmp}/outbox"

[campaigns.qingyang-2024]
name = "青羊区2024年度优秀作业设计征集"
organizer = "青羊区教育科学研究所"
receipt_prefix = "QY24"

[campaigns.qingyang-2024.stages.signup]
label = "报名"
deadline = 2024-03-01
[campaigns.qingyang-2024.stages.works]
label = "作品提交"
deadline = 2024-06-30

[campaigns.qingyang-2024.groups.all]
label = "全区"
[campaigns.qingyang-2024.groups.all.mailbox]
account = "qingyang@qq.com"
auth_env = "QINGYANG_CODE"

[campaigns.qingyang-2024.kinds.signup]
label = "报名表"
stage = "signup"
keywords = ["报名表"]
records = "case"
when_full = "supersede"
[[campaigns.qingyang-2024.kinds.signup.columns]]
name = "学校"
required = true
role = "unit"
[[campaigns.qingyang-2024.kinds.signup.columns]]
name = "作业名称"
required = true
role = "title"
[[campaigns.qingyang-2024.kinds.signup.columns]]
name = "学科"
required = true
allowed = ["语文", "数学"]
[[campaigns.qingyang-2024.kinds.signup.columns]]
name = "电话"
format = "phone"

[campaigns.qingyang-2024.kinds.works]
label = "作业设计"
stage = "works"
name_pattern = "{{school}}作业设计"
max_per_school = 2
registered_in = "signup"

[[campaigns.qingyang-2024.limits]]
kind = "signup"
per = "unit"
max = 2
min = 1
"""
SCHOOL = "青羊实验小学"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    config = tmp_path / "third.toml"
    config.write_text(
        CONFIG.format(tmp=tmp_path, database=database_url(tmp_path, "third")), encoding="utf-8"
    )
    built = build(load_config(config))
    yield built
    built.close()


def _deliver(app: App, uid: int, when: datetime, subject: str, files) -> str:
    raw = make_mail("teacher@school.example", "qingyang@qq.com", subject, files)
    [ref] = app.refs
    message = handle(app.intake, ref, RawMail(ref.key, "INBOX", 1, uid, when, raw))
    return message.id


def _csv(rows: list[list[str]]) -> bytes:
    """What Chinese Excel saves as CSV: GB18030."""
    return "\r\n".join(",".join(row) for row in rows).encode("gb18030")


def test_a_config_written_for_the_test_runs_a_whole_competition(app: App, tmp_path: Path):
    signup = _csv(
        [
            ["学校", "作业名称", "学科", "电话"],
            [SCHOOL, "分层阅读作业", "语文", "028-86123456"],
            [SCHOOL, "数学实践作业", "数学", "13912345678"],
            [SCHOOL, "英语配音作业", "数学", "13912345678"],
            [SCHOOL, "科学观察日记", "科学", "13912345678"],
        ]
    )
    when = datetime(2024, 2, 20, 9, 0, tzinfo=CST)
    _deliver(app, 1, when, "报名", [(f"{SCHOOL}报名表.csv", signup)])
    late = datetime(2024, 3, 2, 9, 0, tzinfo=CST)
    _deliver(app, 2, late, "报名", [("补报名表.csv", signup)])
    work = make_docx("分层阅读作业")
    june = datetime(2024, 6, 1, 9, 0, tzinfo=CST)
    _deliver(app, 3, june, "作品", [(f"{SCHOOL}作业设计（分层阅读作业）.docx", work)])
    app.send_replies()

    rows = ledger_rows(app.intake.factory)
    assert [(r["stage"], r["decision"]) for r in rows] == [
        ("signup", "accepted"),
        ("signup", "rejected"),
        ("works", "accepted"),
    ]
    assert set(rows[0]["warnings"]) == {"bad_row", "over_limit_rows"}
    assert rows[1]["reasons"] == ["late"]
    report = registrations(app.intake.factory, app.campaigns[0])
    assert [c["title"] for c in report["cases"]] == ["分层阅读作业", "数学实践作业"]
    assert report["shortfalls"] == []

    replies = sorted((tmp_path / "outbox").glob("*.eml"))
    bodies = [_text(path) for path in replies]
    assert len(bodies) == 3
    assert any("第 5 行“学科”填写为“科学”" in body for body in bodies)
    assert any("第 4 行（英语配音作业）未登记" in body and "不超过 2 个" in body for body in bodies)
    assert any("“报名”阶段，该阶段已于 2024年3月1日 截止" in body for body in bodies)
    assert any("对应已申报案例“分层阅读作业”" in body for body in bodies)


def _text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes())
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")
