"""A private Dovecot that behaves like imap.qq.com:993 for integration tests.

One instance serves a whole test session: every user name logs in with the same password
(static passdb), so each test invents fresh accounts instead of restarting the server.
Recipe and measurements: /work/shared/TESTING.md.
"""

from __future__ import annotations

import datetime as dt
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest
from imapclient import IMAPClient

from servers.certs import TlsFiles

#: What imap.qq.com advertises after login (minus XLIST/XAPPLEPUSHSERVICE, which Dovecot
#: cannot serve). Anything else the client sends would close a real QQ session.
QQ_CAPABILITIES = ("IMAP4rev1", "IDLE", "MOVE", "NAMESPACE", "CHILDREN", "ID", "UIDPLUS")

#: The folders a fresh QQ account shows, created on first login. No SPECIAL-USE flags, as on QQ.
QQ_FOLDERS = ("INBOX", "Sent Messages", "Drafts", "Deleted Messages", "Junk")

#: 16 lowercase letters, the shape of a QQ authorization code (授权码).
DEFAULT_PASSWORD = "pytestauthcodeqq"

#: QQ reports INTERNALDATE in +0800. Dovecot stores only the instant and prints it in its own
#: local zone, so the server runs in China Standard Time (a POSIX rule: no tzdata needed).
SERVER_TZ = "CST-8"

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


