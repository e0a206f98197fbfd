"""SIGKILL at random points while polling and while replaying a 1,000-message inbox.

The process is started, killed with SIGKILL after a random delay, and started again, until
the kill budget is spent; then it runs to completion. Afterwards every message is recorded
exactly once with the decision a clean run gives it, and no reply reached the SMTP server
twice: a reply killed between the server's 250 and its commit is `unknown`, captured at most
once and never sent again; every other answered message got its reply exactly once.

The delays are drawn from a seeded RNG (INTAKE_KILL_SEED) and spread the kills over the whole
work, whose cost is measured first on a sample of the same inbox: before each start the work
left (messages to record, replies to send, messages a replay reads again) is estimated from
the ledger, and the next kill falls after the start-up plus 0.5 to 1.5 times its share of that
work; one kill in eight falls in the start-up instead (imports, schema check, recovery of
interrupted replies, login, a replay reading its source again). How long each command takes
to reach its work, and how fast the work goes on the machine at the time, are learnt as the
loop goes (see KillLoop). runs/trace.tsv in the test's folder has a line per start.

INTAKE_KILL_POINTS sets the number of kills (default 6 for polling and for replaying, 3 for
sending the replies a replay kept back); `pytest -m long tests/test_kill_loop.py` runs 200
(and 20). Each test prints its figures: run with -s, or -rP, to see them.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bulk_inbox import Letter, build_inbox, deliver, write_mbox
from databases import database_url
from deployment import Deployment, deploy
from servers import Dovecot, SmtpServer, TlsFiles
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.exc import DBAPIError

from intake.config import ReplySettings

KILL_POINTS = int(os.environ.get("INTAKE_KILL_POINTS", "6"))
FULL_KILL_POINTS = 200
SEED = int(os.environ.get("INTAKE_KILL_SEED", "20210521"))
#: The share of kills aimed at the start-up rather than at the work.
STARTUP_SHARE = 1 / 8
#: Per kill at most this many starts (a start that finishes before its kill is not a kill).
RUNS_PER_KILL = 4
COUNTS = [
    pytest.param(KILL_POINTS, id=f"{KILL_POINTS}-kills"),
    pytest.param(FULL_KILL_POINTS, id=f"{FULL_KILL_POINTS}-kills", marks=pytest.mark.long),
]
SETTLED = ("sent", "unknown", "failed")


def _send_kills(kills: int) -> int:
    """Kills while a replay's kept-back replies are sent: a few, more in the long run."""
    return max(3, kills // 10)


# ---------------------------------------------------------------------------- deployment


def fast_deploy(dovecot: Dovecot, smtp: SmtpServer, tmp: Path) -> Deployment:
    """tests/deployment.py's two group mailboxes, with pacing and budgets out of the way: a
    reply every 0.6 ms, and no sender or account reaches its daily limit."""
    deployment = deploy(dovecot, smtp, tmp, budget=100_000)
    text = deployment.config.read_text(encoding="utf-8")
    assert "max_per_minute = 600\n" in text
    limits = "max_per_minute = 100000\n"
    if "max_per_day" in ReplySettings.model_fields:  # replies per sending account and day
        limits += "max_per_day = 100000\n"
    deployment.config.write_text(text.replace("max_per_minute = 600\n", limits), encoding="utf-8")
    return deployment


def _intake(deployment: Deployment, *args: str) -> list[str]:
    return [sys.executable, "-m", "intake", "--config", str(deployment.config), *args]


def _sql(deployment: Deployment, query: str) -> list[tuple]:
    """Read the ledger between two runs (or change it, for the measurements only)."""
    return deployment.sql(query)


def _json(value: str | list) -> list:
    """A JSON column as read by plain SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _has_ledger(deployment: Deployment) -> bool:
    """Has a run created the ledger's tables yet? (A SQLite file that is not there yet is
    not opened: opening it would create it.)"""
    url = make_url(deployment.database)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return False
    engine = create_engine(url)
    try:
        return inspect(engine).has_table("messages")
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """What a run costs, measured on a sample of the inbox."""

    startup: float  # a poll with nothing to do: interpreter, imports, schema check, login
    per_message: float  # fetching, archiving, judging and recording one new message
    per_known: float  # a replayed message already recorded: read again, found by its hash
    per_reply: float  # sending one reply

    def describe(self) -> str:
        return (
            f"start-up {self.startup:.2f} s, {self.per_message * 1000:.0f} ms a message, "
            f"{self.per_known * 1000:.1f} ms a known one, {self.per_reply * 1000:.1f} ms a reply"
        )


def _timed(deployment: Deployment, *args: str) -> float:
    began = time.monotonic()
    done = subprocess.run(
        _intake(deployment, *args), capture_output=True, text=True, env=deployment.env, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic() - began


def _per_item(deployment: Deployment, *args: str) -> tuple[float, float]:
    """Run `intake ARGS` to its end, reading the ledger every 10 ms: (seconds per message
    recorded, seconds per reply settled), from the first change of each to its last, so the
    start-up does not count."""
    watch = _Watch(deployment, Progress.read(deployment))
    seen: list[list[tuple[float, int]]] = [[], []]  # (when, count) at each change
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            _intake(deployment, *args), env=deployment.env, stdout=output, stderr=output
        )
        began = time.monotonic()
        while process.poll() is None:
            counts = watch.counts()
            for changes, count in zip(seen, counts or (), strict=False):
                if not changes or count != changes[-1][1]:
                    changes.append((time.monotonic() - began, count))
            time.sleep(0.01)
        output.seek(0)
        assert process.returncode == 0, output.read().decode(errors="replace")
    watch.close()

    def per(changes: list[tuple[float, int]]) -> float:
        if len(changes) < 3:  # changes[0] is what the ledger held before the run
            return 0.0
        (first, start), (last, end) = changes[1], changes[-1]
        return (last - first) / (end - start)

    return per(seen[0]), per(seen[1])


@pytest.fixture(scope="module")
def inbox() -> list[Letter]:
    return build_inbox(1000)


@pytest.fixture(scope="module")
def timing(
    dovecot: Dovecot, tls_files: TlsFiles, tmp_path_factory: pytest.TempPathFactory
) -> Timing:
    """Measured on 60 messages of the same kinds, in a deployment of their own: the work
    from the ledger's changes while it is done, the rest from the runs' durations."""
    sample = [letter for letter in build_inbox(100, seed=7) if letter.group == "primary"]
    with SmtpServer(tls_files) as smtp:
        deployment = fast_deploy(dovecot, smtp, tmp_path_factory.mktemp("timing"))
        startup = _timed(deployment, "poll", "--once")  # nothing to do yet
        deliver(dovecot, {"primary": deployment.accounts["primary"]}, sample)
        per_message, _ = _per_item(deployment, "replay", "sl/primary")  # replies kept back
        rereading = _timed(deployment, "replay", "sl/primary")
        # Release the kept-back replies, as --send-replies would: a poll with nothing new
        # (the replay moved the cursor) then only sends them.
        _sql(deployment, "update outbox set state = 'pending' where state = 'suppressed'")
        _, per_reply = _per_item(deployment, "poll", "--once")
        replies = len(smtp.messages)
    assert replies == sum(1 for letter in sample if letter.answered)
    return Timing(
        startup=startup,
        per_message=per_message,
        per_known=max(rereading - startup, 0.0) / len(sample),
        per_reply=per_reply,
    )


# ---------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    """What the ledger holds between two runs, per group mailbox."""

    recorded: Counter[str]
    settled: Counter[str]  # replies sent, unknown or failed
    # Replies a killed run left in `sending` (they become unknown at the next start).
    sending: frozenset[int]

    @property
    def answered(self) -> int:
        """Replies settled, counting those a killed run left in `sending` (the next start
        makes them unknown before it does anything else)."""
        return sum(self.settled.values()) + len(self.sending)

    @staticmethod
    def read(deployment: Deployment) -> Progress:
        if not _has_ledger(deployment):
            return Progress(Counter(), Counter(), frozenset())
        recorded = Counter(
            dict(_sql(deployment, 'select "group", count(*) from messages group by 1'))
        )
        states = ",".join(f"'{state}'" for state in SETTLED)
        settled = Counter(
            dict(
                _sql(
                    deployment,
                    'select m."group", count(*) from outbox o join messages m'
                    f" on m.id = o.message_pk where o.state in ({states}) group by 1",
                )
            )
        )
        sending = _sql(deployment, "select id from outbox where state = 'sending'")
        return Progress(recorded, settled, frozenset(row_id for (row_id,) in sending))


_CHANGES = (
    "select (select count(*) from messages),"
    f" (select count(*) from outbox where state in {SETTLED})"
)


class _Watch:
    """A look at the ledger while a run goes on that never holds the run up: read-only on
    SQLite, giving up after 50 ms on a lock; on PostgreSQL, reads in autocommit (no lock
    kept between two looks) that give up as soon on a table a migration is changing."""

    def __init__(self, deployment: Deployment, before: Progress) -> None:
        url = make_url(deployment.database)
        if url.get_backend_name() == "sqlite":
            readonly = f"sqlite:///file:{url.database}?mode=ro&uri=true"
            self.engine = create_engine(readonly, connect_args={"timeout": 0.05})
        else:
            self.engine = create_engine(
                url, isolation_level="AUTOCOMMIT", connect_args={"options": "-c lock_timeout=50"}
            )
        self.recorded, self.answered = sum(before.recorded.values()), before.answered

    def counts(self) -> tuple[int, int] | None:
        """(messages recorded, replies settled); None while the ledger is busy or not yet
        made."""
        try:
            with self.engine.connect() as connection:
                [(recorded, settled)] = connection.execute(text(_CHANGES)).all()
        except DBAPIError:  # busy for a moment, or no tables yet: look again next time
            return None
        return int(recorded), int(settled)

    def changed(self) -> bool:
        """Has the run recorded a message or settled a reply yet?"""
        counts = self.counts()
        return counts is not None and (counts[0] > self.recorded or counts[1] > self.answered)

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class Step:
    """One command of a kill loop: the group mailboxes it reads, and what it does."""

    args: tuple[str, ...]
    groups: tuple[str, ...]
    rereads: bool = False  # a replay reads its whole source again on every start
    records: bool = True
    sends: bool = True


@dataclass(frozen=True)
class Model:
    """How long the steps take: the measured costs times what the ledger says is left."""

    timing: Timing
    sizes: Counter[str]  # messages per group
    answers: Counter[str]  # answered messages per group

    @staticmethod
    def of(timing: Timing, inbox: list[Letter]) -> Model:
        sizes = Counter(letter.group for letter in inbox)
        answers = Counter(letter.group for letter in inbox if letter.answered)
        return Model(timing, sizes, answers)

    def rereading(self, step: Step, progress: Progress) -> float:
        """What a replay reads again before its new work: every message already recorded."""
        known = sum(progress.recorded[group] for group in step.groups) if step.rereads else 0
        return self.timing.per_known * known

    def work(self, step: Step, progress: Progress) -> float:
        """The messages it still has to record and the replies it still has to send."""
        seconds = 0.0
        for group in step.groups:
            if step.records:
                seconds += self.timing.per_message * (self.sizes[group] - progress.recorded[group])
            if step.sends:
                seconds += self.timing.per_reply * (self.answers[group] - progress.settled[group])
        return max(seconds, 0.0)

    def done(self, before: Progress, after: Progress) -> float:
        """The work one run did, in the model's seconds."""
        recorded = sum((after.recorded - before.recorded).values())
        settled = max(after.answered - before.answered, 0)
        return self.timing.per_message * recorded + self.timing.per_reply * settled


