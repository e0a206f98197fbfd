"""A mailbox over IMAP, as the rest of intake needs it: new messages of a folder, read-only.

imap.qq.com closes the connection on any command it did not advertise, rejects descending
UID sets, and answers `UID SEARCH UID n:*` with the highest UID even when it is below n. So
this module selects folders read-only (EXAMINE: fetching never sets \\Seen), sends only
base IMAP4rev1 commands plus what CAPABILITY lists after login, asks for UIDs in ascending
order, and drops every UID at or below the cursor after a search.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timezone

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from intake.config import MailboxSettings
from intake.domain import RawMail
from intake.mail.smtp import tls_context

log = logging.getLogger(__name__)


class MailboxError(Exception):
    """The mailbox could not be read; the message says what to check."""


class LoginFailed(MailboxError):
    """The server refused the account's login: a wrong or expired code, or IMAP turned off."""


# Everything a poll may meet when a server misbehaves; the poller reports it and goes on.
IMAP_ERRORS = (MailboxError, IMAPClientError, OSError)


@dataclass(frozen=True)
class FolderState:
    name: str
    uidvalidity: int
    uidnext: int | None  # None when the server does not say


class ImapMailbox:
    """One logged-in IMAP session for one account."""

    def __init__(
        self,
        settings: MailboxSettings,
        key: str,
        timeout: float,
        batch: int = 20,
        max_bytes: int = 80 * 1024 * 1024,
    ) -> None:
        self.settings = settings
        self.key = key  # the mailbox's name in the ledger
        self.timeout = timeout
        self.batch = batch
        self.max_bytes = max_bytes  # larger messages: only the header is fetched
        self.capabilities: frozenset[str] = frozenset()
        self._client: IMAPClient | None = None

    def connect(self) -> None:
        box = self.settings
        try:
            client = IMAPClient(
                box.imap_host,
                port=box.imap_port,
                ssl=box.imap_tls,
                ssl_context=tls_context(box.ca_file),
                timeout=self.timeout,
            )
        except (OSError, IMAPClientError) as error:
            # Refused, unreachable, a certificate refused, or a hang-up before the greeting.
            raise MailboxError(
                f"无法连接收信服务器 {box.imap_host}:{box.imap_port}: {error}"
            ) from error
        # Keep INTERNALDATE with the server's own offset (QQ: +0800) instead of local time.
        client.normalise_times = False
        # imapclient turns imaplib's tracing up to 5, where every response is formatted for
        # the log, a fetched message included: 190 MB of text for an 80 MB message, thrown
        # away unless debugging. At 4 the commands and response lines are still logged.
        client._imap.debug = 4
        try:
            client.login(box.account, box.auth_code())
        except LoginError as error:
            _quietly_close(client)
            raise LoginFailed(
                f"邮箱 {box.account} 登录失败：请检查授权码是否正确、是否已过期，"
                f"以及QQ邮箱设置中是否开启了IMAP服务 ({_text(error)})"
            ) from error
        # The greeting's list is partial on QQ (no IDLE, no MOVE): ask again after login.
        self.capabilities = frozenset(_text(c).upper() for c in client.capabilities())
        self._client = client

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    def select(self, folder: str) -> FolderState | None:
        """Open a folder read-only; None when it does not exist on this server."""
        try:
            info = self.client.select_folder(folder, readonly=True)
        except IMAPClientAbortError as error:
            # The session died (QQ drops idle ones): not a missing folder. Reconnect next poll.
            raise MailboxError(f"连接已断开 (connection lost): {error}") from error
        except IMAPClientError as error:
            log.warning("%s: folder %r cannot be opened, skipped: %s", self.key, folder, error)
            return None
        uidnext = info.get(b"UIDNEXT")
        return FolderState(folder, int(info[b"UIDVALIDITY"]), int(uidnext) if uidnext else None)

    def new_uids(self, state: FolderState, after: int) -> list[int]:
        """UIDs above `after`, ascending; no SEARCH at all when UIDNEXT says nothing is new."""
        if state.uidnext is not None and state.uidnext <= after + 1:
            return []
        found = self.client.search(["UID", f"{after + 1}:*"])
        return sorted(uid for uid in found if uid > after)

    def fetch(self, state: FolderState, uids: list[int]) -> Iterator[RawMail]:
        """The raw bytes and receive time of each UID, in ascending batches; only the header
        of a message over the size limit, so one huge message cannot exhaust memory."""
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            sizes = self.client.fetch(chunk, ["RFC822.SIZE"])
            small = [uid for uid in chunk if _size(sizes.get(uid)) <= self.max_bytes]
            large = [uid for uid in chunk if uid in sizes and uid not in small]
            answers = self.client.fetch(small, ["BODY.PEEK[]", "INTERNALDATE"]) if small else {}
            if large:
                answers.update(self.client.fetch(large, ["BODY.PEEK[HEADER]", "INTERNALDATE"]))
            for uid in chunk:
                answer = answers.get(uid)
                if answer is None:
                    log.warning(
                        "%s/%s: UID %s vanished before it was fetched", self.key, state.name, uid
                    )
                    continue
                body = _body(answer)
                if body is None:
                    # Never skip it: the cursor would pass it and the message would be lost.
                    raise MailboxError(f"{state.name} UID {uid}: the server sent no message body")
                yield RawMail(
                    self.key,
                    state.name,
                    state.uidvalidity,
                    uid,
                    _aware(answer[b"INTERNALDATE"]),
                    body,
                    _size(sizes.get(uid)) if uid in large else 0,
                )

    def close(self) -> None:
        if self._client is not None:
            _quietly_close(self._client)
            self._client = None


def _size(answer: dict[bytes, object] | None) -> int:
    value = (answer or {}).get(b"RFC822.SIZE", 0)
    return int(value) if isinstance(value, int | str | bytes) else 0


def _body(answer: dict[bytes, object]) -> bytes | None:
    value = answer.get(b"BODY[]", answer.get(b"BODY[HEADER]"))
    return bytes(value) if isinstance(value, bytes | bytearray) else None


def _aware(moment: datetime) -> datetime:
    """The time with a plain UTC offset: imapclient's own offset class cannot be pickled,
    and a message is sent to another process to be read."""
    offset = moment.utcoffset()
    if offset is None:
        return moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=timezone(offset))


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _quietly_close(client: IMAPClient) -> None:
    # A broken connection has nothing left to lose.
    with contextlib.suppress(IMAPClientError, OSError):
        client.logout()
