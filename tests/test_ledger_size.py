"""What a message costs in the ledger: a Word file's facts are kept as a summary in UTF-8,
replies compressed, and what was stored before in the longer forms still reads the same."""

from __future__ import annotations

import io
import json
import sys
import types
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from databases import database_url
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from intake.documents.docx_facts import read_docx_facts
from intake.documents.inspect import Inspection
from intake.store.db import make_engine, upgrade
from intake.store.explain import explain
from intake.store.message_files import _facts_of
from intake.store.models import Message, OutboxReply, StoredAttachment

PARAGRAPH = (
    "本校依据区域教育质量综合评价报告，对学生学业水平、身心健康、学业负担等指标进行了逐项解读，"
    "组织教研组围绕薄弱环节开展课堂教学改进，形成了“诊断—改进—再评价”的闭环。"
)
FORMAT_LINE = (
    "     格式：字体 黑体/宋体; 字号 18/12; 页边距（上/下/左/右）2.5/2.5/2.5/2.5 厘米; 正文 "
)


def _report() -> bytes:
    """A typical report: a title in 黑体, an author line, thirty paragraphs of body text."""
    document = Document()
    for section in document.sections:
        section.top_margin = section.bottom_margin = Cm(2.5)
        section.left_margin = section.right_margin = Cm(2.5)
    lines = [("双流区实验小学报告", 18.0, "黑体"), ("双流区实验小学  张老师", 12.0, "宋体")]
    for words, size, font in lines + [(PARAGRAPH, 12.0, "宋体")] * 30:
        run = document.add_paragraph().add_run(words)
        run.font.size = Pt(size)
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def inspection() -> Inspection:
    return Inspection(docx=read_docx_facts(_report(), "报告.docx"))


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(database_url(tmp_path, "ledger"))
    upgrade(engine)
    return engine


def _message(session: Session, number: int) -> Message:
    message = Message(
        sha256=f"{number:064x}",
        message_id=f"m{number}@school.example",
        campaign="sl",
        group="primary",
        mailbox="sl/primary",
        received_at=datetime(2021, 5, 20, 1, 0, tzinfo=UTC),
        raw_path="raw.eml",
        size=1,
        sender="t@school.example",
        decision="accepted",
    )
    session.add(message)
    session.flush()
    return message


def _file(message: Message, facts: dict[str, object]) -> StoredAttachment:
    return StoredAttachment(
        message=message,
        position=0,
        filename="双流区实验小学报告.docx",
        stored_path="files/报告.docx",
        sha256="0" * 64,
        size=1,
        content_type="application/octet-stream",
        facts=facts,
    )


def test_a_reports_facts_are_a_summary_without_its_text(inspection: Inspection) -> None:
    stored = _facts_of(inspection)
    docx = stored["docx"]
    assert [(s["role"], s["paragraphs"]) for s in docx["styles"]] == [
        ("title", 1),
        ("author", 1),
        ("body", 30),
    ]
    assert docx["styles"][2]["excerpt"] == PARAGRAPH[:20]
    assert docx["paragraph_count"] == 32
    assert docx["body_chars"] > 2_000
    written = json.dumps(stored, ensure_ascii=False)
    assert PARAGRAPH not in written
    # Every paragraph with its text, as stored before, was about 20 KB.
    assert len(written.encode()) < 1_000
    # Empty and false values are not kept.
    assert set(stored) == {"docx"}


def test_json_is_stored_as_utf8_and_explained_in_both_forms(
    engine: Engine, inspection: Inspection
) -> None:
    earlier = asdict(inspection)  # as ledgers written before this summary hold it
    with Session(engine) as session, session.begin():
        old = _message(session, 1)
        new = _message(session, 2)
        session.add_all([_file(old, earlier), _file(new, _facts_of(inspection))])
    with engine.connect() as connection:
        old_text, new_text = connection.execute(
            # as stored: PostgreSQL's driver would give a JSON column back decoded
            text("select cast(facts as text) from attachments order by id")
        ).scalars()
    assert "\\u" not in new_text and "宋体" in new_text
    assert len(new_text.encode()) * 10 < len(old_text.encode())
    shown = []
    with Session(engine) as session:
        for pk in (1, 2):
            message = session.get(Message, pk)
            assert message is not None
            lines = explain(session, message).splitlines()
            shown += [line for line in lines if line.startswith("     格式：")]
    assert len(shown) == 2 and shown[0] == shown[1]
    assert shown[0].startswith(FORMAT_LINE)


def test_a_reply_is_stored_compressed_and_an_older_plain_one_still_reads(engine: Engine) -> None:
    reply = ("您好！已收到贵单位的材料，现已受理。" * 20).encode()
    with Session(engine) as session, session.begin():
        message = _message(session, 1)
        for number in (1, 2):
            session.add(
                OutboxReply(
                    message_pk=message.id,
                    campaign="sl",
                    account="a@qq.com",
                    recipient="t@school.example",
                    reply_message_id=f"r{number}@intake",
                    subject="【已受理】",
                    raw=reply,
                    state="pending",
                )
            )
    with engine.begin() as connection:
        stored = connection.execute(text("select raw from outbox where id = 1")).scalar_one()
        assert len(stored) < len(reply) / 3
        connection.execute(text("update outbox set raw = :raw where id = 2"), {"raw": reply})
    with Session(engine) as session:
        assert [row.raw for row in session.query(OutboxReply).order_by(OutboxReply.id)] == [
            reply,
            reply,
        ]


def test_postgresql_urls_get_the_same_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The serializer is a dialect option PostgreSQL takes too (its driver stubbed here: the
    engine connects only when first used)."""
    driver = types.ModuleType("psycopg2")
    driver.paramstyle = "pyformat"  # type: ignore[attr-defined]
    driver.__version__ = "2.9.9 (dt dec pq3 ext lo64)"  # type: ignore[attr-defined]
    for name in ("psycopg2", "psycopg2.extensions", "psycopg2.extras"):
        monkeypatch.setitem(sys.modules, name, driver)
    engine = make_engine("postgresql+psycopg2://intake@db.example/intake")
    serialize: Callable[[object], str] = vars(engine.dialect)["_json_serializer"]
    assert serialize({"字体": ["宋体"]}) == '{"字体":["宋体"]}'
