"""Target 1, replay throughput: a season's realistic inbox (bench/corpus.py) replayed into a
fresh SQLite ledger from an .mbox and from Dovecot, replies off, against the floor measured
in the same run: the same messages read from the same source, parsed with the standard
library and archived by SHA-256, nothing else. RSS is noted every 1,000 messages, and a
profile of the first 1,000 says where the time goes.

Every run is a child process (bench/replay_worker.py) with its own ledger and archive; an
archive is deleted once its run is measured (a run writes about twice the inbox's size).
The ledger of the .mbox replay is kept for the database benchmark.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import corpus
from bench.common import ROOT, Deployment, Figures, Servers, deploy, into_maildir
from bench.database import cached_mbox
from bench.scale import Scale

TARGET_RATE = 150.0  # messages per second
TARGET_RATIO = 3.0  # intake's time over the floor's
PROFILED = 1_000
#: Where the .mbox replay leaves its ledger for bench/database.py.
KEPT_LEDGER = "mbox/intake.db"


def run(where: Servers, work: Path, scale: Scale) -> list[Figures]:
    total = scale.replay_messages
    mbox = cached_mbox(total)
    figures = Figures("replay_throughput")
    figures.add("messages", total)
    figures.add("inbox_mb", round(mbox.stat().st_size / 1e6))

    imap = deploy(where, work / "imap")
    figures.add("dovecot_load_s", round(_load_dovecot(where, imap, mbox, total), 1))

    results = {}
    for name, deployment, source, mode in (
        ("floor_mbox", deploy(where, work / "floor-mbox"), str(mbox), "floor"),
        ("intake_mbox", deploy(where, work / "mbox"), str(mbox), "intake"),
        ("floor_imap", imap, "sl/primary", "floor"),
        ("intake_imap", deploy_again(where, imap, work / "imap-intake"), "sl/primary", "intake"),
    ):
        result = _child(mode, deployment, source)
        shutil.rmtree(deployment.work / "archive", ignore_errors=True)
        rate = result["messages"] / result["seconds"]
        results[name] = rate
        figures.add(f"{name}_messages", result["messages"])
        figures.add(f"{name}_s", round(result["seconds"], 1))
        figures.add(f"{name}_per_s", round(rate, 1))
        if mode == "intake":
            figures.add(f"{name}_decisions", result["decisions"])
            rss = {int(k): v for k, v in result["rss_kb"].items()}
            figures.add(
                f"{name}_rss_mb_by_messages", {k: round(v[0] / 1024) for k, v in rss.items()}
            )
            figures.add(
                f"{name}_rss_with_workers_mb_by_messages",
                {k: round(v[2] / 1024) for k, v in rss.items()},
            )
            figures.add(f"{name}_peak_rss_mb", round(result["end_rss_kb"][1] / 1024))
    for source in ("mbox", "imap"):
        ratio = results[f"floor_{source}"] / results[f"intake_{source}"]
        figures.add(f"ratio_to_floor_{source}", round(ratio, 2))

    profile = deploy(where, work / "profile")
    top = _child("profile", profile, str(mbox), str(min(PROFILED, total)))["top"]
    shutil.rmtree(profile.work / "archive", ignore_errors=True)
    figures.add("profile_share_of_time", [f"{share:.0%} {name}" for share, name in top[:25]])

    slowest = min(results["intake_mbox"], results["intake_imap"])
    worst = max(figures.values["ratio_to_floor_mbox"], figures.values["ratio_to_floor_imap"])
    figures.met = slowest >= TARGET_RATE and worst <= TARGET_RATIO
    figures.note = (
        f"{slowest:.0f} msg/s at the slower source (target {TARGET_RATE:.0f}); "
        f"{worst:.2f}× the floor (target ≤ {TARGET_RATIO:.0f}×)"
    )
    return [figures]


def deploy_again(where: Servers, deployment: Deployment, work: Path) -> Deployment:
    """The same mailbox, with a ledger and archive of its own."""
    work.mkdir(parents=True, exist_ok=True)
    text = deployment.config.read_text(encoding="utf-8").replace(str(deployment.work), str(work))
    config = work / "intake.toml"
    config.write_text(text, encoding="utf-8")
    return Deployment(work, config, deployment.accounts, deployment.code)


def _child(mode: str, deployment: Deployment, source: str, *extra: str) -> dict[str, Any]:
    worker = Path(__file__).with_name("replay_worker.py")
    command = [sys.executable, str(worker), mode, str(deployment.config), source, *extra]
    done = subprocess.run(
        command, capture_output=True, text=True, env=deployment.env, cwd=ROOT, timeout=6 * 3600
    )
    if done.returncode != 0:
        raise RuntimeError(f"replay {mode} {source} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _load_dovecot(where: Servers, deployment: Deployment, mbox: Path, total: int) -> float:
    """The inbox written into the account's maildir INBOX, each message with its receive
    time, and taken in by Dovecot (APPENDing gigabytes would take longer than the replay)."""
    from bench.common import Stopwatch
    from intake.mail.mbox import Mbox

    clock = Stopwatch()
    account = deployment.accounts["primary"]
    # Logging in once makes Dovecot create the account's folders.
    where.dovecot.uids(account)
    box = Mbox(mbox, create=False)
    numbered = enumerate(zip(box.iterkeys(), corpus.plan(total), strict=True), start=1)
    into_maildir(
        where.dovecot,
        account,
        ((number, box.get_bytes(key), item.received) for number, (key, item) in numbered),
    )
    box.close()
    found = len(where.dovecot.uids(account))
    if found != total:
        raise RuntimeError(f"Dovecot holds {found} of {total} messages")
    return clock.seconds
