"""An .mbox file opened with the standard library, with a faster table of contents.

mailbox.mbox finds the messages by reading the whole file line by line in Python: for an
export of a city's mailbox (gigabytes of base64) that took minutes before the first message
was read. Here the same table is built by searching large blocks of the file for "From "
lines, with exactly the standard rules for where a message starts and stops. Blocks are read
rather than the file mapped, so that the scan does not count the whole file as the process's
memory.
"""

from __future__ import annotations

import mailbox


class Mbox(mailbox.mbox):
    #: Bytes read at a time while building the table of contents.
    block = 16 * 1024 * 1024

    def _generate_toc(self) -> None:
        handle = self._file  # type: ignore[attr-defined]  # mailbox.mbox's own open file
        handle.seek(0)
        starts: list[int] = []
        stops: list[int] = []
        # What came before the current block: its last bytes (a "\nFrom " can straddle two
        # blocks, and a stop depends on the two bytes before a "From " line), starting with
        # the line end the file's first line is taken to follow.
        before, offset = b"\n", 0
        while block := handle.read(self.block):
            data = before + block
            base = offset - len(before)
            found = data.find(b"\nFrom ")
            while found >= 0:
                position = base + found + 1
                if not starts or position > starts[-1]:
                    if starts:
                        stops.append(_stop(position, data[max(found - 1, 0) : found + 1]))
                    starts.append(position)
                found = data.find(b"\nFrom ", found + 1)
            offset += len(block)
            before = data[-8:]
        if starts:
            stops.append(_stop(offset, before[-2:] if offset >= 2 else before[-offset:]))
        self._toc = dict(enumerate(zip(starts, stops, strict=True)))
        self._next_key = len(self._toc)
        self._file_length = offset


def _stop(position: int, previous: bytes) -> int:
    """Where the message before `position` ends, given the (up to) two bytes before it: an
    empty line just before the next "From " line is not the message's own."""
    if previous == b"\n\n" or (position == 1 and previous == b"\n"):
        return position - 1
    return position