class DovecotError(RuntimeError):
    """The private Dovecot failed to start or a fixture operation failed."""


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the server holds it."""

    uid: int
    raw: bytes
    flags: tuple[bytes, ...]
    internaldate: dt.datetime


def find_dovecot() -> str | None:
    """Path of the dovecot binary; /usr/sbin is not on every PATH (non-root shells)."""
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


def _find_doveadm(dovecot_binary: str) -> str:
    found = shutil.which("doveadm")
    if found:
        return found
    sibling = Path(dovecot_binary).with_name("doveadm")
    return str(sibling) if sibling.exists() else "/usr/bin/doveadm"


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago: aiosmtpd cannot listen on port 0, and Dovecot would
    not tell us which port it got."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def client_ssl_context(ca_file: Path) -> ssl.SSLContext:
    """What the code under test should do: full verification against `ca_file`."""
    return ssl.create_default_context(cafile=str(ca_file))


class Dovecot:
    """A Dovecot instance on 127.0.0.1 with an implicit-TLS IMAPS listener only (like QQ).

    Use as a context manager or call start()/stop(). Set KEEP_TEST_SERVERS=1 to keep the
    folder (config, mail, log) after stop() for post-mortems.
    """

    def __init__(
        self,
        tls: TlsFiles,
        *,
        password: str = DEFAULT_PASSWORD,
        host: str = "127.0.0.1",
        binary: str | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        binary = binary or find_dovecot()
        if binary is None:
            raise DovecotError("dovecot is not installed")
        self.binary = binary
        self.doveadm_binary = _find_doveadm(binary)
        self.host = host
        self.port = 0
        self.password = password
        self.ca_file = tls.cert
        self.tls = tls
        self.start_timeout = start_timeout
        self.startup_seconds = 0.0
        # mkdtemp + 0755 rather than pytest's tmp_path (0700): the mail processes run as
        # `nobody` and must traverse every folder on the path.
        self.root = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
        self.root.chmod(0o755)
        self.config_file = self.root / "dovecot.conf"
        self.log_file = self.root / "dovecot.log"
        self.stderr_file = self.root / "stderr.log"
        self.mail_dir = self.root / "mail"
        self._process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Dovecot:
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
        """Start the server and return once it greets over verified TLS.

        On failure the folder is kept (see `root`) and the error carries Dovecot's output.
        """
        began = time.monotonic()
        try:
            # The free port can be taken between probing and Dovecot's bind: retry another.
            for _attempt in range(3):
                self.port = free_port(self.host)
                self._write_config()
                if self._spawn_and_wait():
                    self.startup_seconds = time.monotonic() - began
                    return
                if "Address already in use" not in self._startup_output():
                    break
        except BaseException:
            self._kill()
            raise
        raise DovecotError(f"Dovecot did not start:\n{self._startup_output()}")

    def stop(self) -> None:
        """Stop the whole process group (master, login and mail processes)."""
        self._kill()
        if os.environ.get("KEEP_TEST_SERVERS", "") not in ("", "0"):
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def _write_config(self) -> None:
        for name in ("run", "state", "mail", "home"):
            (self.root / name).mkdir(exist_ok=True)
        mail_user, mail_group, internal = _accounts()
        for name in ("mail", "home"):
            shutil.chown(self.root / name, mail_user, mail_group)
        internal_users = (
            f"default_internal_user = {internal[0]}\n"
            f"default_internal_group = {internal[1]}\n"
            f"default_login_user = {internal[0]}\n"
            if internal
            else ""
        )
        auto_folders = "".join(
            f'  mailbox "{name}" {{\n    auto = create\n  }}\n'
            for name in QQ_FOLDERS
            if name != "INBOX"
        )
        self.config_file.write_text(
            f"""# Generated by tests/servers/dovecot.py; nothing from /etc/dovecot is read.
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log_file}
info_log_path = {self.log_file}
{internal_users}listen = {self.host}
protocols = imap
ssl = required
ssl_cert = <{self.tls.cert}
ssl_key = <{self.tls.key}
# Plain LOGIN is fine: the only listener is implicit TLS.
disable_plaintext_auth = no
auth_mechanisms = plain login
# Failed logins are otherwise delayed 2-4 s, which would make "wrong password" tests slow.
# A failure is still answered up to 0.5 s late: Dovecot's auth flushes failures on a fixed
# 500 ms timer (AUTH_FAILURE_DELAY_CHECK_MSECS), which no setting changes.
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = 1
# LAYOUT=fs keeps folder names with dots possible ("2024.报名") and lays folders out as
# directories under the account.
mail_location = maildir:{self.mail_dir}/%u:LAYOUT=fs
# Durability is pointless for throwaway mail and fsync makes APPEND several times slower.
mail_fsync = never
imap_capability = {" ".join(QQ_CAPABILITIES)}
# Any user name, one password: tests invent unique accounts on the same server.
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={self.root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{auto_folders}}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""",
            encoding="utf-8",
        )

    def _spawn_and_wait(self) -> bool:
        stderr = self.stderr_file.open("wb")
        try:
            process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                env=self._env(),
                # Own process group: stop() signals master and children together, and a
                # Ctrl-C in pytest's terminal does not hit them half-way.
                start_new_session=True,
            )
        finally:
            stderr.close()
        self._process = process
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._kill()  # reaps the master, SIGKILLs anything it forked
                return False
            if self._greets():
                return True
            time.sleep(0.01)
        self._kill()
        raise DovecotError(
            f"Dovecot did not listen on {self.port} within {self.start_timeout} s:\n"
            f"{self._startup_output()}"
        )

    def _greets(self) -> bool:
        """True once a verified TLS connection gets `* OK`: imap-login only greets when the
        auth service is up, so the first test's LOGIN cannot race the startup."""
        try:
            with (
                socket.create_connection((self.host, self.port), timeout=2) as raw,
                self.ssl_context().wrap_socket(raw, server_hostname=self.host) as tls,
            ):
                return tls.recv(4096).startswith(b"* OK")
        except ssl.SSLCertVerificationError as error:
            # Not a startup race: waiting longer would only hide a broken certificate.
            raise DovecotError(f"certificate rejected by the client: {error}") from error
        except OSError:
            return False

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _stop_group(process)

    def _env(self) -> dict[str, str]:
        # Dovecot passes TZ to its children (import_environment default) and prints
        # INTERNALDATE in that zone.
        return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "TZ": SERVER_TZ}

    def _startup_output(self) -> str:
        parts = []
        for path in (self.stderr_file, self.log_file):
            if path.exists():
                parts.append(f"--- {path}\n{path.read_text(errors='replace')}")
        return "\n".join(parts) or "(no output)"

    # ------------------------------------------------------------------ log access

    def log_size(self) -> int:
        """Current length of the log, to pass to log_since() later."""
        try:
            return self.log_file.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int = 0) -> str:
        """The log written since `offset` (from log_size()), for failure reports."""
        try:
            with self.log_file.open("rb") as handle:
                handle.seek(offset)
                return handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # ------------------------------------------------------------------ IMAP helpers

    @staticmethod
    def unique_user(prefix: str = "primary", domain: str = "example.test") -> str:
        """A fresh account name, e.g. primary-3f2a9c1d@example.test (any name logs in)."""
        return f"{prefix}-{uuid.uuid4().hex[:8]}@{domain}"

    def ssl_context(self) -> ssl.SSLContext:
        return client_ssl_context(self.ca_file)

    def client(self, user: str, *, timeout: float = 10.0) -> IMAPClient:
        """A logged-in IMAPClient over verified TLS; the caller logs out.

        normalise_times is off so INTERNALDATE comes back as an aware datetime in +0800,
        as QQ sends it.
        """
        client = IMAPClient(
            self.host, port=self.port, ssl=True, ssl_context=self.ssl_context(), timeout=timeout
        )
        client.normalise_times = False
        try:
            client.login(user, self.password)
        except Exception:
            client.shutdown()
            raise
        return client

    @contextmanager
    def session(self, user: str) -> Iterator[IMAPClient]:
        """`with dovecot.session(user) as imap:` logs in and always logs out."""
        client = self.client(user)
        try:
            yield client
        finally:
            try:
                client.logout()
            except Exception:
                # Already closed by the server (e.g. after a UIDVALIDITY change): nothing
                # left to clean up.
                client.shutdown()

    def append(
        self,
        user: str,
        folder: str,
        raw: bytes,
        internaldate: dt.datetime,
        flags: Sequence[bytes | str] = (),
    ) -> int:
        """APPEND one message and return its UID.

        `internaldate` becomes the server receive time (what deadlines are judged on); it must
        be timezone-aware. The server reports it back in +0800 whatever offset it had here.
        """
        return self.append_many(user, folder, [(raw, internaldate, flags)])[0]

    def append_many(
        self,
        user: str,
        folder: str,
        messages: Iterable[tuple[bytes, dt.datetime, Sequence[bytes | str]]],
    ) -> list[int]:
        """APPEND several (raw, internaldate, flags) over one connection; returns the UIDs."""
        uids: list[int] = []
        with self.session(user) as imap:
            for raw, internaldate, flags in messages:
                if internaldate.tzinfo is None or internaldate.utcoffset() is None:
                    raise ValueError("internaldate must be timezone-aware")
                response = imap.append(folder, raw, flags=tuple(flags), msg_time=internaldate)
                match = _APPENDUID.search(response)
                if match is None:
                    raise DovecotError(f"APPEND gave no APPENDUID: {response!r}")
                uids.append(int(match.group(2)))
        return uids

    def uids(self, user: str, folder: str = "INBOX") -> list[int]:
        """All UIDs in `folder`, ascending (read-only: does not touch \\Recent or \\Seen)."""
        with self.session(user) as imap:
            imap.select_folder(folder, readonly=True)
            return sorted(int(uid) for uid in imap.search("ALL"))

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.session(user) as imap:
            status = imap.folder_status(folder, [b"UIDVALIDITY"])
            return int(status[b"UIDVALIDITY"])

    def fetch(self, user: str, folder: str = "INBOX") -> list[FetchedMessage]:
        """Every message in `folder` by ascending UID, without setting \\Seen."""
        with self.session(user) as imap:
            imap.select_folder(folder, readonly=True)
            uids = sorted(int(uid) for uid in imap.search("ALL"))
            if not uids:
                return []
            data = imap.fetch(uids, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE"])
            return [
                FetchedMessage(
                    uid=uid,
                    raw=bytes(data[uid][b"BODY[]"]),
                    flags=tuple(data[uid][b"FLAGS"]),
                    internaldate=data[uid][b"INTERNALDATE"],
                )
                for uid in uids
            ]

    def folders(self, user: str) -> list[str]:
        with self.session(user) as imap:
            return [name for _flags, _sep, name in imap.list_folders()]

    def create_folder(self, user: str, name: str) -> None:
        """CREATE `name` (str, modified UTF-7 is handled by imapclient); "a/b" nests."""
        with self.session(user) as imap:
            imap.create_folder(name)

    def delete_folder(self, user: str, name: str) -> None:
        with self.session(user) as imap:
            imap.delete_folder(name)

    def change_uidvalidity(
        self, user: str, folder: str = "INBOX", *, reuse_uids: bool = False
    ) -> int:
        """Simulate the server renumbering `folder`; returns the new UIDVALIDITY.

        Every message is put back with its bytes, flags and INTERNALDATE under a new
        UIDVALIDITY and new UIDs. By default (works for INBOX too) the new UIDs continue above
        the old UIDNEXT. With reuse_uids=True (not INBOX: it cannot be deleted) the folder is
        deleted and recreated, so UIDs restart at 1 and an old UID now names another message.

        A session that has the folder selected while this runs gets
        `* BYE IMAP session state is inconsistent, please relogin.` from Dovecot.
        """
        old_validity = self.uidvalidity(user, folder)
        messages = self.fetch(user, folder)
        if reuse_uids:
            if folder.upper() == "INBOX":
                raise ValueError("INBOX cannot be deleted; use reuse_uids=False")
            self.delete_folder(user, folder)
            self.create_folder(user, folder)
        else:
            self._expunge_all(user, folder)
            # doveadm rewrites the index header; Dovecot then drops open views of the folder.
            new_validity = old_validity + 1 if old_validity < 0xFFFFFFFF else 1
            self.doveadm(
                "mailbox", "update", "-u", user, "--uid-validity", str(new_validity), folder
            )
        self.append_many(
            user,
            folder,
            (
                (message.raw, message.internaldate, [f for f in message.flags if f != b"\\Recent"])
                for message in messages
            ),
        )
        new = self.uidvalidity(user, folder)
        if new == old_validity:
            raise DovecotError(f"UIDVALIDITY of {folder} did not change ({new})")
        return new

    def _expunge_all(self, user: str, folder: str) -> None:
        with self.session(user) as imap:
            imap.select_folder(folder)
            uids = imap.search("ALL")
            if uids:
                imap.add_flags(uids, [b"\\Deleted"], silent=True)
                imap.expunge()

    def doveadm(self, *args: str) -> str:
        """Run `doveadm -c <our config> ARGS` (root needed for -u); returns stdout."""
        result = subprocess.run(
            [self.doveadm_binary, "-c", str(self.config_file), *args],
            capture_output=True,
            env=self._env(),
            check=False,
            timeout=30,
        )
        if result.returncode != 0:
            raise DovecotError(
                f"doveadm {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace')}"
            )
        return result.stdout.decode(errors="replace")


def _accounts() -> tuple[str, str, tuple[str, str] | None]:
    """Mail user/group and, when not root, the user Dovecot's internal services run as."""
    if os.geteuid() == 0:
        # imap-login refuses root and the mail user cannot be uid 0.
        return "nobody", "nogroup", None
    # As an ordinary user every service runs as that user (not verified here: CI runs as root).
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return user, group, (user, group)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group until the master exits, then SIGKILL whatever is left in it.

    The group id is the master's pid (start_new_session), so only processes we started are hit.
    The signal is repeated because a child the master forks after a signal (it may still be
    starting services) misses it, and the master then waits for that child for seconds.
    """
    deadline = time.monotonic() + 5
    while process.poll() is None and time.monotonic() < deadline:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.2)
    # Linux does not reuse a pid while it names a live process group, so this stays ours.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def truthy_env(name: str) -> bool:
    """CI=true, CI=1, CI=yes... (GitHub, GitLab and most runners set CI=true)."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


MISSING_MESSAGE = (
    "Dovecot is not installed: run `apt-get install dovecot-imapd` "
    "(or `python3 tasks.py test`, which installs it)"
)


def require_dovecot() -> str:
    """The dovecot binary, or skip the test (fail it on CI, where a skip would hide a gap)."""
    binary = find_dovecot()
    if binary is None:
        if truthy_env("CI"):
            pytest.fail(f"{MISSING_MESSAGE} [CI is set, so this is a failure, not a skip]")
        pytest.skip(MISSING_MESSAGE)
    return binary


_LOG_MARK = pytest.StashKey[int]()


def attach_dovecot_log(item: pytest.Item, report: pytest.TestReport) -> None:
    """Add the Dovecot log lines written during a failed test to its report."""
    server = getattr(item, "funcargs", {}).get("dovecot")
    if not isinstance(server, Dovecot):
        return
    if report.when == "setup":
        item.stash[_LOG_MARK] = server.log_size()
    elif report.failed:
        log = server.log_since(item.stash.get(_LOG_MARK, 0))
        report.sections.append((f"Dovecot log ({server.log_file})", log or "(empty)"))


def mark_server_tests(items: Iterable[pytest.Item]) -> None:
    """Tests that use a real server get the `servers` marker (deselect with -m "not servers")."""
    for item in items:
        if {"dovecot", "smtp_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.servers)
