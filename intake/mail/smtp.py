"""Handing a finished reply to smtp.qq.com (or to a folder, for a trial run).

QQ insists that the envelope sender and From equal the logged-in account, throttles bursts
with a 550, and may answer 535 even to a correct authorization code now and then. A
transient answer means "try later"; a permanent one means "give up on this reply"; when the
connection breaks after the message text was sent, nobody knows whether it was accepted, so
the reply must not be sent again.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from pathlib import Path
from typing import Protocol

from intake.config import MailboxSettings


class SendError(Exception):
    """A reply could not be handed over."""

    def __init__(self, message: str, *, transient: bool, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.maybe_sent = maybe_sent  # the text reached the server: resending could duplicate


class Transport(Protocol):
    def send(self, sender: str, recipient: str, raw: bytes, message_id: str) -> str:
        """Hand one message over; return the server's answer."""
        ...

    def close(self) -> None: ...


def tls_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file or None)


class SmtpTransport:
    """One authenticated SMTP session, opened on first use and reused for a batch."""

    def __init__(self, settings: MailboxSettings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._client is not None:
            return self._client
        box = self.settings
        try:
            if box.smtp_tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    box.smtp_host,
                    box.smtp_port,
                    timeout=self.timeout,
                    context=tls_context(box.ca_file),
                )
            else:
                client = smtplib.SMTP(box.smtp_host, box.smtp_port, timeout=self.timeout)
            client.login(box.account, box.auth_code())
        except smtplib.SMTPAuthenticationError as error:
            raise SendError(_auth_message(box.account, error), transient=True) from error
        except (OSError, smtplib.SMTPException) as error:
            raise SendError(
                f"无法连接发信服务器 {box.smtp_host}: {error}", transient=True
            ) from error
        self._client = client
        return client

    def send(self, sender: str, recipient: str, raw: bytes, message_id: str) -> str:
        client = self._connect()
        try:
            _expect(client.mail(sender), "MAIL FROM")
            _expect(client.rcpt(recipient), "RCPT TO")
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            # Nothing of the message was sent yet: safe to try again later.
            self._client = None
            raise SendError(f"连接中断: {error}", transient=True) from error
        except SendError:
            self._reset(client)
            raise
        return self._data(client, raw)

    def _reset(self, client: smtplib.SMTP) -> None:
        """Clear a refused transaction; a session that cannot even do that is dropped."""
        try:
            client.rset()
        except (OSError, smtplib.SMTPException):
            self._client = None

    def _data(self, client: smtplib.SMTP, raw: bytes) -> str:
        try:
            code, answer = client.data(raw)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._client = None
            raise SendError(
                f"发送正文后连接中断: {error}", transient=False, maybe_sent=True
            ) from error
        except smtplib.SMTPDataError as error:
            raise _classify(error.smtp_code, error.smtp_error, "DATA") from error
        if code >= 400:
            # Refused after the text (QQ's content filter, throttling): it was not delivered.
            raise _classify(code, answer, "DATA")
        return f"{code} {_decode(answer)}"

    def close(self) -> None:
        if self._client is not None:
            # The server may already have gone; nothing is lost.
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._client.quit()
            self._client = None


def _expect(answer: tuple[int, bytes], stage: str) -> None:
    code, text = answer
    if code >= 400:
        raise _classify(code, text, stage)


def _classify(code: int, text: bytes | str, stage: str) -> SendError:
    message = f"{stage}: {code} {_decode(text)}"
    lowered = message.lower()
    throttled = "frequency" in lowered or "too many" in lowered
    return SendError(message, transient=code < 500 or throttled)


def _decode(text: bytes | str) -> str:
    if isinstance(text, str):
        return text
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("gb18030", "replace")  # older QQ servers answer in GBK


def _auth_message(account: str, error: smtplib.SMTPAuthenticationError) -> str:
    return (
        f"邮箱 {account} 登录发信服务器失败（{error.smtp_code} {_decode(error.smtp_error)}）："
        "请检查授权码是否正确、是否已过期（修改QQ密码会使授权码失效）"
    )


class FolderTransport:
    """Writes each reply as an .eml file instead of sending it: for trials and the demo."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, sender: str, recipient: str, raw: bytes, message_id: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{message_id.split('@')[0]}.eml"
        path.write_bytes(raw)
        return f"written to {path}"

    def close(self) -> None:
        return None
