"""Archives as schools' tools write them, built byte by byte where no library writes them so.

Chinese Windows and 360压缩 store GBK names without the UTF-8 flag, macOS stores UTF-8 without
it, and no free tool writes RAR: those are assembled here from the format specifications
(PKWARE APPNOTE for zip, RAR 4.x technote for rar). Zip bombs are built from a repeated
deflate block, so a 300 MB member never exists in memory, not even while building it.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

import py7zr
import pytest
from servers.dovecot import truthy_env

MIB = 1024 * 1024
# 1985-03-18 10:20:02 in MS-DOS date and time fields, the same in both header kinds.
_DOS_TIME, _DOS_DATE = (10 << 11) | (20 << 5) | 1, ((1985 - 1980) << 9) | (3 << 5) | 18
_DEFLATE = 8
_STORED = 0


# --- tools --------------------------------------------------------------------------------------


def require_tool(binary: str, package: str) -> str:
    """The tool's path, or skip the test (fail it on CI, where a skip would hide a gap)."""
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} is not installed: run `apt-get install {package}`"
        if truthy_env("CI"):
            pytest.fail(f"{message} [CI is set, so this is a failure, not a skip]")
        pytest.skip(message)
    return path


# --- zip, byte by byte --------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipEntry:
    """One entry exactly as it goes on disk: raw name bytes, data as stored, declared fields."""

    name: bytes
    stored: bytes  # compressed (and encrypted) bytes as they follow the local header
    crc: int
    size: int  # the declared uncompressed size, true or not
    method: int = _DEFLATE
    flags: int = 0
    external_attr: int = 0
    made_by: int = 0  # 0 = MS-DOS (Windows tools), 3 = Unix (macOS, Linux)


def entry(name: bytes, data: bytes, *, method: int = _DEFLATE, made_by: int = 0) -> ZipEntry:
    stored = _raw_deflate(data) if method == _DEFLATE else data
    return ZipEntry(name, stored, zlib.crc32(data), len(data), method, made_by=made_by)


def build_zip(entries: Sequence[ZipEntry]) -> bytes:
    """A zip whose headers say exactly what the entries say (zipfile would re-encode names)."""
    out = io.BytesIO()
    central: list[bytes] = []
    for item in entries:
        central.append(_central_header(item, out.tell()))
        out.write(_local_header(item) + item.stored)
    directory = b"".join(central)
    start = out.tell()
    count = len(entries)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0)
    return out.getvalue() + directory + end


def _local_header(item: ZipEntry) -> bytes:
    return (
        struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            item.flags,
            item.method,
            _DOS_TIME,
            _DOS_DATE,
            item.crc,
            len(item.stored),
            item.size,
            len(item.name),
            0,
        )
        + item.name
    )


def _central_header(item: ZipEntry, offset: int) -> bytes:
    return (
        struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            (item.made_by << 8) | 20,
            20,
            item.flags,
            item.method,
            _DOS_TIME,
            _DOS_DATE,
            item.crc,
            len(item.stored),
            item.size,
            len(item.name),
            0,
            0,
            0,
            0,
            item.external_attr,
            offset,
        )
        + item.name
    )


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def gbk_zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    """What Chinese Windows' 发送到压缩文件夹 and 360压缩 write: GBK names, no UTF-8 flag."""
    return build_zip([entry(name.encode("gbk"), data) for name, data in files])


def macos_zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    """What macOS Archive Utility writes: UTF-8 names without the flag, plus __MACOSX/ ._ files."""
    entries: list[ZipEntry] = []
    folders = sorted({name.rsplit("/", 1)[0] + "/" for name, _ in files if "/" in name})
    entries += [entry(folder.encode(), b"", method=_STORED, made_by=3) for folder in folders]
    entries += [entry(name.encode(), data, made_by=3) for name, data in files]
    entries.append(entry(b"__MACOSX/", b"", method=_STORED, made_by=3))
    for name, _ in files:
        folder, _slash, leaf = name.rpartition("/")
        apple_double = f"__MACOSX/{folder}/._{leaf}" if folder else f"__MACOSX/._{leaf}"
        entries.append(entry(apple_double.encode(), b"\x00\x05\x16\x07" + b"\0" * 78, made_by=3))
    entries.append(entry(b".DS_Store", b"Bud1" + b"\0" * 60, made_by=3))
    return build_zip(entries)


