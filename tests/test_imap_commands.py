"""What intake says to the IMAP server: only base IMAP4rev1 commands that QQ accepts, folders
opened read-only, UID sets ascending, and no SEARCH at all when nothing is new."""

import imaplib

import pytest
from deployment import Deployment
from mailmaker import make_docx, make_mail

from intake.app import build
from intake.config import load_config

ALLOWED = {"CAPABILITY", "LOGIN", "EXAMINE", "UID", "LOGOUT", "NOOP"}


@pytest.fixture
def spoken(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple]]:
    """Every command the client sends, recorded on its way to the real server."""
    commands: list[tuple[str, tuple]] = []
    real = imaplib.IMAP4._command

    def record(self, name, *args):
        commands.append((name, args))
        return real(self, name, *args)

    monkeypatch.setattr(imaplib.IMAP4, "_command", record)
    return commands


def _poll_in_process(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    app = build(load_config(deployment.config))
    try:
        app.poll()
    finally:
        app.close()


def test_only_advertised_commands_read_only_and_ascending(
    deployment: Deployment, spoken: list, monkeypatch: pytest.MonkeyPatch
):
    for school in ("甲小学", "乙小学", "丙小学"):
        raw = make_mail(
            "t@school.example",
            "b@qq.com",
            f"{school}报告",
            [(f"{school}报告.docx", make_docx("报告"))],
        )
        deployment.deliver("primary", raw)
    spoken.clear()  # the test's own APPENDs
    _poll_in_process(deployment, monkeypatch)

    names = {name for name, _ in spoken}
    assert names <= ALLOWED, names - ALLOWED
    uid_commands = [(args[0], args[1:]) for name, args in spoken if name == "UID"]
    assert {sub for sub, _ in uid_commands} <= {"SEARCH", "FETCH"}
    fetches = [rest for sub, rest in uid_commands if sub == "FETCH"]
    # Ascending, one batch: the sizes first, then the bodies of those within the limit.
    assert [rest[0] for rest in fetches] == [b"1,2,3", b"1,2,3"]
    assert "RFC822.SIZE" in str(fetches[0]) and "BODY" not in str(fetches[0])
    assert "BODY.PEEK[]" in str(fetches[1])

    spoken.clear()
    _poll_in_process(deployment, monkeypatch)  # nothing new since
    assert not [args for name, args in spoken if name == "UID"]
