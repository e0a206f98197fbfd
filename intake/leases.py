"""Leases: which of several `intake run` processes sharing one database does what.

Each process is a holder named `host:pid:start`. It takes a lease per mailbox it polls
(`mailbox:<campaign/group>`), one of them takes `outbox` (replies, digests, alerts, 超大附件
downloads), and each keeps `process:<holder>` to say it is alive; all are renewed well before
they expire. A lease is taken over when it has expired, or at once when its holder was a
process of this machine that no longer runs (a kill, a crash, a restart by systemd).

Taking and renewing are compare-and-set updates on the row as it was read, so they behave the
same on SQLite and PostgreSQL: of two processes only one wins. The uniqueness of a message's
SHA-256 and of a reply per message still guards the ledger if a lease is ever lost mid-work.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.clock import Clock
from intake.store.db import transaction
from intake.store.models import Lease

log = logging.getLogger(__name__)

OUTBOX = "outbox"
PROCESS = "process:"
MAILBOX = "mailbox:"


def mailbox_lease(key: str) -> str:
    return MAILBOX + key


def this_process() -> str:
    """The holder name of this process: host, pid and the pid's start time, so a later
    process that reuses the pid is not mistaken for it."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_started(pid) or 0}"


def gone(holder: str) -> bool:
    """True when `holder` was a process of this machine that no longer runs. A holder on
    another machine is never known to be gone: its lease has to expire."""
    host, _, rest = holder.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    started = _started(int(pid_text))
    if started is None:
        return True
    return start != "0" and str(started) != start


def _started(pid: int) -> int | None:
    """When a process started (clock ticks since boot); None if it no longer runs or is a
    zombie. Where /proc is missing, a process that answers signal 0 counts as running."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        text = stat.read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return _signal_zero(pid)
    fields = text.rpartition(")")[2].split()  # the name in parentheses may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _signal_zero(pid: int) -> int | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return 0
    return 0


class Leases:
    """The leases this process holds, taken and renewed in the database."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        ttl: timedelta,
        holder: str | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.ttl = ttl
        self.holder = holder or this_process()
        self._held: dict[str, datetime] = {}  # lease name → when it was last renewed
        self._lock = threading.Lock()

    def take(self, name: str) -> bool:
        """Take or renew `name`; True while this process holds it."""
        now = self.clock.now()
        try:
            taken = self._take(name, now)
        except IntegrityError:  # another process created it at the same moment
            taken = False
        with self._lock:
            if taken:
                self._held[name] = now
            elif self._held.pop(name, None) is not None:
                log.warning("lease %s lost to another process", name)
        return taken

    def newly_taken(self, name: str) -> bool:
        """Take `name`; True only when this process did not hold it just before (so what
        its previous holder left half-done is now this process's to clear up)."""
        with self._lock:
            held_before = name in self._held
        return self.take(name) and not held_before

    def keep(self, name: str) -> bool:
        """Still ours? Renewed when a third of its time has passed: called between messages
        of a long poll, so the lease never lapses while the work goes on."""
        with self._lock:
            renewed = self._held.get(name)
        if renewed is None:
            return False
        if self.clock.now() - renewed < self.ttl / 3:
            return True
        return self.take(name)

    def renew(self) -> None:
        """Renew every lease held, and this process's own: the heartbeat of `intake run`."""
        with self._lock:
            names = [*self._held]
        for name in {*names, PROCESS + self.holder}:
            self.take(name)

    def release(self, name: str) -> None:
        with self._lock:
            self._held.pop(name, None)
        with transaction(self.factory) as session:
            session.execute(delete(Lease).where(Lease.name == name, Lease.holder == self.holder))

    def release_all(self) -> None:
        """Give everything up at a clean stop, so another process takes over at once."""
        with self._lock:
            self._held.clear()
        with transaction(self.factory) as session:
            session.execute(delete(Lease).where(Lease.holder == self.holder))

    def fair_share(self, total: int) -> int:
        """How many of `total` mailboxes this process should poll: an equal part among the
        processes alive, rounded up, so together they poll every one."""
        if not self.keep(PROCESS + self.holder):
            self.take(PROCESS + self.holder)
        now = self.clock.now()
        with self.factory() as session:
            holders = session.scalars(
                select(Lease.holder).where(Lease.name.startswith(PROCESS), Lease.expires_at > now)
            ).all()
        # A process of this machine that was killed counts no more, though its lease runs on.
        dead = [holder for holder in holders if holder != self.holder and gone(holder)]
        if dead:
            with transaction(self.factory) as session:
                session.execute(delete(Lease).where(Lease.name.in_([PROCESS + h for h in dead])))
        return math.ceil(total / max(len(holders) - len(dead), 1))

    def held(self, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(name for name in self._held if name.startswith(prefix))

    def _take(self, name: str, now: datetime) -> bool:
        until = now + self.ttl
        with transaction(self.factory) as session:
            row = session.get(Lease, name)
            if row is None:
                session.add(Lease(name=name, holder=self.holder, acquired_at=now, expires_at=until))
                session.flush()
                return True
            if row.holder != self.holder and row.expires_at > now and not gone(row.holder):
                return False
            if row.holder != self.holder:
                log.info("lease %s taken over from %s", name, row.holder)
            acquired = row.acquired_at if row.holder == self.holder else now
            # Compare-and-set on the row as read: of two processes, only one wins.
            result = session.execute(
                update(Lease)
                .where(
                    Lease.name == name,
                    Lease.holder == row.holder,
                    Lease.expires_at == row.expires_at,
                )
                .values(holder=self.holder, acquired_at=acquired, expires_at=until)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1
