"""An aiosmtpd server that answers like smtp.qq.com:465 for integration tests.

Implicit TLS, AUTH LOGIN/PLAIN required, QQ's error replies for a wrong authorization code and
a foreign envelope sender, plus controls to make the next transactions fail, to accept DATA
and hang up without replying, or to refuse the next logins with QQ's 535 although the code is
right (as smtp.qq.com does now and then). Everything is a real SMTP exchange over a socket.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from servers.certs import TlsFiles
from servers.dovecot import DEFAULT_PASSWORD, free_port

Stage = Literal["MAIL", "RCPT", "DATA"]

#: The account the default fixture accepts (with DEFAULT_PASSWORD, the same code as IMAP:
#: on QQ one authorization code serves both protocols).
DEFAULT_USER = "intake-bot@example.test"

# smtp.qq.com's wording, so code that matches on it is exercised.
AUTH_FAILED = (
    "535 Login Fail. Please enter your authorization code to login. More information will be"
    " available at https://service.mail.qq.com/detail/0/53"
)
SENDER_MISMATCH = "501 mail from address must be same as authorization user"
BAD_FROM_HEADER = (
    '550 The "From" header is missing or invalid. Please follow RFC5322, RFC2047, RFC822'
    " standard protocol."
)
#: smtp.qq.com's maximum message size.
MAX_MESSAGE_BYTES = 70 * 1024 * 1024


@dataclass(frozen=True)
class CapturedMessage:
    """One message the server took in (after the end of DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    auth_user: str
    #: True when the connection was dropped instead of answering 250 (drop_after_data_next).
    dropped: bool = False
    #: When the end of DATA arrived (time.time()), to measure how long a reply took.
    received_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class _Plan:
    """What to do to one upcoming transaction."""

    kind: Literal["fail", "drop"]
    stage: Stage = "DATA"
    reply: str = ""


class _QQSmtp(SMTP):
    """aiosmtpd's SMTP with AUTH allowed on an implicit-TLS connection.

    aiosmtpd only recognises STARTTLS as "encrypted" and would answer AUTH with 538 on port
    465-style TLS. Passing auth_require_tls=False would instead emit a security warning on
    every connection, so the check is relaxed here, only once TLS is really in place.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if transport.get_extra_info("sslcontext") is not None:
            self._auth_require_tls = False


class _QQController(Controller):
    def factory(self) -> SMTP:
        return _QQSmtp(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """A threaded SMTP server on 127.0.0.1 with implicit TLS (like smtp.qq.com:465).

    `messages` holds everything accepted (thread-safe snapshot). Use as a context manager or
    start()/stop().
    """

    def __init__(
        self,
        tls: TlsFiles,
        users: Mapping[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
        check_from_header: bool = True,
    ) -> None:
        self.host = host
        self.port = 0
        self.ca_file = tls.cert
        self.tls = tls
        #: address -> password; AUTH user names compare case-insensitively, as addresses do.
        self._users: dict[str, str] = {}
        for user, password in (users or {DEFAULT_USER: DEFAULT_PASSWORD}).items():
            self.add_user(user, password)
        self.check_from_header = check_from_header
        self._lock = threading.Lock()
        self._messages: list[CapturedMessage] = []
        self._plans: deque[_Plan] = deque()
        self._auth_failures = 0  # sessions still to refuse whatever the code
        self._refused_sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        # The plan chosen at MAIL FROM, looked up again at RCPT and DATA. Envelopes are
        # replaced after each transaction, so weak keys clean themselves up.
        self._active: weakref.WeakKeyDictionary[Envelope, _Plan] = weakref.WeakKeyDictionary()
        self._controller: Controller | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.tls.cert, self.tls.key)
        last_error: OSError | None = None
        # aiosmtpd cannot bind port 0; a probed port can be taken before we bind it: retry.
        for _attempt in range(3):
            self.port = free_port(self.host)
            controller = _QQController(
                _Handler(self),
                hostname=self.host,
                port=self.port,
                ssl_context=context,
                server_hostname="smtp.example.test",
                ident="ESMTP test server answering like smtp.qq.com",
                authenticator=self._authenticate,
                auth_required=True,
                # QQ offers no SMTPUTF8: non-ASCII headers must be RFC 2047 encoded.
                enable_SMTPUTF8=False,
                data_size_limit=MAX_MESSAGE_BYTES,
            )
            try:
                controller.start()
            except OSError as error:
                last_error = error
                continue
            self._controller = controller
            return
        raise RuntimeError(f"SMTP server could not bind a port: {last_error}")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    # ------------------------------------------------------------------ test controls

    @property
    def users(self) -> dict[str, str]:
        return dict(self._users)

    def add_user(self, user: str, password: str) -> None:
        self._users[user.lower()] = password

    @property
    def messages(self) -> list[CapturedMessage]:
        """Snapshot of every captured message, oldest first."""
        with self._lock:
            return list(self._messages)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[CapturedMessage]:
        """Wait until at least `count` messages arrived (for clients sending in background)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count or time.monotonic() >= deadline:
                return messages
            time.sleep(0.01)

    def fail_next(
        self,
        count: int = 1,
        code: int = 550,
        text: str = "Connection frequency limited",
        stage: Stage = "MAIL",
    ) -> None:
        """Make the next `count` transactions fail with `code text` at `stage`.

        MAIL: the MAIL FROM reply. RCPT: every RCPT TO reply of the transaction.
        DATA: the reply after the message content (where QQ's content filter answers); the
        message is then not captured. A transaction is counted when its MAIL FROM arrives.
        """
        if stage not in ("MAIL", "RCPT", "DATA"):
            raise ValueError(f"unknown stage {stage!r}")
        if not 200 <= code <= 599:
            raise ValueError(f"not an SMTP reply code: {code}")
        plan = _Plan(kind="fail", stage=stage, reply=f"{code} {text}")
        with self._lock:
            self._plans.extend([plan] * count)

    def drop_after_data_next(self, count: int = 1) -> None:
        """For the next `count` transactions: capture the message, then close the connection
        instead of answering the end of DATA ("the server took it but we never heard")."""
        with self._lock:
            self._plans.extend([_Plan(kind="drop")] * count)

    def fail_auth_next(self, count: int = 1) -> None:
        """Answer AUTH with QQ's 535 even when the code is right, in the next `count`
        connections that log in: every mechanism the client tries there is refused (smtplib
        moves on from PLAIN to LOGIN after a 535)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._lock:
            self._auth_failures += count

    @property
    def plans_left(self) -> int:
        """Planned transaction failures and drops not yet met."""
        with self._lock:
            return len(self._plans)

    @property
    def auth_failures_left(self) -> int:
        """Connections still to be refused at AUTH."""
        with self._lock:
            return self._auth_failures

    def reset(self) -> None:
        """Forget captured messages and pending failures."""
        with self._lock:
            self._messages.clear()
            self._plans.clear()
            self._auth_failures = 0

    # ------------------------------------------------------------------ server side

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        with self._lock:
            if session not in self._refused_sessions and self._auth_failures > 0:
                self._auth_failures -= 1
                self._refused_sessions.add(session)
            refuse = session in self._refused_sessions
        if refuse:
            return AuthResult(success=False, handled=False, message=AUTH_FAILED)
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", errors="replace").lower()
            password = auth_data.password.decode("utf-8", errors="replace")
            if self._users.get(user) == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False, message=AUTH_FAILED)

    def _start_transaction(self, envelope: Envelope) -> _Plan | None:
        with self._lock:
            plan = self._plans.popleft() if self._plans else None
        # A MAIL refused by a plan leaves the same Envelope for the client's next MAIL: forget
        # the old plan so it cannot leak into that transaction.
        self._active.pop(envelope, None)
        if plan is not None:
            self._active[envelope] = plan
        return plan

    def _plan(self, envelope: Envelope) -> _Plan | None:
        return self._active.get(envelope)

    def _capture(self, message: CapturedMessage) -> None:
        with self._lock:
            self._messages.append(message)


def _auth_user(session: Session) -> str:
    auth = session.auth_data
    if isinstance(auth, LoginPassword):
        return auth.login.decode("utf-8", errors="replace")
    return ""


def _from_header_ok(raw: bytes, user: str) -> bool:
    headers = BytesHeaderParser().parsebytes(raw)
    values = headers.get_all("From") or []
    addresses = [address for _name, address in getaddresses([str(v) for v in values])]
    return len(addresses) == 1 and addresses[0].lower() == user.lower()


class _Handler:
    """aiosmtpd hooks; they run on the controller's event-loop thread."""

    def __init__(self, owner: SmtpServer) -> None:
        self._owner = owner

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if address.lower() != _auth_user(session).lower():
            return SENDER_MISMATCH
        plan = self._owner._start_transaction(envelope)
        if plan is not None and plan.kind == "fail" and plan.stage == "MAIL":
            return plan.reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        plan = self._owner._plan(envelope)
        if plan is not None and plan.kind == "fail" and plan.stage == "RCPT":
            return plan.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        user = _auth_user(session)
        plan = self._owner._plan(envelope)
        if plan is not None and plan.kind == "fail" and plan.stage == "DATA":
            return plan.reply
        if self._owner.check_from_header and not _from_header_ok(raw, user):
            return BAD_FROM_HEADER
        dropped = plan is not None and plan.kind == "drop"
        self._owner._capture(
            CapturedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=raw,
                auth_user=user,
                dropped=dropped,
            )
        )
        if dropped and server.transport is not None:
            # Hang up before the 250: close() sends TLS close_notify and FIN, the client sees
            # EOF where the reply should be. connection_lost() then cancels this coroutine, so
            # aiosmtpd never writes a reply to the closed transport.
            server.transport.close()
            await asyncio.Event().wait()
        return "250 OK: queued as test"
