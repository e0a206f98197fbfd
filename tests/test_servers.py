"""The real-server fixtures behave like QQ Mail where the bot depends on it."""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from servers import DEFAULT_PASSWORD, DEFAULT_USER, QQ_FOLDERS, Dovecot, SmtpServer
from servers.smtp import Stage

pytestmark = pytest.mark.servers

CST = dt.timezone(dt.timedelta(hours=8))


def _raw(subject: str = "报名表 王喆", sender: str = "school@example.test") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "contest@example.test"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.test")
    message.set_content("附件是报名表。")
    return message.as_bytes()


def _reply(sender: str = DEFAULT_USER) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr(("比赛组委会", sender))
    message["To"] = "school@example.test"
    message["Subject"] = "已收到"
    message.set_content("已收到您的报名。")
    return message


def _smtp(server: SmtpServer, host: str | None = None) -> smtplib.SMTP_SSL:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    return smtplib.SMTP_SSL(host or server.host, server.port, context=context, timeout=10)


# ---------------------------------------------------------------------------------- IMAP


def test_append_sets_internaldate_read_back_in_plus_0800(dovecot: Dovecot, imap_user: str) -> None:
    received = dt.datetime(2024, 5, 31, 23, 59, 58, tzinfo=CST)
    uid = dovecot.append(imap_user, "INBOX", _raw(), received, flags=[b"\\Seen"])
    # Same instant given in UTC: the server still reports +0800, as QQ does.
    utc_uid = dovecot.append(
        imap_user, "INBOX", _raw(), dt.datetime(2024, 6, 1, 0, 0, 0, tzinfo=dt.UTC)
    )

    imap = dovecot.client(imap_user)
    try:
        imap.normalise_times = False
        imap.select_folder("INBOX", readonly=True)
        data = imap.fetch([uid, utc_uid], ["INTERNALDATE", "FLAGS"])  # UID FETCH
    finally:
        imap.logout()

    internaldate = data[uid][b"INTERNALDATE"]
    assert internaldate == received
    assert internaldate.utcoffset() == dt.timedelta(hours=8)
    assert b"\\Seen" in data[uid][b"FLAGS"]
    assert data[utc_uid][b"INTERNALDATE"].utcoffset() == dt.timedelta(hours=8)
    assert data[utc_uid][b"INTERNALDATE"] == dt.datetime(2024, 6, 1, 8, 0, 0, tzinfo=CST)
    assert dovecot.uids(imap_user, "INBOX") == [uid, utc_uid]


def test_qq_folders_exist_without_special_use(dovecot: Dovecot, imap_user: str) -> None:
    with dovecot.session(imap_user) as imap:
        listed = {name: flags for flags, _separator, name in imap.list_folders()}
        separators = {separator for _flags, separator, _name in imap.list_folders()}
    assert set(QQ_FOLDERS) <= set(listed)
    assert separators == {b"/"}
    special_use = {b"\\Junk", b"\\Sent", b"\\Drafts", b"\\Trash"}
    assert not special_use & {flag for flags in listed.values() for flag in flags}

    dovecot.create_folder(imap_user, "其他文件夹/已受理")
    dovecot.append(imap_user, "Junk", _raw(), dt.datetime.now(CST))
    assert "其他文件夹/已受理" in dovecot.folders(imap_user)
    assert len(dovecot.uids(imap_user, "Junk")) == 1


def test_capabilities_after_login_are_qq_like(dovecot: Dovecot, imap_user: str) -> None:
    with dovecot.session(imap_user) as imap:
        capabilities = set(imap.capabilities())
    assert capabilities == {
        b"IMAP4REV1",
        b"IDLE",
        b"MOVE",
        b"NAMESPACE",
        b"CHILDREN",
        b"ID",
        b"UIDPLUS",
    }
    assert not {b"CONDSTORE", b"QRESYNC", b"ESEARCH", b"UNSELECT", b"ENABLE"} & capabilities


