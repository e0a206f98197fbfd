"""Parsing a large message at the speed of its structure, not of its size.

The standard library's parser reads a message line by line in Python: a 1 MB attachment is
13,000 base64 lines and takes about 12 ms, most of the time spent on lines whose content it
never looks at. Here each long run of base64-looking lines is set aside before parsing and
put back into the parts afterwards, so the parser sees a few hundred lines.

This cannot change what the parser decides: a set-aside run contains no blank line, no
boundary ("--" is not in the base64 alphabet) and no header (no colon, no leading space), and
its stand-in is one line of the same alphabet. The stand-ins carry a random nonce so a message
cannot contain one by chance, and every payload that mentions one gets its bytes back.
"""

from __future__ import annotations

import re
import secrets
from email.message import Message

# At least 16 lines of 16–998 base64 characters each, matched without backtracking.
_RUN = re.compile(rb"(?m)^(?>[A-Za-z0-9+/=]{16,998}(\r?\n)){16,}+")


class Skeleton:
    """The message with its long base64 runs replaced by one-line stand-ins."""

    def __init__(self, raw: bytes) -> None:
        self.nonce = "INTAKE" + secrets.token_hex(8).upper()
        self.runs: list[str] = []
        pieces: list[bytes] = []
        position = 0
        for match in _RUN.finditer(raw):
            line_end = match.group(1)
            pieces += [raw[position : match.start()], self._stand_in(len(self.runs)), line_end]
            # The run without its last line end, which stays in place: the parser treats the
            # line end before a boundary as the boundary's own.
            self.runs.append(raw[match.start() : match.end() - len(line_end)].decode("ascii"))
            position = match.end()
        pieces.append(raw[position:])
        self.data = b"".join(pieces) if self.runs else raw

    def _stand_in(self, number: int) -> bytes:
        return f"{self.nonce}X{number}Y".encode("ascii")

    def restore(self, message: Message) -> None:
        """Give every part, preamble and epilogue back the runs its text stands in for."""
        if not self.runs:
            return
        pattern = re.compile(re.escape(self.nonce) + r"X(\d+)Y")

        def back(text: str) -> str:
            if self.nonce not in text:
                return text
            return pattern.sub(lambda found: self.runs[int(found.group(1))], text)

        stack = [message]  # not Message.walk(): nesting depth is the sender's choice
        while stack:
            part = stack.pop()
            # The stored text itself: get_payload() would re-decode 8-bit text by its charset.
            payload = getattr(part, "_payload", None)
            if isinstance(payload, str):
                part.set_payload(back(payload))
            elif isinstance(payload, list):
                stack.extend(child for child in payload if isinstance(child, Message))
            for side in ("preamble", "epilogue"):
                text = getattr(part, side, None)
                if isinstance(text, str):
                    setattr(part, side, back(text))