# ---------------------------------------------------------------------------- the kill loop


@dataclass
class LoopReport:
    kills: int = 0
    runs: int = 0
    finished: int = 0
    delays: list[float] = field(default_factory=list)
    # Where the kills fell, seen from the ledger afterwards.
    phases: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def describe(self) -> str:
        delays = (
            f"delays {min(self.delays):.2f}–{max(self.delays):.2f} s"
            f" (median {statistics.median(self.delays):.2f} s)"
            if self.delays
            else "no delays"
        )
        where = ", ".join(f"{count} {phase}" for phase, count in sorted(self.phases.items()))
        return (
            f"{self.kills} kills in {self.runs} starts ({self.finished} finished first), "
            f"{delays}; kills fell: {where or '-'}; {self.seconds:.0f} s"
        )


class KillLoop:
    """Starts intake commands and kills them with SIGKILL after a chosen delay.

    Before each start the work left is estimated from the ledger; a kill aimed at the work
    falls after the start-up plus 0.5 to 1.5 times its share of that work (the work left
    divided by the kills left), so the kills spread over the whole of it. While a run starts
    the ledger is watched, read-only, for its first change: how long each command takes to
    reach its work (a replay reads its whole source again first, an .mbox even before the
    first message), and how fast the work then goes on this machine now, are learnt from
    the runs so far."""

    def __init__(self, deployment: Deployment, rng: random.Random, model: Model) -> None:
        self.deployment = deployment
        self.rng = rng
        self.model = model
        self.logs = deployment.tmp / "runs"
        self.logs.mkdir(exist_ok=True)
        self.started = 0
        # Per command: seconds from the start to its first change, as last seen; raised
        # past a kill that came before any change. A replay's grows as it knows more.
        self.reach: dict[tuple[str, ...], float] = {}
        # Killed runs: (seconds of work after the first change, the same in model seconds).
        self.worked: list[tuple[float, float]] = []

    def startup(self, step: Step, progress: Progress) -> float:
        """Seconds from the start to the command's first change."""
        guess = self.model.timing.startup + self.model.rereading(step, progress)
        return self.reach.get(step.args, guess)

    def pace(self) -> float:
        """Real seconds per modelled second of work, from the last killed runs."""
        recent = self.worked[-30:]
        spent, modelled = sum(s for s, _ in recent), sum(m for _, m in recent)
        return min(max(spent / modelled, 0.25), 4.0) if modelled > 0.2 else 1.0

    def start(
        self, args: tuple[str, ...], delay: float | None, before: Progress | None = None
    ) -> tuple[bool, float, float | None]:
        """Run `intake ARGS` and kill it after `delay` seconds (None: let it finish); with
        `before`, watch the ledger for the run's first change. Returns (finished, seconds,
        seconds to the first change or None). A run that exits other than 0 fails the test."""
        self.started += 1
        log = self.logs / f"{self.started:04d}.log"
        limit = 600.0 if delay is None else delay
        first: float | None = None
        watch = _Watch(self.deployment, before) if before is not None else None
        with log.open("wb") as output:
            process = subprocess.Popen(
                _intake(self.deployment, *args),
                env=self.deployment.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,  # its own group: the kill reaches anything it started
            )
            began = time.monotonic()
            while process.poll() is None:
                now = time.monotonic() - began
                if now >= limit:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    break
                if first is None and watch is not None and watch.changed():
                    first = now
                time.sleep(min(0.01, limit - now))
            elapsed = time.monotonic() - began
        if watch is not None:
            watch.close()
        if process.returncode == -signal.SIGKILL:
            if delay is None:
                pytest.fail(f"intake {' '.join(args)} did not finish; see {log}")
            return False, elapsed, first
        if process.returncode != 0:
            tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            pytest.fail(f"intake {' '.join(args)} exited with {process.returncode}:\n{tail}")
        return True, elapsed, first

    def run(self, steps: list[Step], kills: int) -> LoopReport:
        """Kill the steps, in order, `kills` times; a step that finishes gives way to the
        next, the last one is started again until the budget is spent. Then every step not
        yet finished runs to completion."""
        model, report = self.model, LoopReport()
        began = time.monotonic()
        current = 0
        while report.kills < kills and report.runs < RUNS_PER_KILL * kills + 20:
            step = steps[current]
            before = Progress.read(self.deployment)
            base = self.startup(step, before)
            work = sum(model.work(later, before) for later in steps[current:])
            work += sum(model.rereading(later, before) for later in steps[current + 1 :])
            if work <= 0 or self.rng.random() < STARTUP_SHARE:
                delay = self.rng.uniform(0, base)
            else:
                share = self.pace() * work / (kills - report.kills)
                delay = base + share * self.rng.uniform(0.5, 1.5)
            report.runs += 1
            finished, elapsed, first = self.start(step.args, delay, before)
            after = Progress.read(self.deployment)
            if first is not None:
                self.reach[step.args] = first
                if not finished and (done := model.done(before, after)) > 0:
                    self.worked.append((elapsed - first, done))
            elif not finished and delay >= base:
                self.reach[step.args] = delay + 0.1
            self._trace(step, delay, base, work, elapsed, first, finished, before, after)
            if finished:
                report.finished += 1
                current = min(current + 1, len(steps) - 1)
                continue
            report.kills += 1
            report.delays.append(delay)
            report.phases[_phase(before, after)] += 1
        assert report.kills == kills, (
            f"only {report.kills} of {kills} kills in {report.runs} starts"
        )
        for step in steps[current:]:
            assert self.start(step.args, None)[0]
        report.seconds = time.monotonic() - began
        return report

    def _trace(
        self,
        step: Step,
        delay: float,
        base: float,
        work: float,
        elapsed: float,
        first: float | None,
        finished: bool,
        before: Progress,
        after: Progress,
    ) -> None:
        """One line per start in runs/trace.tsv, to see where the kills fell."""
        fields = (
            self.started,
            " ".join(step.args),
            f"{delay:.3f}",
            f"{base:.3f}",
            f"{work:.2f}",
            f"{self.pace():.2f}",
            f"{elapsed:.3f}",
            "-" if first is None else f"{first:.3f}",
            "finished" if finished else "killed",
            sum((after.recorded - before.recorded).values()),
            sum((after.settled - before.settled).values()),
            len(after.sending - before.sending),
            _phase(before, after),
        )
        with (self.logs / "trace.tsv").open("a", encoding="utf-8") as trace:
            trace.write("\t".join(str(field) for field in fields) + "\n")


