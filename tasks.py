#!/usr/bin/env python3
"""Set-up and checks with nothing but python3: `python3 tasks.py demo` or `python3 tasks.py test`.

demo   creates .venv, installs intake, and replays the sample inbox into var/demo/.
test   creates .venv with the test tools, installs Debian's dovecot-imapd, LibreOffice, unar
       and Chromium when they are missing and this user may (root with apt-get), then runs
       ruff, mypy and the whole test suite.
bench  the same set-up, then the benchmarks (bench/, `--quick` for a small run); figures go
       to docs/performance.json, explained in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"


def sh(*command: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(part) for part in command), flush=True)
    return subprocess.run([str(part) for part in command], cwd=ROOT, check=check).returncode


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
    return sh(BIN / "pytest", *sys.argv[2:], check=False)


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
