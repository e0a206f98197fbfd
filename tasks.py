#!/usr/bin/env python3
"""Set-up and checks with nothing but python3: `python3 tasks.py demo` or `python3 tasks.py test`.

demo   creates .venv, installs intake, and replays the sample inbox into var/demo/.
test   creates .venv with the test tools, installs Debian's dovecot-imapd, LibreOffice, unar,
       Chromium and PostgreSQL when they are missing and this user may (root with apt-get),
       then runs ruff, mypy and the whole test suite twice: on SQLite, then on a throw-away
       PostgreSQL cluster on 127.0.0.1 (INTAKE_TEST_ENGINES=sqlite or =postgresql for one).
bench  the same set-up, then the benchmarks (bench/, `--quick` for a small run); figures go
       to docs/performance.json, explained in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"


def sh(*command: str | Path, check: bool = True, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(part) for part in command), flush=True)
    parts = [str(part) for part in command]
    return subprocess.run(parts, cwd=ROOT, check=check, env=env).returncode


def can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(*packages: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def ensure_venv(extras: str) -> None:
    created = (BIN / "python").exists() or sh(sys.executable, "-m", "venv", VENV, check=False) == 0
    if not created:
        # Debian ships venv separately; without it there is no ensurepip.
        if not can_apt():
            sys.exit("python3 -m venv failed: install the python3-venv package")
        shutil.rmtree(VENV, ignore_errors=True)
        apt_install("python3-venv")
        sh(sys.executable, "-m", "venv", VENV)
    sh(
        BIN / "python",
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        "-e",
        f".{extras}",
    )


def ensure_dovecot() -> None:
    if shutil.which("dovecot"):
        return
    if can_apt():
        apt_install("dovecot-imapd")
    else:
        print(
            "Dovecot is missing and cannot be installed by this user: the IMAP tests "
            "will be skipped (run `apt-get install dovecot-imapd` as root)."
        )


def ensure_unar() -> None:
    # .rar archives schools attach are opened with unar (Debian main has no unrar).
    if shutil.which("unar"):
        return
    if can_apt():
        apt_install("--no-install-recommends", "unar")
    else:
        print(
            "unar is missing and cannot be installed by this user: the .rar tests will be skipped"
        )


def ensure_chromium() -> None:
    # The digest's HTML is rendered in headless Chromium, with Chinese fonts, and checked.
    if shutil.which("chromium"):
        return
    if can_apt():
        apt_install("--no-install-recommends", "chromium", "fonts-noto-cjk")
    else:
        print(
            "Chromium is missing and cannot be installed by this user: "
            "the digest screenshot test will be skipped"
        )


def ensure_libreoffice() -> None:
    # Tests write real .xlsx, .xls and .docx files with LibreOffice, as schools' offices do.
    if shutil.which("soffice"):
        return
    if can_apt():
        apt_install("--no-install-recommends", "libreoffice-writer-nogui", "libreoffice-calc-nogui")
    else:
        print(
            "LibreOffice is missing and cannot be installed by this user: the table tests "
            "will be skipped (run `apt-get install libreoffice-writer-nogui "
            "libreoffice-calc-nogui` as root)."
        )


def ensure_postgresql() -> bool:
    if not _pg_bin("initdb") and can_apt():
        apt_install("--no-install-recommends", "postgresql")
    if _pg_bin("initdb"):
        return True
    print(
        "PostgreSQL is missing and cannot be installed by this user: the tests run on SQLite "
        "only (run `apt-get install postgresql` as root)."
    )
    return False


def _pg_bin(name: str) -> str:
    """Debian keeps the server's programs out of PATH, under /usr/lib/postgresql/VERSION/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name) or ""


@contextmanager
def postgresql_cluster() -> Iterator[str]:
    """A throw-away cluster on 127.0.0.1 with its data in a temporary folder; yields its URL.

    Durability is switched off: the data is thrown away, and the tests wait on fsync less."""
    data = Path(tempfile.mkdtemp(prefix="intake-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster = data / "cluster"
    server = [*as_owner, _pg_bin("pg_ctl"), "-w", "-s", "-D", cluster]
    sh(*as_owner, _pg_bin("initdb"), "--no-sync", "-A", "trust", "-U", "intake", "-E", "UTF8",
       "--locale=C.UTF-8", "-D", cluster)  # fmt: skip
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c max_connections=300 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    sh(*server, "-l", data / "server.log", "-o", options, "start")
    try:
        yield f"postgresql+psycopg://intake@127.0.0.1:{port}/postgres"
    finally:
        sh(*server, "-m", "immediate", "stop", check=False)
        shutil.rmtree(data, ignore_errors=True)


def demo() -> int:
    ensure_venv("")
    return sh(BIN / "intake", "demo", check=False)


def test() -> int:
    ensure_venv("[test]")
    ensure_dovecot()
    ensure_libreoffice()
    ensure_unar()
    ensure_chromium()
    sh(BIN / "ruff", "check", "intake", "tests", "migrations", "samples", "bench", "tasks.py")
    sh(BIN / "mypy")
    engines = os.environ.get("INTAKE_TEST_ENGINES", "sqlite,postgresql").split(",")
    failed = 0
    if "sqlite" in engines:
        on_sqlite = {k: v for k, v in os.environ.items() if k != "INTAKE_TEST_DATABASE"}
        failed |= sh(BIN / "pytest", *sys.argv[2:], check=False, env=on_sqlite)
    if "postgresql" in engines and os.environ.get("INTAKE_TEST_DATABASE"):
        failed |= sh(BIN / "pytest", *sys.argv[2:], check=False)  # a server of one's own
    elif "postgresql" in engines and ensure_postgresql():
        with postgresql_cluster() as url:
            # The same suite, every ledger a database of its own on the cluster.
            print(f"+ INTAKE_TEST_DATABASE={url}", flush=True)
            on_server = {**os.environ, "INTAKE_TEST_DATABASE": url}
            failed |= sh(BIN / "pytest", *sys.argv[2:], check=False, env=on_server)
    return failed


def bench() -> int:
    ensure_venv("[test]")
    ensure_dovecot()
    ensure_libreoffice()  # the PDFs of the benchmark inbox are written by LibreOffice
    return sh(BIN / "python", "-m", "bench", *sys.argv[2:], check=False)


if __name__ == "__main__":
    tasks = {"demo": demo, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in tasks:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(tasks)}}} [pytest or bench arguments]")
    sys.exit(tasks[sys.argv[1]]())