def _phase(before: Progress, after: Progress) -> str:
    """Where a kill fell, judged by what the killed run left behind."""
    if after.sending - before.sending:  # a reply it claimed, not one an earlier run left
        return "while sending"
    if after.answered > before.answered:
        return "between replies"
    if after.recorded != before.recorded:
        return "while recording"
    return "before any change"


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Captured:
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    recipients: tuple[str, ...]


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>")


def captured(smtp: SmtpServer) -> list[Captured]:
    parser = email.parser.BytesHeaderParser()
    found = []
    for message in smtp.messages:
        headers = parser.parsebytes(message.raw)
        found.append(
            Captured(
                _bare(str(headers["Message-ID"] or "")),
                _bare(str(headers["In-Reply-To"] or "")),
                tuple(_bare(r) for r in str(headers["References"] or "").split()),
                message.rcpt_tos,
            )
        )
    return found


def check_ledger(deployment: Deployment, inbox: list[Letter], exact_bytes: bool) -> None:
    """Every message recorded exactly once, with the decision a clean run gives it, its raw
    bytes archived whole, and seen in exactly one place."""
    rows = _sql(
        deployment,
        "select id, message_id, sha256, decision, reasons, raw_path from messages order by id",
    )
    by_id = {_bare(letter.message_id): letter for letter in inbox}
    recorded = Counter(_bare(row[1]) for row in rows)
    assert len(rows) == len(inbox), f"{len(rows)} messages recorded, {len(inbox)} delivered"
    assert [mid for mid, count in recorded.items() if count > 1] == []
    assert set(recorded) == set(by_id)
    if exact_bytes:  # what the server gave is what was delivered, byte for byte
        assert {row[2] for row in rows} == {hashlib.sha256(x.raw).hexdigest() for x in inbox}
    wrong = [
        (row[1], row[3], _json(row[4]), by_id[_bare(row[1])].decision)
        for row in rows
        if (row[3], tuple(_json(row[4])))
        != (by_id[_bare(row[1])].decision, by_id[_bare(row[1])].reasons)
    ]
    assert wrong == [], f"{len(wrong)} decisions differ from a clean run: {wrong[:5]}"
    damaged = [
        row[0] for row in rows if hashlib.sha256(Path(row[5]).read_bytes()).hexdigest() != row[2]
    ]
    assert damaged == [], f"archived raw files that do not match their hash: {damaged[:5]}"
    places = _sql(deployment, "select message_pk, mailbox, folder, uidvalidity, uid from locations")
    assert len(places) == len(inbox)
    assert len({place[1:] for place in places}) == len(places), "a place recorded twice"
    assert sorted(place[0] for place in places) == sorted(row[0] for row in rows)


