"""Hostile and broken input never crashes the poller and never loses a message.

A fixed corpus of malformed mail and of attachment names meant to escape the archive goes
through the real Dovecot and `intake poll --once`; hypothesis then builds whole messages (and
mutates real ones) and hands each to the real handling path in-process. Every message must end
as exactly one ledger row with a decision and its reasons, its raw bytes archived under their
SHA-256, every file inside the archive, and a second look must add nothing.
"""

from __future__ import annotations

import email
import hashlib
import itertools
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from databases import database_url
from deployment import ON_TIME, Deployment
from hostile_mail import (
    HOSTILE_NAMES,
    corpus,
    hostile_names,
    mutations,
    named_attachment_mail,
    whole_messages,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from intake.app import App, build
from intake.config import load_config
from intake.domain import RawMail
from intake.flow import handle
from intake.mail.parse import parse_mail
from intake.replies import answer_address
from intake.store.archive import safe_filename
from intake.store.models import Location, Message, OutboxReply, StoredAttachment

DECISIONS = {"accepted", "rejected", "ignored", "quarantined"}
# Windows opens these as devices whatever follows a dot, and with spaces before the dot.
DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"
}
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "inbox"
MUTATION_BASES = tuple(
    path.read_bytes()
    for path in sorted(SAMPLES.glob("*/*.eml"))
    if path.stat().st_size < 40_000 and path.parent.name in ("primary", "junior")
)
# The corpus entries that are a well-formed report inside hostile wrapping: the report must
# still be found.
STILL_A_REPORT = {
    "5,000 header lines": "棠湖小学",
    "multiparts nested 200 deep": "华阳小学",
    "a good report in noise": "东升小学",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_device_name(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in DEVICES


def assert_safe_name(name: str) -> None:
    """A stored file's last path component is harmless on every file system."""
    assert name, "empty name"
    assert "/" not in name and "\\" not in name, name
    assert not any(unicodedata.category(char) == "Cc" for char in name), repr(name)
    assert not is_device_name(name), name
    assert not name.startswith("."), name
    assert len(name.encode("utf-8")) <= 255, len(name.encode("utf-8"))


def assert_decided(decision: str, reasons: list[str], error: str) -> None:
    """One of the four decisions, with what explains it."""
    assert decision in DECISIONS
    if decision in ("rejected", "ignored"):
        assert reasons, f"{decision} without a reason"
    if decision == "quarantined":
        assert reasons == ["processing_error"] and error.strip()


def assert_in_archive(root: Path, stored_path: str, recorded_sha: str) -> None:
    """The file is under the archive's own folder, named safely, and holds the bytes recorded."""
    path = Path(stored_path)
    assert path.resolve().is_relative_to(root.resolve()), stored_path
    assert path.parent.name == recorded_sha  # files/<sha[:2]>/<sha>/<name>
    assert_safe_name(path.name)
    assert sha256(path.read_bytes()) == recorded_sha


# --- end to end: Dovecot, `intake poll --once`, the SMTP server ---------------------------------


def test_hostile_corpus_is_polled_recorded_once_and_archived(deployment: Deployment) -> None:
    samples = corpus()
    uids = {deployment.deliver("primary", raw): label for label, raw in samples.items()}
    assert len(uids) == len(samples) and len(set(samples.values())) == len(samples)
    deployment.poll()  # exits 0, or deployment.intake fails the test with its stderr

    rows = deployment.ledger()
    # Every delivered message, each exactly once.
    assert sorted(row["uid"] for row in rows) == sorted(uids)
    assert len({row["id"] for row in rows}) == len(rows)
    by_label = {uids[row["uid"]]: row for row in rows}
    for label, row in by_label.items():
        assert_decided(row["decision"], row["reasons"], row["error"])
        assert row["decision"] != "quarantined", f"{label}: handling raised: {row['error']}"
    for label, school in STILL_A_REPORT.items():
        assert (by_label[label]["decision"], by_label[label]["school"]) == ("accepted", school)
    assert by_label["gb2312 label on GB18030 text"]["subject"] == "双流区䶮小学报告 𠮷"
    assert len(by_label["a 1 MB subject"]["subject"]) <= 998  # quoted in the reply's Subject
    assert "\n" not in by_label["encoded line breaks in headers"]["subject"]

    # The raw bytes are archived as the server gave them, under their SHA-256.
    served = {m.uid: m.raw for m in deployment.dovecot.fetch(deployment.accounts["primary"])}
    archived = deployment.sql(
        "select m.sha256, m.raw_path, m.size, l.uid from messages m"
        " join locations l on l.message_pk = m.id"
    )
    assert len(archived) == len(samples)
    for recorded_sha, raw_path, size, uid in archived:
        data = Path(raw_path).read_bytes()
        assert sha256(data) == recorded_sha and len(data) == size
        assert data == served[uid], uids[uid]
    root = deployment.tmp / "archive"
    for stored_path, recorded_sha in deployment.sql(
        "select stored_path, sha256 from attachments where stored_path != ''"
    ):
        assert_in_archive(root, stored_path, recorded_sha)
    assert deployment.sql(
        "select count(*) from attachments a join messages m on a.message_pk = m.id"
        " where m.subject = '300 attachments'"
    ) == [(300,)]

    _assert_replies_only_to_decided_submissions(deployment)

    # A second poll adds nothing: no row, no location, no file, no reply.
    counts = _counts(deployment)
    sent = len(deployment.smtp.messages)
    deployment.poll()
    assert [row["id"] for row in deployment.ledger()] == [row["id"] for row in rows]
    assert _counts(deployment) == counts
    assert len(deployment.smtp.messages) == sent


def _counts(deployment: Deployment) -> list[tuple[int, ...]]:
    return deployment.sql(
        "select (select count(*) from messages), (select count(*) from locations),"
        " (select count(*) from attachments), (select count(*) from outbox)"
    )


def _assert_replies_only_to_decided_submissions(deployment: Deployment) -> None:
    """Replies go only to accepted or rejected messages, at most one each, once, as queued."""
    outbox = deployment.sql(
        "select o.message_pk, o.reply_message_id, o.recipient, o.state, m.decision"
        " from outbox o join messages m on o.message_pk = m.id"
    )
    assert outbox, "the corpus holds submissions that are answered"
    assert {decision for *_, decision in outbox} <= {"accepted", "rejected"}
    per_message = Counter(message for message, *_ in outbox)
    assert max(per_message.values()) == 1
    queued = {reply_id: (recipient, state) for _, reply_id, recipient, state, _ in outbox}
    captured = deployment.smtp.wait_for_messages(sum(s == "sent" for *_, s, _ in outbox))
    ids = [email.message_from_bytes(c.raw)["Message-ID"].strip("<>") for c in captured]
    assert len(ids) == len(set(ids)) == sum(state == "sent" for _, state in queued.values())
    for reply_id, capture in zip(ids, captured, strict=True):
        assert reply_id in queued and queued[reply_id][1] == "sent"
        assert capture.rcpt_tos == (queued[reply_id][0],)
        headers = email.message_from_bytes(capture.raw)
        # Line breaks decoded from the school's headers never become headers of the reply.
        assert headers["Bcc"] is None and headers["X-Evil"] is None
    line_breaks = [c for c in captured if c.rcpt_tos == ("t14@school.example",)]
    assert len(line_breaks) == 1, "the message with encoded line breaks is answered once"


def test_hostile_attachment_names_stay_inside_the_archive(deployment: Deployment) -> None:
    sent: dict[int, tuple[str, list[bytes]]] = {}
    for number, name in enumerate(HOSTILE_NAMES, start=30):
        raw, payloads = named_attachment_mail(number, name, b"payload %d" % number)
        sent[deployment.deliver("primary", raw)] = (name, payloads)
    deployment.poll()

    rows = deployment.ledger()
    assert sorted(row["uid"] for row in rows) == sorted(sent)
    for row in rows:
        assert_decided(row["decision"], row["reasons"], row["error"])
        assert row["decision"] != "quarantined", f"{sent[row['uid']][0]!r}: {row['error']}"
        # Every form of the name carried its file, and each file was kept whole.
        name, payloads = sent[row["uid"]]
        stored = deployment.sql(
            "select stored_path, sha256 from attachments"
            f" where message_pk = {row['id']} order by position"
        )
        assert [recorded for _, recorded in stored] == [sha256(p) for p in payloads], repr(name)
        for stored_path, recorded_sha in stored:
            assert_in_archive(deployment.tmp / "archive", stored_path, recorded_sha)


# --- safe_filename on its own ------------------------------------------------------------------

MORE_NAMES = (
    "\ud800.docx",  # a lone surrogate: no file system can hold it
    "report\udcff.pdf",
    "a/b/../../c.docx",
    "..\\..\\",
    "NUL.tar.gz",
    "com3 .txt",
    "CONOUT$.log",
    "lpt²",
    "x" * 254 + "\x00.docx",
    ". " * 300 + "a",
    "a" + " ." * 300,
    "e\u0301.docx",  # decomposed: stored composed
)


@pytest.mark.parametrize("name", HOSTILE_NAMES + MORE_NAMES)
def test_safe_filename_makes_every_hostile_name_harmless(name: str) -> None:
    assert_safe_name(safe_filename(name))


def test_safe_filename_keeps_what_a_name_means() -> None:
    assert safe_filename("双流区实验小学报告.docx") == "双流区实验小学报告.docx"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Windows\\x.docx") == "x.docx"
    assert safe_filename("CON") == "file_CON" and safe_filename("nul.docx") == "file_nul.docx"
    assert safe_filename("con .docx") == "file_con .docx"
    assert safe_filename("Console.docx") == "Console.docx"  # only the device names themselves
    assert safe_filename("..") == safe_filename("") == safe_filename(" ") == "attachment"
    assert safe_filename("bidi\u202excod.docx") == "bidi_xcod.docx"
    assert safe_filename("report.docx. ") == "report.docx"
    assert safe_filename("e\u0301.docx") == "\u00e9.docx"
    long = safe_filename("长" * 1000 + ".docx")
    assert long.endswith(".docx") and len(long.encode()) <= 200


def test_safe_filename_shortens_a_huge_name_at_once() -> None:
    started = time.monotonic()
    safe = safe_filename("长" * 1_000_000 + ".docx")
    # Cutting one character at a time took hours for a name this long.
    assert time.monotonic() - started < 5
    assert safe == "长" * 65 + ".docx"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text() | hostile_names)
def test_safe_filename_of_any_text_is_harmless_and_stable(name: str) -> None:
    safe = safe_filename(name)
    assert_safe_name(safe)
    assert safe_filename(safe) == safe


# --- in-process: the real handling path on generated messages ----------------------------------

CONFIG = """
[database]
url = "{database}"
[storage]
archive_dir = "{tmp}/archive"
[replies]
transport = "folder"
folder = "{tmp}/outbox"
[campaigns.sl]
name = "双流区第四届教育质量综合评价结果解读运用展评"
organizer = "成都市双流区教育科学研究院"
receipt_prefix = "SL21"
deadline = 2021-05-21
[campaigns.sl.kinds.report]
label = "报告"
name_pattern = "{{school}}报告"
required = true
when_full = "supersede"
[campaigns.sl.kinds.case]
label = "改进案例"
name_pattern = "{{school}}改进案例"
max_per_school = 2
[campaigns.sl.groups.primary]
label = "小学组"
[campaigns.sl.groups.primary.mailbox]
account = "bot@qq.example"
auth_env = "HOSTILE_TEST_CODE"
"""
UIDS = itertools.count(1)
DECIDED: Counter[str] = Counter()  # what the generated input came to, for the record


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One real app (SQLite file, archive folder, replies written to a folder) per module:
    building it runs the migrations, which would dominate a per-example set-up."""
    tmp = tmp_path_factory.mktemp("hostile")
    config = tmp / "config.toml"
    config.write_text(CONFIG.format(tmp=tmp, database=database_url(tmp)), encoding="utf-8")
    built = build(load_config(config))
    yield built
    built.close()


def handled_once(app: App, raw: bytes) -> Message:
    """Handle the bytes twice, as a rescan would, and check the one row they make."""
    ref = app.refs[0]
    uid = next(UIDS)
    fetched = RawMail(ref.key, "INBOX", 1, uid, ON_TIME, raw)
    first = handle(app.intake, ref, fetched)
    again = handle(app.intake, ref, replace(fetched, folder="Junk"))  # seen a second time
    assert again.id == first.id and again.decision == first.decision
    with app.intake.factory() as session:
        [row] = session.scalars(select(Message).where(Message.sha256 == sha256(raw))).all()
        assert row.id == first.id
        assert_decided(row.decision, list(row.reasons), row.error)
        assert Path(row.raw_path).read_bytes() == raw
        locations = session.scalar(
            select(func.count()).select_from(Location).where(Location.message_pk == row.id)
        )
        assert locations == 2
        replies = session.scalar(
            select(func.count()).select_from(OutboxReply).where(OutboxReply.message_pk == row.id)
        )
        # One reply to each decided submission that has an address to answer, none otherwise.
        answerable = bool(answer_address(parse_mail(raw), app.intake.replies.use_reply_to))
        assert replies == int(row.decision in ("accepted", "rejected") and answerable)
        files = session.scalars(
            select(StoredAttachment).where(StoredAttachment.message_pk == row.id)
        ).all()
        for file in files:
            if file.stored_path:
                assert_in_archive(app.intake.archive.root, file.stored_path, file.sha256)
    DECIDED[row.decision] += 1
    return row


def _unique(raw: bytes) -> bytes:
    """Distinct bytes for every example, without changing what follows."""
    return b"X-Example: %d\r\n" % next(UIDS) + raw


def _own_message_id(raw: bytes) -> bytes:
    """A mutated sample keeps its Message-ID; give it one of its own, or every example after
    the first would only be judged a duplicate of its sample."""
    return _MESSAGE_ID.sub(lambda match: match.group(0) + b"m%d." % next(UIDS), raw, count=1)


_MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*<")


def assert_not_quarantined(row: Message) -> None:
    assert row.decision != "quarantined", row.error


def test_the_corpus_in_process_with_nul_bytes_intact(app: App) -> None:
    """Dovecot turns NUL into 0x80; in-process the corpus reaches intake byte for byte."""
    for label, raw in corpus().items():
        row = handled_once(app, raw)
        assert row.decision != "quarantined", f"{label}: {row.error}"


# Text that looks like an encoded-word but does not decode stays in the subject as written.
UNDECODABLE_WORD = (
    b"From: t99@school.example\r\nTo: bot@qq.example\r\n"
    b"Subject: =?utf-8?Q?=E6=8A=A5=3D=3F=3FQ=3F=3D81=3D36=3F=3D?=\r\n"
    b"Message-ID: <undecodable-word@school.example>\r\n\r\nno attachment\r\n"
)


def test_a_subject_holding_an_undecodable_encoded_word_is_answered(app: App) -> None:
    mail = parse_mail(UNDECODABLE_WORD)
    assert mail.subject == "报=??Q?=81=36?="  # kept as the sender wrote it
    row = handled_once(app, UNDECODABLE_WORD)  # recorded once and archived, even so
    assert (row.decision, row.reasons) == ("rejected", ["missing_attachment"]), row.error


# A Message-ID the email package would read as an encoded-word (one that does not even
# decode cleanly), cut short by a space: the reply cannot name it in In-Reply-To.
ENCODED_WORD_ID = (
    b"From: t@school.example\r\nTo: bot@qq.example\r\nSubject: x\r\n"
    b"Message-ID: <=?big5?Q?=3C=C2=9B=1B=E5=AD=A6=2D=27=E5=AD=A6=25?= \xc2\x9b: @school.example>\r\n"
    b"In-Reply-To: <=?utf-8?Q?abc?=@school.example> <earlier@school.example>\r\n"
    b"\r\nno attachment\r\n"
)


def test_a_message_id_holding_an_encoded_word_is_answered_outside_its_thread(app: App) -> None:
    mail = parse_mail(ENCODED_WORD_ID)
    assert (mail.message_id, mail.references) == ("", ("earlier@school.example",))
    row = handled_once(app, ENCODED_WORD_ID)
    assert (row.decision, row.reasons) == ("rejected", ["missing_attachment"]), row.error


HYPOTHESIS = settings(
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(HYPOTHESIS, max_examples=250)
@given(raw=whole_messages())
def test_generated_messages_are_recorded_once(app: App, raw: bytes) -> None:
    raw = _unique(raw)
    parse_mail(raw)  # the parser itself never raises
    assert_not_quarantined(handled_once(app, raw))


@settings(HYPOTHESIS, max_examples=250)
@given(raw=mutations(MUTATION_BASES))
def test_mutated_real_messages_are_recorded_once(app: App, raw: bytes) -> None:
    raw = _unique(_own_message_id(raw))
    parse_mail(raw)
    assert_not_quarantined(handled_once(app, raw))


@settings(HYPOTHESIS, max_examples=150)
@given(raw=st.binary(max_size=2000))
def test_random_bytes_are_recorded_once(app: App, raw: bytes) -> None:
    raw = _unique(raw)
    parse_mail(raw)
    assert_not_quarantined(handled_once(app, raw))