def test_wrong_password_fails_at_login_without_the_default_delay(
    dovecot: Dovecot, imap_user: str
) -> None:
    imap = IMAPClient(
        dovecot.host, port=dovecot.port, ssl=True, ssl_context=dovecot.ssl_context(), timeout=10
    )
    started = time.monotonic()
    with pytest.raises(LoginError):
        imap.login(imap_user, "wrongauthcodexyz")
    imap.shutdown()
    # auth_failure_delay = 0 and no anvil penalty: ~0.5 s for the failure (Dovecot's fixed
    # flush timer) instead of 2-4 s, and the retry with the right code is not penalised.
    with dovecot.session(imap_user) as good:
        assert good.noop()
    assert time.monotonic() - started < 2


def test_certificate_is_verified_not_trusted_blindly(dovecot: Dovecot) -> None:
    # Without the CA file a default context must refuse the self-signed certificate.
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot.host, port=dovecot.port, ssl=True, timeout=10)
    # Both names in subjectAltName verify.
    IMAPClient("localhost", port=dovecot.port, ssl_context=dovecot.ssl_context()).shutdown()


def test_change_uidvalidity_renumbers_inbox(dovecot: Dovecot, imap_user: str) -> None:
    received = dt.datetime(2024, 3, 1, 9, 30, tzinfo=CST)
    dovecot.append(imap_user, "INBOX", _raw("a"), received, flags=[b"\\Seen"])
    dovecot.append(imap_user, "INBOX", _raw("b"), received)
    before = dovecot.fetch(imap_user, "INBOX")
    old_validity = dovecot.uidvalidity(imap_user, "INBOX")

    new_validity = dovecot.change_uidvalidity(imap_user, "INBOX")

    after = dovecot.fetch(imap_user, "INBOX")
    assert new_validity != old_validity
    assert dovecot.uidvalidity(imap_user, "INBOX") == new_validity
    assert [m.raw for m in after] == [m.raw for m in before]
    assert [m.internaldate for m in after] == [received, received]
    assert b"\\Seen" in after[0].flags
    assert not {m.uid for m in after} & {m.uid for m in before}


def test_change_uidvalidity_can_reuse_uids(dovecot: Dovecot, imap_user: str) -> None:
    now = dt.datetime.now(CST)
    for subject in ("a", "b"):
        dovecot.append(imap_user, "Junk", _raw(subject), now)
    old_validity = dovecot.uidvalidity(imap_user, "Junk")
    dovecot.append(imap_user, "Junk", _raw("c"), now)
    dovecot.change_uidvalidity(imap_user, "Junk", reuse_uids=True)
    assert dovecot.uidvalidity(imap_user, "Junk") != old_validity
    assert dovecot.uids(imap_user, "Junk") == [1, 2, 3]


def test_open_session_is_told_when_uidvalidity_changes(dovecot: Dovecot, imap_user: str) -> None:
    dovecot.append(imap_user, "INBOX", _raw(), dt.datetime.now(CST))
    imap = dovecot.client(imap_user)
    try:
        imap.select_folder("INBOX")
        dovecot.change_uidvalidity(imap_user, "INBOX")
        # Dovecot sends `* BYE IMAP session state is inconsistent, please relogin.` and hangs
        # up, immediately if the session is idle: imaplib then reports the BYE or the EOF.
        with pytest.raises(IMAPClient.AbortError):
            imap.noop()
    finally:
        imap.shutdown()


# ---------------------------------------------------------------------------------- SMTP


def test_smtp_implicit_tls_auth_captures_message(smtp_server: SmtpServer) -> None:
    message = _reply()
    with _smtp(smtp_server, host="localhost") as client:
        features = client.ehlo()[1].decode()
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        refused = client.send_message(message, DEFAULT_USER, ["school@example.test"])
    assert refused == {}
    assert "AUTH" in features and "PLAIN" in features and "LOGIN" in features
    assert "SMTPUTF8" not in features
    assert "SIZE 73400320" in features
    [captured] = smtp_server.messages
    assert captured.mail_from == DEFAULT_USER
    assert captured.rcpt_tos == ("school@example.test",)
    assert captured.auth_user == DEFAULT_USER
    assert b"Subject: =?utf-8?b?5bey5pS25Yiw?=" in captured.raw
    assert not captured.dropped