@dataclass(frozen=True)
class ReplyFigures:
    captured: int
    sent: int
    unknown: int
    unknown_captured: int

    def describe(self) -> str:
        return (
            f"{self.captured} replies captured, 0 sent twice, {self.unknown} unknown "
            f"({self.unknown_captured} of them reached the server)"
        )


def check_replies(deployment: Deployment, inbox: list[Letter]) -> ReplyFigures:
    """At most one reply per submission on the server; every answered submission has its
    reply sent or (killed mid-send) unknown, none lost in `pending` or `sending`."""
    rows = _sql(
        deployment,
        "select o.reply_message_id, o.state, m.message_id from outbox o"
        " join messages m on m.id = o.message_pk",
    )
    got = captured(deployment.smtp)
    by_id = {_bare(letter.message_id): letter for letter in inbox}
    states = {_bare(reply): state for reply, state, _ in rows}

    # The server's side: one reply per submission, each at most once, each one we queued.
    assert [m for m, n in Counter(c.message_id for c in got).items() if n > 1] == []
    assert [m for m, n in Counter(c.in_reply_to for c in got).items() if n > 1] == []
    assert {c.in_reply_to for c in got} <= set(by_id)
    assert all(c.references[-1:] == (c.in_reply_to,) for c in got)
    assert {c.message_id for c in got} <= set(states), "a reply the ledger does not know"
    answering = {_bare(reply): _bare(message) for reply, _, message in rows}
    assert all(answering[c.message_id] == c.in_reply_to for c in got)
    assert all(c.recipients == (by_id[c.in_reply_to].sender,) for c in got)
    # The ledger's side: one reply per answered submission, sent or unknown.
    answered = {mid for mid, letter in by_id.items() if letter.answered}
    assert Counter(_bare(m) for _, _, m in rows) == Counter(answered)
    left = Counter(states.values())
    assert set(left) <= {"sent", "unknown"}, f"replies left behind: {left}"
    on_server = {c.message_id for c in got}
    assert [m for m, s in states.items() if s == "sent" and m not in on_server] == []
    unknown = [m for m, s in states.items() if s == "unknown"]
    figures = ReplyFigures(
        captured=len(got),
        sent=left["sent"],
        unknown=len(unknown),
        unknown_captured=sum(1 for m in unknown if m in on_server),
    )
    assert figures.captured == figures.sent + figures.unknown_captured
    return figures


