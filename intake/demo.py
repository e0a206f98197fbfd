"""The embedded default: the sample inbox replayed into a local SQLite database.

It uses config.example.toml as shipped, pointed at a local folder, the sample roster and
the "folder" reply transport, so it needs no network, no QQ account and no secret.
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
        for campaign in data["campaigns"].values():
            campaign["roster"] = str(SAMPLES / "roster.csv")

    app = build(load_config(repo_path("config.example.toml"), point_at_demo))
    try:
        for ref in app.refs:
            for raw in read_folder(SAMPLES / "inbox" / ref.group, ref.account):
                handle(app.intake, ref, raw)
        app.send_replies()
        return ledger_rows(app.intake.factory)
    finally:
        app.close()