def utf8_zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    """What zipfile, 7-Zip and Bandizip write: UTF-8 names with the 0x800 flag."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def symlink_zip(link: str, target: str, files: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip made on Linux with `zip -y`: the link is an entry whose data is its target."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(link)
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        archive.writestr(info, target)
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def many_members_zip(count: int, names: str = "作品{number:03d}.txt") -> bytes:
    return utf8_zip([(names.format(number=number), b"x") for number in range(count)])


# --- zip bombs ----------------------------------------------------------------------------------


def zeros_bomb(megabytes: int, *, declared: int | None = None, name: str = "zeros.docx") -> bytes:
    """One entry of `megabytes` MiB of zeros, deflated to about 1/1000 of that.

    The deflate stream is one compressed MiB repeated: after a full flush a block refers to
    nothing before it, so copies can follow each other. `declared` makes the headers lie about
    the uncompressed size (the CRC stays that of the real data).
    """
    zero_mib = bytes(MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zero_mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zero_mib, crc)
    size = megabytes * MIB if declared is None else declared
    return build_zip([ZipEntry(name.encode(), block * megabytes + final, crc, size)])


# --- encrypted zip (traditional PKWARE encryption, what WinRAR and 360压缩 offer) ------------


class _ZipCrypto:
    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    @staticmethod
    def _crc(value: int, byte: int) -> int:
        # One step of the raw CRC-32 register, which zlib.crc32 wraps in two inversions.
        return zlib.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = self._crc(k0, byte)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = self._crc(k2, k1 >> 24)
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            self._update(byte)
        return bytes(out)


def encrypted_zip(
    files: Sequence[tuple[str, bytes]], password: bytes, *, plain: Sequence[tuple[str, bytes]] = ()
) -> bytes:
    """Entries in `files` encrypted with `password` (flag bit 0), those in `plain` not."""
    entries = [entry(name.encode("gbk"), data) for name, data in plain]
    for name, data in files:
        crc = zlib.crc32(data)
        header = os.urandom(11) + bytes([crc >> 24])  # the last byte lets unzip check a password
        stored = _ZipCrypto(password).encrypt(header + _raw_deflate(data))
        entries.append(ZipEntry(name.encode("gbk"), stored, crc, len(data), flags=0x1))
    return build_zip(entries)


# --- 7z -----------------------------------------------------------------------------------------


def seven_zip(
    files: Sequence[tuple[str, bytes]],
    *,
    password: str | None = None,
    header_encryption: bool = False,
) -> bytes:
    buffer = io.BytesIO()
    with py7zr.SevenZipFile(
        buffer, "w", password=password, header_encryption=header_encryption
    ) as archive:
        for name, data in files:
            archive.writestr(data, name)
    return buffer.getvalue()


# --- RAR 4.x, stored, byte by byte ------------------------------------------------------------

_RAR_MARKER = b"Rar!\x1a\x07\x00"
_RAR_MAIN, _RAR_FILE, _RAR_END = 0x73, 0x74, 0x7B
_MHD_PASSWORD = 0x0080  # `rar -hp`: every header after the main one is encrypted
_LHD_PASSWORD = 0x0004
_LHD_DIRECTORY = 0x00E0
_LHD_UNICODE = 0x0200
_LONG_BLOCK = 0x8000  # the block is followed by data (PACK_SIZE bytes)
_WIN32 = 2
_STORE = 0x30


@dataclass(frozen=True)
class RarMember:
    name: bytes  # UTF-8 with unicode=True (what WinRAR writes for Chinese names), else GBK
    data: bytes = b""
    unicode: bool = True
    encrypted: bool = False  # flags the member as encrypted (the data is then meaningless)
    directory: bool = False


def rar4(members: Sequence[RarMember], *, locked_headers: bool = False) -> bytes:
    """A RAR 4.x archive with STORED members, as `rar a -m0` writes it.

    locked_headers sets the main header's password flag only: the file headers stay plain,
    but a reader without the password must stop before them, as it would at real ciphertext.
    """
    main_flags = _MHD_PASSWORD if locked_headers else 0
    blocks = [_RAR_MARKER, _rar_block(_RAR_MAIN, main_flags, b"\0" * 6)]
    blocks += [_rar_file(member) for member in members]
    blocks.append(_rar_block(_RAR_END, 0x4000, b""))
    return b"".join(blocks)


def _rar_block(head_type: int, flags: int, body: bytes) -> bytes:
    """HEAD_CRC is the low 16 bits of the CRC-32 of the header from HEAD_TYPE on."""
    rest = struct.pack("<BHH", head_type, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(rest) & 0xFFFF) + rest


def _rar_file(member: RarMember) -> bytes:
    flags = _LONG_BLOCK
    flags |= _LHD_UNICODE if member.unicode else 0
    flags |= _LHD_PASSWORD if member.encrypted else 0
    flags |= _LHD_DIRECTORY if member.directory else 0
    dos_time = (_DOS_DATE << 16) | _DOS_TIME
    attributes = 0x10 if member.directory else 0x20
    size = len(member.data)
    fields = struct.pack(
        "<IIBIIBBHI",
        size,
        size,
        _WIN32,
        zlib.crc32(member.data),
        dos_time,
        20,
        _STORE,
        len(member.name),
        attributes,
    )
    return _rar_block(_RAR_FILE, flags, fields + member.name) + member.data


# --- a forwarded message --------------------------------------------------------------------------


def forwarded_eml(
    files: Sequence[tuple[str, bytes]], *, inline_image: bytes | None = None
) -> bytes:
    """A message saved as .eml and attached: attachments, and optionally an inline image."""
    message = EmailMessage(policy=SMTP)
    message["From"] = "双流区实验小学 <sl_school@qq.com>"
    message["To"] = "jiaoyanshi@qq.com"
    message["Subject"] = "转发：双流区实验小学参赛材料"
    message["Message-ID"] = make_msgid(domain="qq.com")
    message.set_content("老师您好，转发我校的材料，请查收。")
    if inline_image is not None:
        message.add_alternative('<p>材料见附件</p><img src="cid:logo@school">', subtype="html")
        parts = message.get_payload()
        assert isinstance(parts, list)
        html = parts[1]
        assert isinstance(html, EmailMessage)
        html.add_related(inline_image, maintype="image", subtype="png", cid="<logo@school>")
    for filename, payload in files:
        message.add_attachment(
            payload, maintype="application", subtype="octet-stream", filename=filename
        )
    return message.as_bytes()
