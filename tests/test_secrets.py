"""Secrets and permissions: authorization codes come from the environment or an owner-only
file and appear in no log; what intake writes is readable by its own user only; the IMAP
and SMTP servers' certificates are verified unless a CA file says whom to trust."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from deployment import Deployment
from mailmaker import make_docx, make_mail
from sqlalchemy import create_engine, make_url, select

from intake.config import ConfigError, MailboxSettings, load_config
from intake.mail.smtp import SendError, SmtpTransport
from intake.store.models import Base

ORGANIZER = "boss@edu.example"


def _report(school: str) -> bytes:
    return make_mail(
        "t@school.example", "b@qq.com", f"{school}报告", [(f"{school}报告.docx", make_docx("报告"))]
    )


def _ledger_contents(deployment: Deployment) -> bytes:
    """Every value of every ledger table, as the models read it (a stored reply unpacked);
    for a SQLite ledger, the file's own bytes too, freed pages and all."""
    engine = create_engine(deployment.database)
    try:
        with engine.connect() as connection:
            values = [
                value
                for table in Base.metadata.sorted_tables
                for row in connection.execute(select(table))
                for value in row
            ]
    finally:
        engine.dispose()
    dump = b"\n".join(v if isinstance(v, bytes) else str(v).encode() for v in values)
    path = _ledger_file(deployment)
    return dump + (path.read_bytes() if path else b"")


def _ledger_file(deployment: Deployment) -> Path | None:
    url = make_url(deployment.database)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def _code_file(tmp_path: Path, code: str, mode: int) -> Path:
    path = tmp_path / "primary.code"
    path.write_text(code + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def test_the_code_may_come_from_a_file_only_its_owner_can_read(
    deployment: Deployment, tmp_path: Path
):
    path = _code_file(tmp_path, deployment.dovecot.password, 0o640)
    text = deployment.config.read_text(encoding="utf-8")
    text = text.replace('auth_env = "TEST_CODE_primary"', f'auth_file = "{path}"')
    deployment.config.write_text(text, encoding="utf-8")
    deployment.deliver("primary", _report("双流区实验小学"))
    env = {k: v for k, v in deployment.env.items() if k != "TEST_CODE_primary"}
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "poll", "--once"]

    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert f"chmod 600 {path}" in refused.stderr  # says exactly what to do
    assert deployment.dovecot.password not in refused.stderr + refused.stdout

    path.chmod(0o600)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [row["decision"] for row in deployment.ledger()] == ["accepted"]


def test_a_mailbox_names_exactly_one_source_for_its_code(tmp_path: Path):
    with pytest.raises(ValueError, match="either auth_env"):
        MailboxSettings(account="a@qq.com", auth_env="X", auth_file="/etc/x.code")
    with pytest.raises(ValueError, match="either auth_env"):
        MailboxSettings(account="a@qq.com")
    empty = _code_file(tmp_path, "", 0o600)
    with pytest.raises(ConfigError, match="是空的"):
        MailboxSettings(account="a@qq.com", auth_file=str(empty)).auth_code()


def test_a_full_run_writes_no_code_to_its_log_and_only_private_files(deployment: Deployment):
    """`intake -v run` with a reply, a refused login, an alert and a digest preview: neither
    the right code nor a wrong one appears in its log, its database or its archive."""
    wrong = "wrongcode-abcdefgh"
    text = deployment.config.read_text(encoding="utf-8")
    text = "[polling]\ninterval_minutes = 0.05\n" + text
    text += f'\n[campaigns.sl.digest]\nrecipients = ["{ORGANIZER}"]\n'
    deployment.config.write_text(text, encoding="utf-8")
    deployment.smtp.add_user(ORGANIZER, "x")
    deployment.deliver("primary", _report("双流区实验小学"))
    env = {**deployment.env, "TEST_CODE_junior": wrong}
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "-v", "run"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deployment.smtp.wait_for_messages(2, timeout=60)  # the reply and the alert
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=60)
    assert process.returncode == 0, log
    assert "登录失败" in log and "reply" in log  # the log did record what happened

    ledger = _ledger_contents(deployment)
    assert "双流区实验小学".encode() in ledger  # the dump does hold what was recorded
    for secret in (deployment.dovecot.password, wrong):
        assert secret not in log
        assert secret.encode() not in ledger
        for message in deployment.smtp.messages:
            assert secret.encode() not in message.raw
    # A ledger on a database server is no file of ours: only SQLite's has permissions here.
    ledger_file = _ledger_file(deployment)
    for path in [*([ledger_file] if ledger_file else []), *(deployment.tmp / "archive").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
    assert any((deployment.tmp / "archive").rglob("*.eml"))


def test_certificates_are_verified_unless_a_ca_file_is_given(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
):
    """The private servers' certificate is self-signed: without `ca_file` it is refused, as
    a forged imap.qq.com would be."""
    text = deployment.config.read_text(encoding="utf-8")
    deployment.config.write_text(re.sub(r'(?m)^ca_file = ".*"$', "", text), encoding="utf-8")
    deployment.deliver("primary", _report("双流区实验小学"))
    command = [sys.executable, "-m", "intake", "--config", str(deployment.config), "poll", "--once"]
    done = subprocess.run(command, env=deployment.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr
    assert deployment.dovecot.password not in done.stderr

    mailbox = load_config(deployment.config).settings.campaigns["sl"].groups["primary"].mailbox
    monkeypatch.setenv("TEST_CODE_primary", deployment.dovecot.password)
    transport = SmtpTransport(mailbox, timeout=10)
    with pytest.raises(SendError, match="CERTIFICATE_VERIFY_FAILED"):
        transport.send(mailbox.account, "t@school.example", b"Subject: x\r\n\r\nx", "x@y")
    assert deployment.smtp.messages == []
