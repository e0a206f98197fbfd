"""The embedded default: the sample inbox replayed into a local SQLite database.

It uses config.example.toml as shipped, pointed at a local folder, each campaign's sample
roster (samples/roster-<campaign>.csv) and the "folder" reply transport, so it needs no
network, no QQ account and no secret. Each mailbox reads samples/inbox/<group>/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intake.app import build, repo_path
from intake.config import load_config
from intake.flow import handle
from intake.mail.sources import read_folder
from intake.store.views import ledger_rows

SAMPLES = repo_path("samples")


def run_demo(out: Path) -> list[dict[str, Any]]:
    out = out.resolve()

    def point_at_demo(data: dict[str, Any]) -> None:
        data["database"] = {"url": f"sqlite:///{out / 'demo.db'}"}
        data["storage"] = {"archive_dir": str(out / "archive")}
        data.setdefault("replies", {}).update(transport="folder", folder=str(out / "outbox"))
        for key, campaign in data["campaigns"].items():
            roster = SAMPLES / f"roster-{key}.csv"
            campaign["roster"] = str(roster) if roster.exists() else ""

    app = build(load_config(repo_path("config.example.toml"), point_at_demo))
    try:
        for ref in app.refs:
            inbox = SAMPLES / "inbox" / ref.group
            for raw in read_folder(inbox, ref.account) if inbox.is_dir() else ():
                handle(app.intake, ref, raw)
        app.send_replies()
        return ledger_rows(app.intake.factory)
    finally:
        app.close()