def check_cursors(deployment: Deployment, highest: dict[str, int], groups: tuple[str, ...]) -> None:
    """Each polled INBOX's cursor stands on its highest UID under its UIDVALIDITY."""
    cursors = {
        (mailbox, folder): (validity, uid)
        for mailbox, folder, validity, uid in _sql(
            deployment, "select mailbox, folder, uidvalidity, last_uid from cursors"
        )
    }
    for group in groups:
        account = deployment.accounts[group]
        validity = deployment.dovecot.uidvalidity(account)
        assert cursors[(account, "INBOX")] == (validity, highest[group]), group


def _say(line: str) -> None:
    print(line, flush=True)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Seeded per test: INTAKE_KILL_SEED and the test's name give the same kills again."""
    return random.Random(f"{SEED}-{request.node.name}")


# ---------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("kills", COUNTS)
def test_polling_killed_at_random_points_records_and_answers_each_message_once(
    kills: int,
    inbox: list[Letter],
    timing: Timing,
    rng: random.Random,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    """Both group mailboxes polled by `poll --once`, which also sends the replies due."""
    deployment = fast_deploy(dovecot, smtp_server, tmp_path)
    highest = deliver(dovecot, deployment.accounts, inbox)
    # The ledger is created before the loop: a kill inside the very first schema creation
    # is test_a_kill_during_a_schema_upgrade_leaves_a_ledger_the_next_start_opens.
    deployment.intake("db", "upgrade")
    model = Model.of(timing, inbox)
    loop = KillLoop(deployment, rng, model)
    poll = Step(("poll", "--once"), ("primary", "junior"))

    report = loop.run([poll], kills)
    if Progress.read(deployment).settled != model.answers:
        assert loop.start(poll.args, None)[0]  # once more, for replies retried later

    check_ledger(deployment, inbox, exact_bytes=True)
    check_cursors(deployment, highest, ("primary", "junior"))
    replies = check_replies(deployment, inbox)
    _say(f"seed {SEED}; timing: {timing.describe()}")
    _say(
        f"SIGKILL at {report.kills} random points during polling of {len(inbox):,} messages: "
        f"{len(inbox):,} recorded, 0 duplicates, {replies.describe()}; {report.describe()}"
    )


@pytest.mark.parametrize("kills", COUNTS)
def test_replaying_killed_at_random_points_records_each_message_once_and_answers_once(
    kills: int,
    inbox: list[Letter],
    timing: Timing,
    rng: random.Random,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    """The primary mailbox is replayed from the IMAP server, the junior one from an .mbox
    export; a replay keeps the replies back, and `--send-replies` then sends each once."""
    deployment = fast_deploy(dovecot, smtp_server, tmp_path)
    primary = [letter for letter in inbox if letter.group == "primary"]
    highest = deliver(dovecot, {"primary": deployment.accounts["primary"]}, primary)
    export = write_mbox(tmp_path / "junior.mbox", [x for x in inbox if x.group == "junior"])
    deployment.intake("db", "upgrade")
    model = Model.of(timing, inbox)
    loop = KillLoop(deployment, rng, model)
    from_mbox = (str(export), "--mailbox", "sl/junior")
    recording = [
        Step(("replay", "sl/primary"), ("primary",), rereads=True, sends=False),
        Step(("replay", *from_mbox), ("junior",), rereads=True, sends=False),
    ]

    report = loop.run(recording, kills)
    check_ledger(deployment, inbox, exact_bytes=True)
    check_cursors(deployment, highest, ("primary",))
    assert deployment.smtp.messages == [], "a replay sent a reply nobody asked for"
    assert Counter(state for (state,) in _sql(deployment, "select state from outbox")) == {
        "suppressed": sum(model.answers.values())
    }

    sending = [
        Step(("replay", "sl/primary", "--send-replies"), ("primary",), rereads=True, records=False),
        Step(("replay", *from_mbox, "--send-replies"), ("junior",), rereads=True, records=False),
    ]
    released = loop.run(sending, _send_kills(kills))
    check_ledger(deployment, inbox, exact_bytes=True)
    replies = check_replies(deployment, inbox)
    _say(f"seed {SEED}; timing: {timing.describe()}")
    _say(
        f"SIGKILL at {report.kills} random points during replay of {len(inbox):,} messages "
        f"(IMAP and .mbox): {len(inbox):,} recorded, 0 duplicates, 0 replies sent; "
        f"{report.describe()}"
    )
    _say(
        f"SIGKILL at {released.kills} random points during --send-replies: "
        f"{replies.describe()}; {released.describe()}"
    )


# ---------------------------------------------------------------------------- schema upgrade

_KILL_AFTER = """
import os, signal, sys
from sqlalchemy import event
from intake.store.db import make_engine, upgrade
engine = make_engine(sys.argv[1])
seen = []

@event.listens_for(engine, "after_cursor_execute")
def die(connection, cursor, statement, parameters, context, many):
    if statement.lstrip().upper().startswith("CREATE TABLE"):
        seen.append(statement)
        if len(seen) == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)

upgrade(engine)
"""

_UPGRADE = """
import sys
from sqlalchemy import inspect
from intake.store.db import make_engine, upgrade
engine = make_engine(sys.argv[1])
upgrade(engine)
print(" ".join(sorted(inspect(engine).get_table_names())))
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("first", "kill_at"),
    [
        pytest.param(None, 3, id="creating-the-ledger"),
        pytest.param("0006", 1, id="upgrading-an-existing-ledger"),
    ],
)
def test_a_kill_during_a_schema_upgrade_leaves_a_ledger_the_next_start_opens(
    first: str | None, kill_at: int, tmp_path: Path
) -> None:
    """SIGKILL right after a CREATE TABLE of a migration, on a new ledger and on one a new
    release upgrades: pysqlite would have committed the table without its alembic_version
    row, and every later start would fail on "table already exists". (On PostgreSQL the
    upgrade's one transaction dies with the process.)"""
    url = database_url(tmp_path)
    if first is not None:
        _prepare = (
            "import sys\nfrom alembic import command\nfrom alembic.config import Config\n"
            "from intake.store.db import MIGRATIONS, make_engine\n"
            "config = Config()\nconfig.set_main_option('script_location', str(MIGRATIONS))\n"
            "with make_engine(sys.argv[1]).begin() as connection:\n"
            "    config.attributes['connection'] = connection\n"
            "    command.upgrade(config, sys.argv[2])\n"
        )
        assert _python("-c", _prepare, url, first).returncode == 0
    killed = _python("-c", _KILL_AFTER, url, str(kill_at))
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    again = _python("-c", _UPGRADE, url)  # what every intake command does first
    assert again.returncode == 0, again.stderr[-2000:]
    assert {"actions", "messages", "outbox", "cursors"} <= set(again.stdout.split())
