"""The benchmarks' inbox is what it claims to be: the season's mix of messages, each a real
QQ-style message whose Word file opens, and no two files alike."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from pathlib import Path

from docx import Document

from bench import corpus
from intake.mail.parse import parse_mail


def test_the_mix_of_a_season() -> None:
    planned = corpus.plan(4000)
    kinds = Counter(item.kind for item in planned)
    assert abs(kinds["small"] / 4000 - 0.80) < 0.02
    assert abs((kinds["large_docx"] + kinds["large_pdf"]) / 4000 - 0.15) < 0.02
    assert abs(kinds["auto_reply"] / 4000 - 0.05) < 0.01
    small = [item.attachment_bytes for item in planned if item.kind == "small"]
    large = [item.attachment_bytes for item in planned if item.kind.startswith("large")]
    assert min(small) >= 30_000 and max(small) < 200_000
    assert min(large) >= 1_000_000 and max(large) < 5_000_000
    assert [item.received for item in planned] == sorted(item.received for item in planned)


def test_messages_are_real_and_every_file_differs(tmp_path: Path) -> None:
    planned = [item for item in corpus.plan(300) if item.kind in ("small", "large_docx")][:12]
    seen = set()
    for item in planned:
        raw = corpus.message(item, tmp_path)
        assert b"=?gb18030?B?" in raw  # names as QQ web mail writes them
        mail = parse_mail(raw)
        [attachment] = mail.attachments
        assert attachment.filename == f"{item.school}{item.what}.docx"
        assert abs(len(attachment.payload) - item.attachment_bytes) < 25_000
        paragraphs = Document(io.BytesIO(attachment.payload)).paragraphs
        assert paragraphs[0].text == f"{item.school}{item.what}"
        seen.add(hashlib.sha256(attachment.payload).hexdigest())
    assert len(seen) == len(planned)


def test_a_vacation_note_is_marked_automatic(tmp_path: Path) -> None:
    item = next(item for item in corpus.plan(300) if item.kind == "auto_reply")
    mail = parse_mail(corpus.message(item, tmp_path))
    assert mail.headers["auto-submitted"] == "auto-replied"
    assert not mail.attachments


def test_an_mbox_entry_quotes_from_lines_and_keeps_line_feeds() -> None:
    entry = corpus.mbox_line(b"Subject: x\r\n\r\nline\r\nFrom the school\r\n")
    assert entry.startswith(b"From MAILER-DAEMON ")
    assert b"\n>From the school\n" in entry
    assert b"\r" not in entry and entry.count(b"\nFrom ") == 0
