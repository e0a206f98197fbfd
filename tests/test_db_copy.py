"""`intake db copy`: a ledger filled by real polls moves into another database with every row,
the copy runs on where the original stopped, and what does not match is refused or reported.

Without INTAKE_TEST_DATABASE the copies go from SQLite to SQLite; with it, from a database on
the server to another one, and (explicitly) from a SQLite file to the server and back."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from databases import SERVER, database_url
from deployment import ON_TIME, Deployment
from mailmaker import make_docx, make_mail
from sqlalchemy import create_engine, inspect, make_url, text, update
from sqlalchemy.exc import DBAPIError

import intake.store.copy as copy_module
from intake.store.copy import copy_ledger, first_difference, summary, verify
from intake.store.db import MIGRATIONS, make_engine, session_factory, transaction, upgrade
from intake.store.models import Action, Base, Lease, Message

SCHOOL = "双流区实验小学"
TEACHER = "teacher@school.example"
ORGANIZER = "organizer@county.example"
LINK = "http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=KEY&code=CODE"
TABLES = [table.name for table in Base.metadata.sorted_tables]
# Tables a filled deployment must have rows in: the copy is only shown to work on what exists.
FILLED = {
    "messages",
    "locations",
    "attachments",
    "findings",
    "entries",
    "outbox",
    "cursors",
    "mailbox_status",
    "large_files",
    "actions",
    "digests",
    "leases",
}


def _mail(subject: str, files: list[tuple[str, bytes]], **kwargs) -> bytes:
    return make_mail(f"张老师 <{TEACHER}>", "bot@qq.com", subject, files, **kwargs)


def _fill(deployment: Deployment) -> None:
    """Every kind of row, made by the commands an organizer runs."""
    report = [(f"{SCHOOL}报告.docx", make_docx(f"{SCHOOL}报告"))]
    deployment.deliver("primary", _mail(f"{SCHOOL}报告", report, message_id="<r1@school.example>"))
    misnamed = [("新建 Microsoft Word 文档.docx", make_docx("报告"))]
    deployment.deliver("junior", _mail("材料", misnamed))
    link = f"从QQ邮箱发来的超大附件\n\n棠湖中学报告.docx (12.5K, 2099年6月20日 21:59 到期)进入下载页面：{LINK}\n"
    deployment.deliver("junior", _mail("棠湖中学报告", [], body=link))
    deployment.poll()
    deployment.intake("decide", "<r1@school.example>", "--reject", "--reason", "重复提交")
    with deployment.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[campaigns.sl.digest]\nrecipients = ["{ORGANIZER}"]\ntime = "07:30"\n')
    deployment.intake("digest", "--campaign", "sl", "--send")
    # Leases exist while `intake run` works; their text keys sort differently under a
    # locale's collation than by bytes, which the checksum must not depend on.
    engine = make_engine(deployment.database)
    try:
        with transaction(session_factory(engine)) as session:
            for name in ("outbox", "Mailbox:b", "mailbox:sl/primary", "_process:x", "mailbox:a"):
                session.add(Lease(name=name, holder="h", acquired_at=ON_TIME, expires_at=ON_TIME))
    finally:
        engine.dispose()


def _copy_command(cwd: Path, source: str, target: str) -> subprocess.CompletedProcess[str]:
    """`intake db copy` as a person runs it: in a folder without any config.toml."""
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "intake", "db", "copy", "--from", source, "--to", target],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: connection.execute(text(f'select count(*) from "{name}"')).scalar_one()
                for name in TABLES
            }
    finally:
        engine.dispose()


def _stored_replies(url: str) -> list[tuple[int, bytes]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("select id, raw from outbox order by id"))
            return [(row[0], bytes(row[1])) for row in rows]
    finally:
        engine.dispose()


def _pointed_at(deployment: Deployment, url: str, name: str) -> Deployment:
    """The same deployment with a config file of its own whose ledger is at `url`."""
    config = deployment.tmp / f"{name}.toml"
    text_ = deployment.config.read_text(encoding="utf-8").replace(deployment.database, url)
    config.write_text(text_, encoding="utf-8")
    return dataclasses.replace(deployment, config=config, database=url)


def _printed(out: str) -> dict[str, tuple[str, str]]:
    """The printed table: rows and checksum status by table name."""
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    return {row[0]: (row[1], row[2]) for row in cells if len(row) == 3 and row[0] in TABLES}


def _assert_copied(result: subprocess.CompletedProcess[str], source: str, target: str) -> None:
    assert result.returncode == 0, result.stderr
    out = result.stdout
    counts = _counts(source)
    assert _printed(out) == {name: (str(count), "same") for name, count in counts.items()}
    assert "archive" in out and "same path on the new machine" in out
    assert _counts(target) == counts
    assert {name for name, count in counts.items() if count} >= FILLED
    assert f"{sum(counts.values())} rows copied" in out


def _assert_runs_on(copy: Deployment, original: Deployment) -> None:
    """The copy answers like the original, and a poll on it records only new mail, under
    fresh ids (PostgreSQL's sequences were moved past the copied ids)."""
    before = original.ledger()
    assert copy.ledger() == before
    assert copy.sql("select mailbox, folder, uidvalidity, last_uid from cursors order by id") == (
        original.sql("select mailbox, folder, uidvalidity, last_uid from cursors order by id")
    )
    last_message = max(row[0] for row in copy.sql("select id from messages"))
    last_reply = max(row[0] for row in copy.sql("select id from outbox"))
    sent = len(copy.smtp.messages)

    newer = [("棠湖中学报告.docx", make_docx("棠湖中学报告"))]
    uid = copy.deliver("junior", _mail("棠湖中学报告", newer, message_id="<r2@school.example>"))
    copy.poll()

    after = copy.ledger()
    assert after[: len(before)] == before
    [new] = after[len(before) :]
    assert (new["uid"], new["decision"], new["school"]) == (uid, "accepted", "棠湖中学")
    assert new["id"] == last_message + 1 and "r2@school.example" in new["message_id"]
    assert copy.sql("select max(id) from outbox") == [(last_reply + 1,)]
    assert len(copy.smtp.wait_for_messages(sent + 1)) == sent + 1  # one answer, none again
    assert original.ledger() == before  # the original was only read

    # Any table takes a new row through the ORM after the copy.
    engine = make_engine(copy.database)
    try:
        with transaction(session_factory(engine)) as session:
            action = Action(
                message_pk=1,
                kind="override",
                by="test",
                reason="",
                old_decision="accepted",
                new_decision="rejected",
            )
            session.add(action)
            session.flush()
            assert action.id == max(row[0] for row in copy.sql("select id from actions")) + 1
    finally:
        engine.dispose()


@pytest.mark.servers
def test_a_polled_ledger_is_copied_with_every_row_and_runs_on(
    deployment: Deployment, tmp_path: Path
):
    _fill(deployment)
    target = database_url(tmp_path, "copy")

    started = time.perf_counter()
    result = _copy_command(tmp_path, deployment.database, target)
    print(f"copied the test ledger in {time.perf_counter() - started:.2f} s (whole command)")

    _assert_copied(result, deployment.database, target)
    # Stored replies keep their compressed bytes exactly.
    replies = _stored_replies(deployment.database)
    assert replies and all(raw.startswith(b"\x00z") for _, raw in replies)
    assert _stored_replies(target) == replies
    _assert_runs_on(_pointed_at(deployment, target, "copy"), deployment)


@pytest.mark.servers
@pytest.mark.skipif(
    not SERVER, reason="needs a PostgreSQL server: set INTAKE_TEST_DATABASE to its URL"
)
def test_a_sqlite_ledger_moves_to_the_server_and_back(deployment: Deployment, tmp_path: Path):
    sqlite = f"sqlite:///{tmp_path}/ledger.db"
    original = _pointed_at(deployment, sqlite, "sqlite")
    _fill(original)
    server = database_url(tmp_path, "copy")
    assert server.startswith("postgresql")

    result = _copy_command(tmp_path, sqlite, server)
    _assert_copied(result, sqlite, server)

    # And back to a new SQLite file: the same rows as the ledger it started from.
    back = f"sqlite:///{tmp_path}/back.db"
    _assert_copied(_copy_command(tmp_path, server, back), server, back)
    source, returned = make_engine(sqlite), make_engine(back)
    try:
        assert all(check.same for check in verify(source, returned))
    finally:
        source.dispose()
        returned.dispose()

    _assert_runs_on(_pointed_at(original, server, "server"), original)


def test_the_demo_ledger_with_registrations_is_copied(tmp_path: Path):
    """`intake demo` fills registration rows too (the Suzhou tables), without any server."""
    subprocess.run(
        [sys.executable, "-m", "intake", "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        check=True,
        timeout=300,
    )
    source = f"sqlite:///{tmp_path}/demo/demo.db"
    target = database_url(tmp_path, "copy")
    report = copy_ledger(source, target)
    assert report.same and report.copied["registrations"] > 0
    assert report.copied == _counts(target) == _counts(source)


def _small_ledger(tmp_path: Path) -> str:
    """A ledger at the newest schema with one message."""
    url = f"sqlite:///{tmp_path}/small.db"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with transaction(session_factory(engine)) as session:
            session.add(
                Message(
                    sha256="a" * 64,
                    message_id="<m@x>",
                    campaign="sl",
                    group="primary",
                    mailbox="sl/primary",
                    received_at=ON_TIME,
                    raw_path="/archive/a.eml",
                    size=1,
                    sender=TEACHER,
                    subject="报告",
                    decision="accepted",
                    reasons=[],
                    warnings=["late_warning"],
                    kinds=["report"],
                )
            )
    finally:
        engine.dispose()
    return url


def test_a_target_holding_rows_is_refused(tmp_path: Path):
    source = _small_ledger(tmp_path)
    target = database_url(tmp_path, "copy")
    assert _copy_command(tmp_path, source, target).returncode == 0

    again = _copy_command(tmp_path, source, target)
    assert again.returncode == 1
    assert "is not empty: messages (1 rows)" in again.stderr
    assert "never mixed" in again.stderr
    assert _counts(target)["messages"] == 1


def test_a_source_below_the_newest_migration_is_refused(tmp_path: Path):
    source = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(source)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
    finally:
        engine.dispose()
    target = database_url(tmp_path, "copy")

    result = _copy_command(tmp_path, source, target)
    assert result.returncode == 1
    assert "is at migration 0009, not the newest" in result.stderr
    assert "`intake db upgrade`" in result.stderr
    if target.startswith("sqlite"):
        assert not (tmp_path / "copy.db").exists()  # nothing made for a refused copy
    else:
        check = create_engine(target)
        try:
            with check.connect() as connection:
                assert inspect(connection).get_table_names() == []
        finally:
            check.dispose()
    missing = _copy_command(tmp_path, f"sqlite:///{tmp_path}/nowhere.db", target)
    assert missing.returncode == 1 and "the file does not exist" in missing.stderr
    assert not (tmp_path / "nowhere.db").exists()


def test_a_changed_row_in_the_copy_is_reported(tmp_path: Path):
    source_url = _small_ledger(tmp_path)
    target_url = database_url(tmp_path, "copy")
    assert copy_ledger(source_url, target_url).same

    source, target = make_engine(source_url), make_engine(target_url)
    try:
        with target.begin() as connection:
            connection.execute(update(Message).values(subject="报告 "))
        checks = verify(source, target)
        assert [c.table for c in checks if not c.same] == ["messages"]
        [messages] = [c for c in checks if c.table == "messages"]
        assert messages.source_rows == messages.target_rows == 1
        assert ("messages", "1", "CHECKSUM DIFFERS") in summary(checks)
        assert first_difference(source, target, "messages") == "id=1: subject"
        assert first_difference(source, target, "outbox") == ""

        with target.begin() as connection:
            connection.execute(text("delete from messages"))
        assert ("messages", "1 → 0", "ROW COUNT DIFFERS") in summary(verify(source, target))
        assert first_difference(source, target, "messages") == "id=1 only in the source"
    finally:
        source.dispose()
        target.dispose()


def test_a_copy_that_differs_fails_the_command(tmp_path: Path, monkeypatch):
    """Rows changed between copying and verifying (another process still writing) make
    the command fail, naming the table."""
    from click.testing import CliRunner

    from intake.cli import main

    real = copy_module.copy_rows

    def copy_then_write(source, target, batch=copy_module.BATCH):
        copied = real(source, target, batch)
        with source.begin() as connection:
            connection.execute(update(Message).values(decision="rejected"))
        return copied

    monkeypatch.setattr(copy_module, "copy_rows", copy_then_write)
    monkeypatch.chdir(tmp_path)
    source = _small_ledger(tmp_path)
    result = CliRunner().invoke(
        main, ["db", "copy", "--from", source, "--to", database_url(tmp_path, "copy")]
    )
    assert result.exit_code == 1
    assert "CHECKSUM DIFFERS" in result.output
    assert "messages: first difference at id=1: decision" in result.output
    assert "the copy differs from the source in: messages" in result.output


def test_passwords_are_never_printed(tmp_path: Path):
    source = _small_ledger(tmp_path)
    unreachable = "postgresql+psycopg://intake:sekret-word@127.0.0.1:9/ledger"
    result = _copy_command(tmp_path, source, unreachable)
    assert result.returncode == 1
    assert "cannot use postgresql+psycopg://intake:***@127.0.0.1:9/ledger" in result.stderr
    assert "sekret-word" not in result.stdout + result.stderr
    target = make_url(database_url(tmp_path, "copy"))
    if target.get_backend_name() == "postgresql" and target.password is None:
        # The test server takes any password: the whole copy, and still it is never shown.
        with_password = target.set(password="sekret-word").render_as_string(hide_password=False)
        done = _copy_command(tmp_path, source, with_password)
        assert done.returncode == 0, done.stderr
        assert "intake:***@" in done.stdout and "sekret-word" not in done.stdout


@pytest.mark.skipif(
    not SERVER, reason="needs a PostgreSQL server: set INTAKE_TEST_DATABASE to its URL"
)
def test_text_keys_compare_alike_under_a_locale_collation(tmp_path: Path):
    """A server whose databases sort text by a language's rules (ICU "en": "_process" and
    "Mailbox" before "mailbox") still compares the leases row for row with SQLite."""
    source = _small_ledger(tmp_path)
    engine = make_engine(source)
    try:
        with transaction(session_factory(engine)) as session:
            for name in ("outbox", "Mailbox:b", "mailbox:sl/primary", "_process:x", "mailbox:a"):
                session.add(Lease(name=name, holder="h", acquired_at=ON_TIME, expires_at=ON_TIME))
    finally:
        engine.dispose()
    server = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"t_icu_{uuid.uuid4().hex[:12]}"
    try:
        with server.connect() as connection:
            connection.execute(
                text(
                    f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu '
                    "ICU_LOCALE 'en' LOCALE 'C.UTF-8'"
                )
            )
    except DBAPIError as error:
        server.dispose()
        pytest.skip(f"the server cannot make an ICU-collated database: {error.orig}")
    target = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        copied = copy_ledger(source, target)
        assert copied.same, copied.differences
        check = create_engine(target)
        try:
            with check.connect() as connection:
                by_locale = connection.execute(text("select name from leases order by name"))
                assert by_locale.scalars().all()[:2] == ["_process:x", "mailbox:a"]
        finally:
            check.dispose()
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
