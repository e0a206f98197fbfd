"""Leases, the outbox claim and the day's digest claim, between processes sharing a ledger.

Processes are stood for by `Leases` objects with holder names of their own, on the test
database (SQLite, or PostgreSQL with INTAKE_TEST_DATABASE), with a clock the test moves.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from databases import database_url
from sqlalchemy import select

from intake import digests
from intake.leases import OUTBOX, PROCESS, Leases, gone, this_process
from intake.outbox import _claim_next, recover_interrupted
from intake.store.db import make_engine, session_factory, transaction, upgrade
from intake.store.models import DigestRun, Lease, Message, OutboxReply

START = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url(tmp_path), busy_timeout=10)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def _other_host(name: str) -> str:
    """A holder on another machine: never known to be gone, only expired."""
    return f"other-{name}.example:4242:1"


def test_a_lease_is_held_by_one_process_until_it_expires(factory) -> None:
    clock = Clock()
    one = Leases(factory, clock, TTL, _other_host("one"))
    two = Leases(factory, clock, TTL, _other_host("two"))
    assert one.take("mailbox:sl/primary")
    assert not two.take("mailbox:sl/primary")
    clock.moment += TTL - timedelta(seconds=1)
    assert not two.take("mailbox:sl/primary")  # not yet expired
    assert one.take("mailbox:sl/primary")  # renewed: another full TTL from now
    clock.moment += TTL - timedelta(seconds=1)
    assert not two.take("mailbox:sl/primary")
    clock.moment += timedelta(seconds=2)  # one stopped renewing: expired
    assert two.take("mailbox:sl/primary")
    assert not one.keep("mailbox:sl/primary")  # one learns it is no longer its own
    assert one.held() == [] and two.held() == ["mailbox:sl/primary"]
    with factory() as session:
        row = session.get_one(Lease, "mailbox:sl/primary")
        assert (row.holder, row.expires_at) == (two.holder, clock.moment + TTL)


def test_a_lease_of_a_process_of_this_machine_that_died_is_taken_at_once(factory) -> None:
    clock = Clock()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    holder = f"{socket.gethostname()}:{dead.stdout.strip()}:123"
    assert gone(holder) and not gone(this_process())
    assert not gone(_other_host("x"))
    # The same pid running now, but started at another moment, is another process.
    assert gone(f"{socket.gethostname()}:{os.getpid()}:1")
    Leases(factory, clock, TTL, holder).take(OUTBOX)
    assert Leases(factory, clock, TTL).take(OUTBOX)  # no waiting for the TTL


def test_of_many_processes_taking_one_lease_at_once_one_wins(factory) -> None:
    clock = Clock()
    contenders = [Leases(factory, clock, TTL, _other_host(str(n))) for n in range(8)]
    for round_ in range(3):  # free, then expired: both ways of taking it race
        results: list[bool] = []
        barrier = threading.Barrier(len(contenders))

        threads = [
            threading.Thread(target=_race, args=(barrier, leases, results)) for leases in contenders
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results.count(True) == 1, (round_, results)
        clock.moment += TTL * 2


def _race(barrier: threading.Barrier, leases: Leases, results: list[bool]) -> None:
    barrier.wait()
    results.append(leases.take(OUTBOX))


def test_each_process_polls_its_fair_share_and_a_dead_one_stops_counting(factory) -> None:
    clock = Clock()
    processes = [Leases(factory, clock, TTL, _other_host(str(n))) for n in range(3)]
    assert [p.fair_share(6) for p in processes] == [6, 3, 2]  # as each one arrives
    assert [p.fair_share(6) for p in processes] == [2, 2, 2]
    assert [p.fair_share(7) for p in processes] == [3, 3, 3]  # rounded up: none left out
    clock.moment += TTL / 2
    processes[0].renew()
    processes[1].renew()
    clock.moment += TTL * 3 / 4  # the third stopped renewing
    assert processes[0].fair_share(6) == 3


def test_only_a_new_holder_of_the_outbox_settles_what_another_left_sending(factory) -> None:
    clock = Clock()
    with transaction(factory) as session:
        message = _message(session)
        session.add_all(
            [_reply(message, n, "sending", claimed_by=_other_host("dead")) for n in range(2)]
            + [_reply(message, 2, "pending")]
        )
    one = Leases(factory, clock, TTL, _other_host("one"))
    assert one.newly_taken(OUTBOX)
    assert recover_interrupted(factory, one.holder) == 2
    # Its own claim is not someone else's leftover.
    assert _claim_next(factory, clock.now(), set(), one.holder) is not None
    assert recover_interrupted(factory, one.holder) == 0
    assert not one.newly_taken(OUTBOX)  # renewed, not newly taken: nothing to settle
    with factory() as session:
        states = Counter(session.scalars(select(OutboxReply.state)))
    assert states == Counter({"unknown": 2, "sending": 1})


def test_replies_claimed_by_concurrent_senders_are_each_claimed_once(factory) -> None:
    """Eight senders claim at once from 200 due replies (FOR UPDATE SKIP LOCKED on
    PostgreSQL, one writer at a time on SQLite): every reply goes to exactly one of them."""
    with transaction(factory) as session:
        message = _message(session)
        session.add_all([_reply(message, n, "pending") for n in range(200)])
    claimed: list[tuple[str, int]] = []
    barrier = threading.Barrier(8)

    def sender(name: str) -> None:
        barrier.wait()
        while (row_id := _claim_next(factory, START, set(), name)) is not None:
            claimed.append((name, row_id))

    threads = [threading.Thread(target=sender, args=(f"s{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = Counter(row_id for _, row_id in claimed)
    assert len(ids) == 200 and set(ids.values()) == {1}
    with factory() as session:
        rows = session.execute(select(OutboxReply.id, OutboxReply.claimed_by)).all()
    assert {row.id: row.claimed_by for row in rows} == dict((i, n) for n, i in claimed)
    assert len({name for name, _ in claimed}) >= 2  # they really did share the work


def test_a_days_digest_is_claimed_once_and_again_the_next_day(factory) -> None:
    first_day = digests.Prepared("sl", date(2026, 5, 20), None, START, "s", "<p>", "t")
    assert digests._claim(factory, first_day)
    assert not digests._claim(factory, first_day)  # another process, the same day
    later = START + timedelta(days=1)
    next_day = digests.Prepared("sl", date(2026, 5, 21), START, later, "s", "<p>", "t")
    assert digests._claim(factory, next_day)
    digests.recover_interrupted(factory)  # the sender died before noting either as sent
    assert not digests._claim(factory, first_day)  # `unknown`: never sent twice
    with factory() as session:
        rows = session.execute(select(DigestRun.day, DigestRun.state).order_by(DigestRun.day))
        assert [tuple(row) for row in rows] == [
            ("2026-05-20", "unknown"),
            ("2026-05-21", "unknown"),
        ]


def test_of_many_processes_claiming_a_days_digest_at_once_one_sends_it(factory) -> None:
    day = digests.Prepared("sl", date(2026, 5, 20), None, START, "s", "<p>", "t")
    for setup in ("no row yet", "failed before"):
        if setup == "failed before":
            with transaction(factory) as session:
                session.get_one(DigestRun, 1).state = "failed"
        results: list[bool] = []
        barrier = threading.Barrier(8)
        threads = [
            threading.Thread(target=_claim_digest, args=(barrier, factory, day, results))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results.count(True) == 1, (setup, results)


def _claim_digest(barrier, factory, day, results: list[bool]) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()
    results.append(digests._claim(factory, day))


def test_a_clean_stop_gives_every_lease_back(factory) -> None:
    clock = Clock()
    one = Leases(factory, clock, TTL, _other_host("one"))
    one.take(OUTBOX)
    one.take("mailbox:sl/primary")
    one.renew()
    assert one.held() == ["mailbox:sl/primary", OUTBOX, PROCESS + one.holder]
    one.release_all()
    with factory() as session:
        assert session.scalars(select(Lease.name)).all() == []
    assert Leases(factory, clock, TTL, _other_host("two")).take(OUTBOX)


def _message(session) -> Message:  # type: ignore[no-untyped-def]
    message = Message(
        sha256="0" * 64,
        message_id="m@school.example",
        campaign="sl",
        group="primary",
        mailbox="sl/primary",
        received_at=START,
        raw_path="/dev/null",
        size=1,
        sender="t@school.example",
        decision="accepted",
    )
    session.add(message)
    session.flush()
    return message


def _reply(message: Message, number: int, state: str, claimed_by: str = "") -> OutboxReply:
    return OutboxReply(
        message_pk=message.id,
        campaign="sl",
        account="bot@qq.example",
        recipient="t@school.example",
        reply_message_id=f"reply-{number}@intake",
        subject="回执",
        raw=b"reply",
        state=state,
        claimed_by=claimed_by,
        next_attempt_at=START - timedelta(minutes=1),
    )
