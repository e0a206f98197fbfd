"""The fast table of contents of an .mbox finds exactly the messages mailbox.mbox finds."""

from __future__ import annotations

import mailbox
import random
from pathlib import Path

import pytest

from intake.mail.mbox import Mbox

_PIECES = (
    b"From a@b Thu Jan  1 00:00:00 1970\n",
    b"From b\n",
    b"\n",
    b"text\n",
    b">From quoted\n",
    b"From\n",
    b"\r\n",
    b"From c\r\n",
    b"x",
    b"\n\n",
    b"From ",
)


def _tables(path: Path) -> tuple[object, object]:
    standard, fast = mailbox.mbox(path, create=False), Mbox(path, create=False)
    try:
        return (
            (standard.keys(), [standard.get_bytes(k) for k in standard.iterkeys()]),
            (fast.keys(), [fast.get_bytes(k) for k in fast.iterkeys()]),
        )
    finally:
        standard.close()
        fast.close()


@pytest.mark.parametrize(("seed", "block"), [(0, 1), (1, 2), (2, 5), (3, 7), (4, 1 << 20)])
def test_random_files_give_the_same_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, block: int
) -> None:
    # Tiny blocks put every "From " line across a block boundary somewhere.
    monkeypatch.setattr(Mbox, "block", block)
    rng = random.Random(seed)
    for number in range(300):
        path = tmp_path / f"{number}.mbox"
        path.write_bytes(b"".join(rng.choice(_PIECES) for _ in range(rng.randrange(12))))
        standard, fast = _tables(path)
        assert fast == standard, path.read_bytes()


def test_an_exported_mailbox_gives_the_same_messages(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path)
    for number in range(20):
        box.add(f"Subject: {number}\n\nFrom the school\nline\n".encode() * (number + 1))
    box.close()
    standard, fast = _tables(path)
    assert fast == standard
    assert len(fast[0]) == 20  # type: ignore[index]
