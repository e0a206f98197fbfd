"""`intake replay` loads a whole inbox, from the IMAP server or from an export of it, into the
same ledger, adds nothing the second time, and sends no reply nobody asked for."""

from __future__ import annotations

import json
import mailbox
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from databases import database_url
from deployment import CST, Deployment
from mailmaker import make_docx, make_mail

START = datetime(2021, 5, 20, 9, 0, tzinfo=CST)
COMPARED = (
    "receipt",
    "decision",
    "reasons",
    "warnings",
    "school",
    "kind",
    "stage",
    "received_at",
    "sender",
    "subject",
)


def _inbox() -> list[tuple[bytes, datetime]]:
    """Five messages as the server received them, each with its Received: line."""
    letters = [
        ("双流区实验小学报告", [("双流区实验小学报告.docx", make_docx("报告"))]),
        ("双流区棠湖小学改进案例", [("双流区棠湖小学改进案例1.docx", make_docx("改进案例"))]),
        ("材料", [("材料.docx", make_docx("材料"))]),
        ("自动回复: 休假中", []),
        ("双流区东升小学报告", [("双流区东升小学报告.docx", make_docx("报告"))]),
    ]
    inbox = []
    for number, (subject, files) in enumerate(letters):
        # One an hour; the last arrives after the deadline.
        when = START + timedelta(hours=number) + timedelta(days=2 if number == 4 else 0)
        received = f"from mx.school.example by mx.qq.com; {format_datetime(when)}"
        raw = make_mail(
            "t@school.example", "b@qq.com", subject, files, headers={"Received": received}
        )
        inbox.append((raw, when))
    return inbox


def _rows(deployment: Deployment, config: Path | None = None) -> list[dict]:
    printed = _intake(deployment, config or deployment.config, "messages", "--json")
    return [{key: row[key] for key in COMPARED} for row in json.loads(printed)]


def _intake(deployment: Deployment, config: Path, *args: str) -> str:
    command = [sys.executable, "-m", "intake", "--config", str(config), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=deployment.env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _second_ledger(deployment: Deployment, name: str) -> Deployment:
    """The same deployment recording into a ledger and archive of its own."""
    database = database_url(deployment.tmp, name)
    text = deployment.config.read_text(encoding="utf-8")
    assert f'url = "{deployment.database}"' in text
    text = text.replace(f'url = "{deployment.database}"', f'url = "{database}"')
    text = text.replace(f"{deployment.tmp}/archive", f"{deployment.tmp}/{name}-archive")
    config = deployment.tmp / f"{name}.toml"
    config.write_text(text, encoding="utf-8")
    return replace(deployment, config=config, database=database)


@pytest.fixture
def inbox() -> list[tuple[bytes, datetime]]:
    return _inbox()


def test_the_mailbox_and_its_mbox_export_give_the_same_ledger(deployment: Deployment, inbox):
    for raw, when in inbox:
        deployment.deliver("primary", raw, when)
    printed = deployment.intake("replay", "sl/primary")
    assert "新记录" in printed
    from_imap = _rows(deployment)
    assert [row["decision"] for row in from_imap] == [
        "accepted",
        "accepted",
        "rejected",
        "ignored",
        "rejected",
    ]
    assert [row["reasons"] for row in from_imap][2:] == [["bad_name"], ["auto_reply"], ["late"]]

    # Replaying again adds nothing; nothing was sent to anyone.
    deployment.intake("replay", "sl/primary")
    assert _rows(deployment) == from_imap
    assert deployment.smtp.messages == []

    export = deployment.tmp / "export.mbox"
    box = mailbox.mbox(export)
    for raw, _ in inbox:
        box.add(raw.replace(b"\r\n", b"\n"))
    box.flush()
    other = _second_ledger(deployment, "from-mbox").config
    _intake(deployment, other, "replay", str(export), "--mailbox", "sl/primary")
    assert _rows(deployment, other) == from_imap

    # The export replayed into the first ledger is recognised message by message.
    deployment.intake("replay", str(export), "--mailbox", "sl/primary")
    assert _rows(deployment) == from_imap


def test_send_replies_sends_only_replies_never_sent_before(deployment: Deployment, inbox):
    for raw, when in inbox[:2]:
        deployment.deliver("primary", raw, when)
    deployment.poll()  # a normal run answers both
    assert len(deployment.smtp.wait_for_messages(2)) == 2
    deployment.intake("replay", "sl/primary", "--send-replies")
    assert len(deployment.smtp.wait_for_messages(3, timeout=1)) == 2  # nothing new

    raw, when = inbox[2]
    deployment.deliver("primary", raw, when)
    deployment.intake("replay", "sl/primary")  # recorded, its reply kept back
    assert len(deployment.smtp.wait_for_messages(3, timeout=1)) == 2
    deployment.intake("replay", "sl/primary", "--send-replies")  # now sent, once
    assert len(deployment.smtp.wait_for_messages(3)) == 3
    deployment.intake("replay", "sl/primary", "--send-replies")
    assert len(deployment.smtp.wait_for_messages(4, timeout=1)) == 3


def test_a_dry_run_records_nothing(deployment: Deployment, inbox):
    for raw, when in inbox:
        deployment.deliver("primary", raw, when)
    printed = deployment.intake("replay", "sl/primary", "--dry-run")
    assert "试运行" in printed and "新记录" in printed
    assert _rows(deployment) == []
    assert deployment.smtp.messages == []


def test_a_dry_run_starts_from_what_the_ledger_holds(deployment: Deployment, inbox):
    """On SQLite the dry run records into a copy of the file; on a database server, into a
    SQLite copy of its rows: either way the messages already recorded are known ones."""
    for raw, when in inbox[:3]:
        deployment.deliver("primary", raw, when)
    deployment.intake("replay", "sl/primary")
    before = _rows(deployment)
    assert len(before) == 3
    for raw, when in inbox[3:]:
        deployment.deliver("primary", raw, when)
    printed = deployment.intake("replay", "sl/primary", "--dry-run")
    lines = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in printed.splitlines()
        if line.count("│") == 3
    }
    assert (lines["读到的邮件"], lines["已在账本中"], lines["新记录"]) == ("5", "3", "2"), printed
    assert _rows(deployment) == before  # the ledger itself is as it was
    assert deployment.smtp.messages == []


