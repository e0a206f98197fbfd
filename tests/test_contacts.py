"""A county's registered contact (Annex 1's QQ号) is known as the county's sender afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from databases import database_url
from deployment import CST
from mailmaker import make_docx, make_mail

from intake.app import App, build, repo_path
from intake.config import load_config
from intake.domain import RawMail
from intake.flow import handle
from intake.store.models import Message

ROSTER = "unit,group,level,district,senders\n吴江区,,district,,\n吴江区实验小学,,school,吴江区,\n"
QQ = "987654321"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")

    def local(data: dict[str, Any]) -> None:
        data["database"] = {"url": database_url(tmp_path)}
        data["storage"] = {"archive_dir": str(tmp_path / "archive")}
        data["replies"] = {"transport": "folder", "folder": str(tmp_path / "outbox")}
        data["campaigns"]["suzhou-2022"]["roster"] = str(roster)

    built = build(load_config(repo_path("config.example.toml"), local))
    yield built
    built.close()


def _handle(app: App, uid: int, when: datetime, sender: str, files) -> Message:
    [ref] = [ref for ref in app.refs if ref.campaign.id == "suzhou-2022"]
    raw = make_mail(sender, ref.account, "材料", files)
    return handle(app.intake, ref, RawMail(ref.key, "INBOX", 1, uid, when, raw))


def test_mail_from_a_registered_contacts_qq_is_the_countys(app: App):
    annex1 = f"单位,姓名,职务,手机号码,QQ号\n吴江区教育局,沈明,科长,13900001111,{QQ}\n".encode()
    contact = _handle(
        app,
        1,
        datetime(2022, 2, 10, tzinfo=CST),
        "someone@county.example",
        [("联络人.csv", annex1)],
    )
    assert (contact.decision, contact.school) == ("accepted", "吴江区")

    final = [("劳动教育课程开发.docx", make_docx("劳动教育课程开发"))]
    before = _handle(app, 2, datetime(2022, 12, 1, tzinfo=CST), "other@qq.com", final)
    after = _handle(app, 3, datetime(2022, 12, 1, tzinfo=CST), f"{QQ}@qq.com", final)
    assert before.school == "other@qq.com"  # nothing tells whose it is
    assert after.school == "吴江区"
