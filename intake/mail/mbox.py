"""An .mbox file opened with the standard library, with a faster table of contents.

mailbox.mbox finds the messages by reading the whole file line by line in Python: for an
export of a city's mailbox (gigabytes of base64) that took minutes before the first message
was read. Here the same table is built by searching the mapped file for "From " lines, with
exactly the standard rules for where a message starts and stops.
"""

from __future__ import annotations

import mailbox
import mmap
import os


class Mbox(mailbox.mbox):
    def _generate_toc(self) -> None:
        starts: list[int] = []
        stops: list[int] = []
        descriptor = self._file.fileno()  # type: ignore[attr-defined]  # mailbox.mbox's own file
        size = os.fstat(descriptor).st_size
        data: bytes | mmap.mmap = mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ) if size else b""
        try:
            position = 0 if data[:5] == b"From " else _next_from(data, 0)
            while position >= 0:
                if starts:
                    stops.append(_stop(data, position))
                starts.append(position)
                position = _next_from(data, position + 1)
            if starts:
                stops.append(_stop(data, size))
        finally:
            if isinstance(data, mmap.mmap):
                data.close()
        self._toc = dict(enumerate(zip(starts, stops, strict=True)))
        self._next_key = len(self._toc)
        self._file_length = size


def _next_from(data: bytes | mmap.mmap, after: int) -> int:
    found = data.find(b"\nFrom ", max(after - 1, 0))
    return found + 1 if found >= 0 else -1


def _stop(data: bytes | mmap.mmap, position: int) -> int:
    """Where the message before `position` ends: an empty line before it is not its own."""
    if data[max(position - 2, 0) : position] == b"\n\n" or (position == 1 and data[:1] == b"\n"):
        return position - 1
    return position
