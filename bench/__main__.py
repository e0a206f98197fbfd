"""Run the benchmarks: `python3 tasks.py bench [--quick] [--only NAME ...]`.

Each target prints its figures as it goes; at the end they are written as JSON to
docs/performance.json (next to docs/PERFORMANCE.md, which explains them).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, Figures, servers
from bench.scale import FULL, QUICK

TARGETS = ("replay", "idle_polls", "latency", "memory", "database")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run to try the harness")
    parser.add_argument("--only", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.json")
    parser.add_argument("--work", type=Path, help="keep the working files here")
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    work = args.work or Path(tempfile.mkdtemp(prefix="intake-bench-", dir=ROOT / "var"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[Figures] = []
    started = time.perf_counter()
    try:
        with servers(work / "servers") as where:
            for name in args.only:
                print(f"== {name}", flush=True)
                module = __import__(f"bench.{name}", fromlist=["run"])
                results.extend(module.run(where, work / name, scale))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": _cores(), "python": platform.python_version()},
        "scale": scale.name,
        "seconds": round(time.perf_counter() - started, 1),
        "targets": {f.target: {"met": f.met, "figures": f.values, "note": f.note} for f in results},
    }
    args.out.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"written {args.out}")
    for figures in results:
        state = {True: "met", False: "MISSED", None: "-"}[figures.met]
        print(f"{figures.target:<28} {state:<7} {figures.note}")
    return 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