def test_smtp_requires_auth(smtp_server: SmtpServer) -> None:
    with _smtp(smtp_server) as client, pytest.raises(smtplib.SMTPSenderRefused) as error:
        client.send_message(_reply(), DEFAULT_USER, ["school@example.test"])
    assert error.value.smtp_code == 530


def test_smtp_wrong_code_gets_535(smtp_server: SmtpServer) -> None:
    with _smtp(smtp_server) as client, pytest.raises(smtplib.SMTPAuthenticationError) as error:
        client.login(DEFAULT_USER, "wrongauthcodexyz")
    assert error.value.smtp_code == 535
    reply = error.value.smtp_error
    assert isinstance(reply, bytes)
    assert reply.startswith(b"Login Fail. Please enter your authorization code")


def test_smtp_mail_from_must_be_the_login(smtp_server: SmtpServer) -> None:
    with _smtp(smtp_server) as client:
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        with pytest.raises(smtplib.SMTPSenderRefused) as error:
            client.send_message(_reply(), "other@example.test", ["school@example.test"])
    assert error.value.smtp_code == 501
    assert error.value.smtp_error == b"mail from address must be same as authorization user"
    assert smtp_server.messages == []


def test_smtp_from_header_must_be_the_login(smtp_server: SmtpServer) -> None:
    with _smtp(smtp_server) as client:
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        with pytest.raises(smtplib.SMTPDataError) as error:
            client.send_message(_reply("other@example.test"), DEFAULT_USER, ["x@example.test"])
    assert error.value.smtp_code == 550
    assert b'"From" header is missing or invalid' in error.value.smtp_error


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("MAIL", smtplib.SMTPSenderRefused),
        ("RCPT", smtplib.SMTPRecipientsRefused),
        ("DATA", smtplib.SMTPDataError),
    ],
)
def test_smtp_fail_next_answers_the_configured_error(
    smtp_server: SmtpServer, stage: Stage, expected: type[Exception]
) -> None:
    smtp_server.fail_next(2, code=550, text="Connection frequency limited", stage=stage)
    with _smtp(smtp_server) as client:
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        for _ in range(2):
            with pytest.raises(expected) as error:
                client.send_message(_reply(), DEFAULT_USER, ["school@example.test"])
            assert "550" in str(error.value)
            assert "Connection frequency limited" in str(error.value)
            client.rset()
        # The third transaction is served normally.
        assert client.send_message(_reply(), DEFAULT_USER, ["school@example.test"]) == {}
    assert len(smtp_server.messages) == 1


def test_smtp_fail_next_with_a_temporary_code(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(code=451, text="Try again later", stage="MAIL")
    with _smtp(smtp_server) as client:
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        with pytest.raises(smtplib.SMTPSenderRefused) as error:
            client.send_message(_reply(), DEFAULT_USER, ["school@example.test"])
    assert (error.value.smtp_code, error.value.smtp_error) == (451, b"Try again later")


def test_smtp_drop_after_data_captures_but_never_answers(smtp_server: SmtpServer) -> None:
    smtp_server.drop_after_data_next()
    with _smtp(smtp_server) as client:
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.send_message(_reply(), DEFAULT_USER, ["school@example.test"])
    [captured] = smtp_server.messages
    assert captured.dropped
    # The next connection is served normally.
    with _smtp(smtp_server) as client:
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        assert client.send_message(_reply(), DEFAULT_USER, ["school@example.test"]) == {}
    assert [m.dropped for m in smtp_server.messages] == [True, False]
