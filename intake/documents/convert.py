"""Old Word (.doc) and WPS (.wps) files turned into .docx by LibreOffice, to be checked alike.

Each conversion runs soffice headless with its own throw-away user profile (two soffice
processes sharing a profile fail silently) and a time limit, in its own process group so a
hung converter is killed with everything it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

CONVERTIBLE = (".doc", ".wps")
TIMEOUT_SECONDS = 120.0


class ConversionError(Exception):
    """LibreOffice could not turn the file into .docx: it is damaged, protected or not Word."""


def soffice() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_docx(payload: bytes, ending: str, binary: str, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The .docx LibreOffice makes of a .doc or .wps file."""
    try:
        return _convert(payload, ending, binary, timeout)
    except OSError as error:  # no space for the copy, soffice not executable …
        raise ConversionError(str(error)) from error


def _convert(payload: bytes, ending: str, binary: str, timeout: float) -> bytes:
    with tempfile.TemporaryDirectory(prefix="intake-convert-") as folder:
        work = Path(folder)
        source = work / f"document{ending}"
        source.write_bytes(payload)
        command = [
            binary,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        _run(command, timeout, home=work)
        result = work / "out" / "document.docx"
        if not result.exists() or result.stat().st_size == 0:
            raise ConversionError("LibreOffice produced no .docx")
        return result.read_bytes()


def _run(command: list[str], timeout: float, home: Path) -> None:
    # A HOME of its own: soffice writes there too, and CI may run without one.
    env = {**os.environ, "HOME": str(home)}
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as error:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise ConversionError(f"LibreOffice took longer than {timeout:.0f} s") from error
    if process.returncode != 0:
        raise ConversionError(stderr.decode("utf-8", "replace").strip()[-300:])
