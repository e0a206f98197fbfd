"""The measured side of the replay benchmark, run as a child process of its own.

    python bench/replay_worker.py MODE CONFIG SOURCE

MODE is `intake` (the replay as `intake replay SOURCE` does it, SOURCE a .mbox or the
configured mailbox "sl/primary"), `profile` (the same under cProfile, for where the time
goes) or `floor` (the same messages from the same source, parsed with the standard library
and archived by SHA-256, nothing else). Prints one line of JSON.
"""

from __future__ import annotations

import cProfile
import email
import hashlib
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: RSS is noted after each this many messages.
EVERY = 1_000


def _rss_kb(pid: int | str = "self") -> tuple[int, int]:
    values = {"VmRSS": 0, "VmHWM": 0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            values[line.split(":")[0]] = int(line.split()[1])
    return values["VmRSS"], values["VmHWM"]


def _family_rss_kb() -> int:
    """This process's resident memory plus its worker processes' (children and theirs)."""
    total, pending = 0, [os.getpid()]
    while pending:
        pid = pending.pop()
        try:
            total += _rss_kb(pid)[0]
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue  # a worker that has just ended
    return total


def _app(config: str) -> Any:
    from intake.app import build
    from intake.config import load_config

    return build(load_config(Path(config)))


def intake_replay(
    config: str, source: str, limit: int = 0, workers: int | None = None
) -> dict[str, Any]:
    from intake import replay

    app = _app(config)
    rss: dict[int, list[int]] = {}  # by messages seen: this process's RSS, peak, with workers
    seen = 0

    def noted() -> None:
        nonlocal seen
        seen += 1
        if seen % EVERY == 0:
            rss[seen] = [*_rss_kb(), _family_rss_kb()]
        if limit and seen >= limit:
            raise _Enough

    started = time.perf_counter()
    found = replay.open_source(app, source, "sl/primary")
    opened = time.perf_counter() - started
    try:
        report = replay.replay(app, found, False, noted, workers)
        decisions = dict(report.decisions)
    except _Enough:
        decisions = {}
    seconds = time.perf_counter() - started
    app.close()
    return {
        "messages": seen,
        "seconds": seconds,
        "open_seconds": opened,
        "decisions": decisions,
        "rss_kb": rss,
        "end_rss_kb": list(_rss_kb()),
    }


class _Enough(Exception):
    """The profile has seen enough messages."""


def profile(config: str, source: str, limit: int) -> dict[str, Any]:
    profiler = cProfile.Profile()
    profiler.enable()
    # In one process: the profile then sees all the work, reading included.
    result = intake_replay(config, source, limit, workers=1)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = max(result["seconds"], 1e-9)
    shares = []
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        cumulative = row[3]
        if "/intake/" in filename or name in ("a2b_base64", "openssl_sha256", "fsync"):
            where = filename.split("/intake/")[-1] if "/intake/" in filename else "builtins"
            shares.append((round(cumulative / total, 3), f"{where}:{name}"))
    shares.sort(reverse=True)
    return {"messages": result["messages"], "top": shares[:40]}


# --- the floor: fetch, parse with the standard library, archive by SHA-256 -----------------


def floor(config: str, source: str) -> dict[str, Any]:
    from intake.config import load_config

    loaded = load_config(Path(config))
    settings = loaded.settings
    archive = loaded.path(settings.storage.archive_dir)
    seen = 0
    started = time.perf_counter()
    messages = _from_mbox(source) if source.endswith(".mbox") else _from_imap(settings)
    for raw in messages:
        _archive(archive, raw, "eml")
        message = email.message_from_bytes(raw)
        for part in message.walk():
            if part.get_filename():
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    _archive(archive, payload, "bin")
        seen += 1
    return {"messages": seen, "seconds": time.perf_counter() - started}


def _from_mbox(path: str) -> Iterator[bytes]:
    from intake.mail.mbox import Mbox  # the same table of contents intake's replay uses

    box = Mbox(path, create=False)
    for key in box.iterkeys():
        yield box.get_bytes(key).replace(b"\n", b"\r\n")


def _from_imap(settings: Any) -> Iterator[bytes]:
    from imapclient import IMAPClient

    from intake.mail.smtp import tls_context

    box = next(iter(next(iter(settings.campaigns.values())).groups.values())).mailbox
    client = IMAPClient(
        box.imap_host, port=box.imap_port, ssl=True, ssl_context=tls_context(box.ca_file)
    )
    client._imap.debug = 0  # no tracing at all
    client.login(box.account, box.auth_code())
    client.select_folder("INBOX", readonly=True)
    uids = sorted(client.search(["ALL"]))
    for start in range(0, len(uids), 20):  # intake's batch size
        answers = client.fetch(uids[start : start + 20], ["BODY.PEEK[]", "INTERNALDATE"])
        for uid in uids[start : start + 20]:
            yield bytes(answers[uid][b"BODY[]"])
    client.logout()


def _archive(root: Path, data: bytes, ending: str) -> None:
    """Write once by SHA-256 and sync, as intake's archive does."""
    sha = hashlib.sha256(data).hexdigest()
    path = root / sha[:2] / f"{sha}.{ending}"
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{sha}.part")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def main(argv: list[str]) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    mode, config, source = argv[:3]
    if mode == "intake":
        result = intake_replay(config, source)
    elif mode == "profile":
        result = profile(config, source, int(argv[3]))
    elif mode == "floor":
        result = floor(config, source)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main(sys.argv[1:])
