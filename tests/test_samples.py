"""The shipped sample inbox, replayed as the README's first command does, gives the decisions
samples/expected.json lists, and the replies it would send are written as .eml files."""

import email
import json
from pathlib import Path

from intake.demo import SAMPLES, run_demo


def test_the_sample_inbox_gets_the_expected_decisions(tmp_path: Path):
    rows = run_demo(tmp_path)
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    assert len(rows) == len(expected)
    by_place = {(row["group"], row["folder"].removeprefix("file:")): row for row in rows}
    for case in expected:
        group, name = case["file"].split("/")
        row = by_place[(group, name)]
        got = (row["decision"], row["reasons"], row["school"] or None, row["kind"] or None)
        want = (case["decision"], case["reasons"], case["school"], case["kind"])
        assert got == want, case["file"]

    replies = sorted((tmp_path / "outbox").glob("*.eml"))
    answered = [row for row in rows if row["decision"] in ("accepted", "rejected")]
    assert len(replies) == len(answered)
    for path in replies:
        message = email.message_from_bytes(path.read_bytes())
        assert message["Auto-Submitted"] == "auto-replied" and message["In-Reply-To"]


def test_running_the_demo_twice_records_nothing_new(tmp_path: Path):
    first = run_demo(tmp_path)
    second = run_demo(tmp_path)
    assert [row["id"] for row in first] == [row["id"] for row in second]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(
        [row for row in first if row["decision"] in ("accepted", "rejected")]
    )
