"""The shipped sample inboxes, replayed as the README's first command does, give the decisions
samples/expected*.json list (expected.json for Shuangliu 2021, expected-suzhou-2022.json for
Suzhou 2022), and the replies they would send are written as .eml files."""

import email
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from intake.demo import SAMPLES, run_demo

EXPECTED = sorted(SAMPLES.glob("expected*.json"))


def _expected(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out)


def test_every_campaign_with_samples_has_expectations():
    assert [path.name for path in EXPECTED] == ["expected-suzhou-2022.json", "expected.json"]


def test_every_recorded_message_is_expected_once(demo):
    _, rows = demo
    files = [case["file"] for path in EXPECTED for case in _expected(path)]
    assert len(files) == len(set(files))
    places = [f"{row['group']}/{row['folder'].removeprefix('file:')}" for row in rows]
    assert sorted(places) == sorted(files)


@pytest.mark.parametrize("path", EXPECTED, ids=lambda path: path.name)
def test_the_sample_inbox_gets_the_expected_decisions(demo, path: Path):
    _, rows = demo
    by_place = {(row["group"], row["folder"].removeprefix("file:")): row for row in rows}
    for case in _expected(path):
        # The group (mailbox) is the first path component of `file`.
        group, name = case["file"].split("/")
        row = by_place[(group, name)]
        got = (row["decision"], row["reasons"], row["school"] or None, row["kind"] or None)
        want = (case["decision"], case["reasons"], case["school"], case["kind"])
        assert got == want, case["file"]
        # Fields not every expectations file gives.
        if "warnings" in case:
            assert row["warnings"] == case["warnings"], case["file"]
        if "stage" in case:
            assert row["stage"] == case["stage"], case["file"]
        if "received_at" in case:  # the same instant; the ledger gives it in UTC
            got_at = datetime.fromisoformat(row["received_at"])
            assert got_at == datetime.fromisoformat(case["received_at"]), case["file"]


def test_every_decided_message_is_answered_once(demo):
    out, rows = demo
    replies = sorted((out / "outbox").glob("*.eml"))
    answered = [row for row in rows if row["decision"] in ("accepted", "rejected")]
    assert len(replies) == len(answered)
    for path in replies:
        message = email.message_from_bytes(path.read_bytes())
        assert message["Auto-Submitted"] == "auto-replied" and message["In-Reply-To"]
    receipts = {path.name.split(".")[0] for path in replies}
    assert receipts == {row["receipt"] for row in answered}
    assert any(receipt.startswith("SZ22-") for receipt in receipts)


def test_running_the_demo_twice_records_nothing_new(tmp_path: Path):
    first = run_demo(tmp_path)
    second = run_demo(tmp_path)
    assert [row["id"] for row in first] == [row["id"] for row in second]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(
        [row for row in first if row["decision"] in ("accepted", "rejected")]
    )
