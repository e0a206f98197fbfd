"""What one unpacking may still use of its limits, and how it tells the school it ran out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from intake.archives.members import Archive, ArchiveError, Entry, ErrorCode, Limits
from intake.archives.names import ending

_MIB = 1024 * 1024
# Below this much declared content the ratio rule does not apply: a small archive cannot hurt
# however well it compresses, and blank forms or scans of white pages compress extremely well.
_RATIO_FLOOR = _MIB

_MESSAGES: Final[dict[ErrorCode, str]] = {
    "zip_bomb": (
        "{noun}“{name}”解压后过大（压缩比异常），已拒收。"
        "请直接以附件发送 Word 文档，或重新压缩后发送。"
    ),
    "too_many_members": (
        "{noun}“{name}”内文件过多（超过 {members} 个），已拒收。"
        "请只放入参赛材料后重新压缩发送，或直接以附件发送。"
    ),
    "too_large": (
        "{noun}“{name}”解压后超过 {megabytes} MB，已拒收。"
        "请删去无关文件后重新压缩发送，或直接以附件发送 Word 文档。"
    ),
    "encrypted": "{noun}“{name}”设有密码，无法打开。请去掉密码后重新发送。",
    "corrupt": (
        "{noun}“{name}”已损坏或不完整，无法打开。请重新压缩后再发送，或直接以附件发送 Word 文档。"
    ),
    "too_deep": (
        "{noun}“{name}”里又套了多层压缩包，无法处理。请解开后只压缩一层再发送，或直接以附件发送。"
    ),
    "tool_missing": "服务器无法解开 .rar 压缩包，请改用 .zip 或直接发送附件。",
    "unsupported": (
        "{noun}“{name}”的格式或压缩方式无法识别。请改用 .zip 压缩后发送，或直接以附件发送。"
    ),
}


@dataclass
class Budget:
    """What the whole unpacking, nested archives included, has used of its limits."""

    limits: Limits
    members: int = 0
    produced: int = 0  # bytes decompressed so far

    def refusal(self, code: ErrorCode, archive: Archive) -> ArchiveError:
        return ArchiveError(code, _message(code, archive, self.limits), archive.source)

    def admit_count(self, count: int | None, archive: Archive) -> None:
        if count is not None and self.members + count > self.limits.max_members:
            raise self.refusal("too_many_members", archive)

    def admit(self, entries: Sequence[Entry], archive: Archive) -> None:
        """Check what the headers declare, before anything is decompressed."""
        self.admit_count(len(entries), archive)
        declared = sum(entry.size for entry in entries)
        ratio_cap = self.limits.max_ratio * max(len(archive.payload), 1)
        if declared > _RATIO_FLOOR and declared > ratio_cap:
            raise self.refusal("zip_bomb", archive)
        if self.produced + declared > self.limits.max_total_bytes:
            raise self.refusal("too_large", archive)
        self.members += len(entries)

    def take(self, size: int, archive: Archive) -> None:
        """Count decompressed bytes as they come: headers that lied are caught here."""
        self.produced += size
        if self.produced > self.limits.max_total_bytes:
            raise self.refusal("too_large", archive)


def _message(code: ErrorCode, archive: Archive, limits: Limits) -> str:
    return _MESSAGES[code].format(
        noun="邮件" if ending(archive.filename) == ".eml" else "压缩包",
        name=archive.source,
        members=limits.max_members,
        megabytes=limits.max_total_bytes // _MIB,
    )