def test_a_maildir_and_a_folder_of_eml_files_replay_alike(deployment: Deployment, inbox, tmp_path):
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    folder = tmp_path / "eml"
    folder.mkdir()
    for number, (raw, _) in enumerate(inbox):
        maildir.add(raw.replace(b"\r\n", b"\n"))
        (folder / f"{number:02d}.eml").write_bytes(raw)
    deployment.intake("replay", str(tmp_path / "Maildir"), "--mailbox", "sl/primary")
    from_maildir = _rows(deployment)
    assert [row["decision"] for row in from_maildir] == [
        "accepted",
        "accepted",
        "rejected",
        "ignored",
        "rejected",
    ]
    other = _second_ledger(deployment, "from-eml").config
    _intake(deployment, other, "replay", str(folder), "--mailbox", "sl/primary")
    assert sorted(r["subject"] for r in _rows(deployment, other)) == sorted(
        r["subject"] for r in from_maildir
    )
    # The same messages again, from the other source, add nothing to the first ledger.
    deployment.intake("replay", str(folder), "--mailbox", "sl/primary")
    assert len(_rows(deployment)) == 5


def test_messages_read_ahead_by_workers_are_recorded_as_read_here(
    deployment: Deployment, inbox, tmp_path
):
    """The same export replayed with worker processes reading ahead and without: the same
    decisions, findings and stored document facts, message for message."""
    export = tmp_path / "inbox.mbox"
    box = mailbox.mbox(export)
    for raw, _when in inbox * 4:  # each message four times: the repeats are known ones
        box.add(raw)
    box.close()
    alone = _second_ledger(deployment, "alone")
    _intake(
        deployment, alone.config, "replay", str(export), "--mailbox", "sl/primary", "--workers", "1"
    )
    deployment.intake("replay", str(export), "--mailbox", "sl/primary", "--workers", "2")
    assert _rows(deployment) == _rows(deployment, alone.config)
    facts = "SELECT filename, outcome, facts FROM attachments ORDER BY id"
    findings = "SELECT rule, code, severity, params FROM findings ORDER BY id"
    assert deployment.sql(facts) == alone.sql(facts)
    assert deployment.sql(findings) == alone.sql(findings)
    assert len(deployment.sql(facts)) == 4  # facts of the four documents, read by a worker


def test_reading_ahead_prepares_each_message_in_order() -> None:
    from intake.domain import RawMail
    from intake.prepare import Reading, prepared_ahead

    messages = [
        RawMail("sl/primary", "mbox", 0, number, START, raw)
        for number, (raw, _when) in enumerate(_inbox() * 3, start=1)
    ]
    out = list(prepared_ahead(Reading(), iter(messages), workers=2))
    assert [raw.uid for raw, _ in out] == list(range(1, 16))
    assert all(prepared is not None for _, prepared in out)
    first = out[0][1]
    assert first is not None and first.mail.subject == "双流区实验小学报告"
    assert first.inspections[0].docx is not None  # the report opened in the worker
