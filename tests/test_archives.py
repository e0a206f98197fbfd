"""intake.archives: unpacking what schools attach, names decoded, bombs and tricks refused."""

from __future__ import annotations

import os
import struct
import subprocess
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rarfile
from archive_files import (
    MIB,
    RarMember,
    ZipEntry,
    build_zip,
    encrypted_zip,
    entry,
    forwarded_eml,
    gbk_zip,
    macos_zip,
    many_members_zip,
    rar4,
    require_tool,
    seven_zip,
    symlink_zip,
    utf8_zip,
    zeros_bomb,
)
from mailmaker import make_docx

from intake.archives import unpack as unpack_module
from intake.archives.unpack import (
    ArchiveError,
    Limits,
    Member,
    Skipped,
    Unpacked,
    is_archive,
    unpack,
)

REPORT = "双流区实验小学报告.docx"


@pytest.fixture(scope="module")
def docx() -> bytes:
    return make_docx("双流区实验小学课堂教学改进报告")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """300 MiB of zeros in about 300 KB."""
    return zeros_bomb(300)


DEFAULT_LIMITS = Limits()


def refusal(filename: str, payload: bytes, limits: Limits = DEFAULT_LIMITS) -> ArchiveError:
    with pytest.raises(ArchiveError) as caught:
        unpack(filename, payload, limits)
    return caught.value


def peak_memory(action: Callable[[], object]) -> int:
    """Bytes allocated at the peak while running action (whether it raises or not)."""
    tracemalloc.start()
    try:
        action()
    except ArchiveError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def no_parsing(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("zipfile parsed a directory that is already known to be too long")


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "材料.zip",
        "材料.ZIP",
        "作品.7z",
        "作品.7Z",
        "报名表.rar",
        "转发.eml",
        "材料．ＺＩＰ",
        "材料.Ｒａｒ",
    ],
)
def test_archive_endings_in_any_case_and_width(filename: str) -> None:
    assert is_archive(filename)


@pytest.mark.parametrize(
    "filename", ["报告.docx", "zip", "材料.zip.docx", "作品.tar.gz", "作品.7z.001", ""]
)
def test_other_files_are_not_archives(filename: str) -> None:
    assert not is_archive(filename)


def test_gbk_names_from_chinese_windows(docx: bytes) -> None:
    payload = gbk_zip([(f"材料/{REPORT}", docx), ("王喆报名表.xls", b"xls")])

    result = unpack("材料.zip", payload)

    assert result == Unpacked(
        members=(
            Member(f"材料/{REPORT}", REPORT, docx, "材料.zip"),
            Member("王喆报名表.xls", "王喆报名表.xls", b"xls", "材料.zip"),
        ),
        skipped=(),
    )


def test_macos_utf8_names_without_flag_and_its_system_files(docx: bytes) -> None:
    payload = macos_zip([(f"材料/{REPORT}", docx)])

    result = unpack("材料.zip", payload)

    assert result.members == (Member(f"材料/{REPORT}", REPORT, docx, "材料.zip"),)
    assert set(result.skipped) == {
        Skipped("材料", "directory"),
        Skipped("__MACOSX", "system_file"),
        Skipped(f"__MACOSX/材料/._{REPORT}", "system_file"),
        Skipped(".DS_Store", "system_file"),
    }


def test_utf8_flagged_names(docx: bytes) -> None:
    payload = utf8_zip(
        [(f"第一组/{REPORT}", docx), ("Thumbs.db", b"t"), ("第一组/desktop.ini", b"d")]
    )

    result = unpack("作品.zip", payload)

    assert result.members == (Member(f"第一组/{REPORT}", REPORT, docx, "作品.zip"),)
    assert set(result.skipped) == {
        Skipped("Thumbs.db", "system_file"),
        Skipped("第一组/desktop.ini", "system_file"),
    }


def test_paths_that_escape_are_skipped_and_the_rest_kept() -> None:
    names = [
        "../evil.docx",
        "/etc/passwd",
        "材料/../../evil.doc",
        "C:\\Windows\\evil.dll",
        "\\\\server\\share\\evil.doc",
        "C:evil.doc",
    ]
    entries = [entry(name.encode("gbk"), b"evil") for name in names]
    payload = build_zip([*entries, entry("报告..docx".encode("gbk"), b"good")])

    result = unpack("材料.zip", payload)

    assert result.members == (Member("报告..docx", "报告..docx", b"good", "材料.zip"),)
    assert result.skipped == tuple(
        Skipped(name.replace("\\", "/"), "unsafe_path") for name in names
    )


def test_filenames_are_cleaned_but_paths_kept() -> None:
    long_name = "双流区实验小学" * 20 + ".docx"  # 140 characters, 425 bytes of UTF-8
    spoofed = "材料/作品\u202excod.exe"  # a right-to-left override: shown as 作品exe.docx
    names = ["材料/报\x07告.docx", "材料/.隐藏.docx", spoofed, f"长/{long_name}"]
    payload = build_zip([entry(name.encode(), name.encode()) for name in names])

    members = unpack("材料.zip", payload).members

    assert [member.path for member in members] == names
    filenames = [member.filename for member in members]
    assert filenames[:3] == ["报告.docx", "隐藏.docx", "作品xcod.exe"]
    assert len(filenames[3].encode()) <= 255
    assert filenames[3].endswith(".docx")
    assert filenames[3].startswith("双流区实验小学")


def test_backslash_separators_become_slashes() -> None:
    payload = build_zip([entry("材料\\第一组\\报告.docx".encode("gbk"), b"x")])

    (member,) = unpack("材料.zip", payload).members

    assert (member.path, member.filename) == ("材料/第一组/报告.docx", "报告.docx")


def test_symlinks_are_not_followed() -> None:
    payload = symlink_zip("材料/passwd", "/etc/passwd", [("报告.docx", b"x")])

    result = unpack("材料.zip", payload)

    assert result.members == (Member("报告.docx", "报告.docx", b"x", "材料.zip"),)
    assert result.skipped == (Skipped("材料/passwd", "symlink"),)


# --- limits -----------------------------------------------------------------------------------


def test_zip_bomb_is_refused_from_its_headers_without_unpacking(bomb: bytes) -> None:
    error = refusal("材料.zip", bomb)

    assert error.code == "zip_bomb"
    assert error.message == (
        "压缩包“材料.zip”解压后过大（压缩比异常），已拒收。请直接以附件发送 Word 文档，或重新压缩后发送。"
    )
    assert str(error) == error.message
    assert peak_memory(lambda: unpack("材料.zip", bomb)) < 8 * MIB


def test_headers_that_lie_about_the_size_are_caught_while_reading() -> None:
    # The headers declare 1 MiB, so the ratio looks harmless; zipfile stops at the declared
    # size and the CRC of the real 300 MiB then fails.
    liar = zeros_bomb(300, declared=MIB)

    assert refusal("材料.zip", liar).code == "corrupt"
    assert peak_memory(lambda: unpack("材料.zip", liar)) < 16 * MIB


def test_the_byte_cap_stops_what_the_header_check_let_through(
    bomb: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Headers that pass but lie in a way a library does not notice: the stream cap is the
    # second line, so switch the first one off and the bomb must still stop at the cap.
    monkeypatch.setattr(unpack_module._Budget, "admit", lambda self, entries, archive: None)
    limits = Limits(max_total_bytes=8 * MIB)

    assert refusal("材料.zip", bomb, limits).code == "too_large"
    assert peak_memory(lambda: unpack("材料.zip", bomb, limits)) < 32 * MIB


def test_too_large_in_total() -> None:
    payload = utf8_zip([("录像.mp4", os.urandom(2 * MIB))])

    error = refusal("材料.zip", payload, Limits(max_total_bytes=MIB))

    assert error.code == "too_large"
    assert "1 MB" in error.message


def test_small_archives_may_compress_well() -> None:
    blank_form = bytes(512 * 1024)  # ratio about 500, but only half a megabyte

    (member,) = unpack("材料.zip", utf8_zip([("空白表.doc", blank_form)])).members

    assert member.payload == blank_form


def test_member_count_limit() -> None:
    assert len(unpack("材料.zip", many_members_zip(200)).members) == 200

    error = refusal("材料.zip", many_members_zip(201))

    assert error.code == "too_many_members"
    assert "200" in error.message


def test_member_count_is_read_from_the_end_record_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = many_members_zip(30)
    monkeypatch.setattr(zipfile, "ZipFile", no_parsing)

    assert refusal("材料.zip", payload, Limits(max_members=10)).code == "too_many_members"


def test_member_count_in_the_end_record_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = bytearray(many_members_zip(30))
    payload[-14:-10] = struct.pack("<HH", 1, 1)  # "1 entry", while the directory holds 30
    monkeypatch.setattr(zipfile, "ZipFile", no_parsing)

    assert refusal("材料.zip", bytes(payload), Limits(max_members=10)).code == "too_many_members"


def test_member_count_of_a_zip64_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    # 65536 entries need ZIP64, whose end record is found before the classic one.
    payload = many_members_zip(65536, names="{number}")
    monkeypatch.setattr(zipfile, "ZipFile", no_parsing)

    assert refusal("材料.zip", payload).code == "too_many_members"


# --- nesting ----------------------------------------------------------------------------------


def test_nested_zip(docx: bytes) -> None:
    inner = macos_zip([(REPORT, docx)])
    outer = gbk_zip([("材料/内层.zip", inner), ("说明.txt", b"readme")])

    result = unpack("外层.zip", outer)

    assert result.members == (
        Member(REPORT, REPORT, docx, "外层.zip/内层.zip"),
        Member("说明.txt", "说明.txt", b"readme", "外层.zip"),
    )
    assert Skipped(f"材料/内层.zip/__MACOSX/._{REPORT}", "system_file") in result.skipped


def test_archives_nested_too_deep() -> None:
    innermost = utf8_zip([(REPORT, b"x")])
    payload = utf8_zip([("二.zip", utf8_zip([("三.7z", seven_zip([("三.zip", innermost)]))]))])

    error = refusal("一.zip", payload, Limits(max_depth=3))

    assert error.code == "too_deep"
    assert error.archive == "一.zip/二.zip/三.7z/三.zip"
    deeper = unpack("一.zip", payload, Limits(max_depth=4))
    assert deeper.members == (Member(REPORT, REPORT, b"x", "一.zip/二.zip/三.7z/三.zip"),)


def test_default_depth_allows_one_archive_inside() -> None:
    two = utf8_zip([("内.zip", utf8_zip([(REPORT, b"x")]))])
    three = utf8_zip([("中.zip", two)])

    assert unpack("外.zip", two).members[0].source == "外.zip/内.zip"
    assert refusal("外.zip", three).code == "too_deep"


def test_nested_archives_share_the_limits() -> None:
    inner = many_members_zip(3)
    payload = utf8_zip([("内层.zip", inner), ("说明.txt", b"x")])

    error = refusal("外层.zip", payload, Limits(max_members=4))

    assert (error.code, error.archive) == ("too_many_members", "外层.zip/内层.zip")


def test_a_broken_archive_inside_names_itself() -> None:
    payload = utf8_zip([("作品.zip", b"not a zip at all")])

    error = refusal("材料.zip", payload)

    assert (error.code, error.archive) == ("corrupt", "材料.zip/作品.zip")
    assert "“材料.zip/作品.zip”" in error.message


# --- encrypted and broken -----------------------------------------------------------------------


def test_encrypted_zip_is_refused() -> None:
    payload = encrypted_zip([(REPORT, b"secret")], b"123456")

    error = refusal("材料.zip", payload)

    assert error.code == "encrypted"
    assert error.message == "压缩包“材料.zip”设有密码，无法打开。请去掉密码后重新发送。"


def test_encrypted_members_are_skipped_when_others_can_be_read() -> None:
    payload = encrypted_zip([(REPORT, b"secret")], b"123456", plain=[("说明.txt", b"readme")])

    result = unpack("材料.zip", payload)

    assert result.members == (Member("说明.txt", "说明.txt", b"readme", "材料.zip"),)
    assert result.skipped == (Skipped(REPORT, "encrypted_member"),)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-10], id="end-record-cut"),
        pytest.param(
            lambda data: data[:40] + bytes([data[40] ^ 0xFF]) + data[41:], id="data-damaged"
        ),
        pytest.param(lambda data: b"PK\x03\x04" + os.urandom(200), id="garbage"),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_broken_zip(damage: Callable[[bytes], bytes]) -> None:
    payload = damage(utf8_zip([("报告.txt", os.urandom(2000))]))

    error = refusal("材料.zip", payload)

    assert error.code == "corrupt"
    assert "已损坏或不完整" in error.message


def test_unsupported_compression_method() -> None:
    data = b"x" * 100
    deflate64 = ZipEntry(b"report.docx", data, 0, len(data), method=9)

    assert refusal("材料.zip", build_zip([deflate64])).code == "unsupported"


def test_unknown_ending_is_unsupported() -> None:
    assert refusal("作品.tar.gz", b"\x1f\x8b").code == "unsupported"


# --- 7z -----------------------------------------------------------------------------------------


def test_seven_zip(docx: bytes) -> None:
    payload = seven_zip([(f"材料/{REPORT}", docx), ("材料/空.txt", b""), (".DS_Store", b"x")])

    result = unpack("作品.7z", payload)

    assert result.members == (
        Member(f"材料/{REPORT}", REPORT, docx, "作品.7z"),
        Member("材料/空.txt", "空.txt", b"", "作品.7z"),
    )
    assert result.skipped == (Skipped(".DS_Store", "system_file"),)


@pytest.mark.parametrize("header_encryption", [False, True], ids=["content", "headers"])
def test_encrypted_seven_zip(header_encryption: bool) -> None:
    payload = seven_zip(
        [(REPORT, b"secret")], password="123456", header_encryption=header_encryption
    )

    assert refusal("作品.7z", payload).code == "encrypted"


def test_seven_zip_bomb() -> None:
    payload = seven_zip([("zeros.docx", bytes(20 * MIB))])

    assert len(payload) < 100_000
    assert refusal("作品.7z", payload).code == "zip_bomb"


def test_seven_zip_streams_within_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unpack_module._Budget, "admit", lambda self, entries, archive: None)
    payload = seven_zip([("a.docx", bytes(3 * MIB)), ("b.docx", bytes(3 * MIB))])

    assert refusal("作品.7z", payload, Limits(max_total_bytes=4 * MIB)).code == "too_large"


def test_broken_seven_zip() -> None:
    payload = seven_zip([(REPORT, os.urandom(5000))])

    assert refusal("作品.7z", payload[: len(payload) // 2]).code == "corrupt"
    assert refusal("作品.7z", b"7z\xbc\xaf\x27\x1c" + os.urandom(100)).code == "corrupt"


# --- rar ------------------------------------------------------------------------------------------


def rar_members(report: bytes) -> list[RarMember]:
    return [
        RarMember("材料".encode(), directory=True),
        RarMember(
            f"材料\\{REPORT}".encode(), report
        ),  # WinRAR: backslashes, UTF-8 with LHD_UNICODE
        RarMember(
            "表格.xls".encode("gbk"), b"xls", unicode=False
        ),  # old WinRAR: the ANSI code page
        RarMember(b"readme.txt", b"ascii"),
    ]


EXPECTED_RAR = [
    (f"材料/{REPORT}", REPORT),
    ("表格.xls", "表格.xls"),
    ("readme.txt", "readme.txt"),
]


def test_rar(docx: bytes) -> None:
    require_tool("unar", "unar")

    result = unpack("材料.rar", rar4(rar_members(docx)))

    assert [(m.path, m.filename, m.source) for m in result.members] == [
        (path, name, "材料.rar") for path, name in EXPECTED_RAR
    ]
    assert [m.payload for m in result.members] == [docx, b"xls", b"ascii"]
    assert result.skipped == (Skipped("材料", "directory"),)


@pytest.fixture
def tool_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The commands rarfile runs. Stored data is routed like compressed data, to the tool.

    Real archives are compressed, which only the tool can undo; no free tool writes RAR, so
    the stored members built here are handed to the tool as rarfile hands compressed ones.
    """
    calls: list[list[str]] = []
    real_popen = rarfile.custom_popen

    def recording_popen(cmd: list[str]) -> subprocess.Popen[bytes]:
        calls.append(list(cmd))
        return real_popen(cmd)  # type: ignore[no-any-return]

    monkeypatch.setattr(rarfile, "custom_popen", recording_popen)
    monkeypatch.setattr(
        rarfile.CommonParser, "_open_clear", lambda self, inf: self._open_hack(inf, None)
    )
    yield calls


def test_rar_is_extracted_by_unar(docx: bytes, tool_calls: list[list[str]]) -> None:
    unar = require_tool("unar", "unar")

    result = unpack("材料.rar", rar4(rar_members(docx)))

    assert [(m.path, m.filename) for m in result.members] == EXPECTED_RAR
    assert [m.payload for m in result.members] == [docx, b"xls", b"ascii"]
    extractions = [cmd for cmd in tool_calls if "-version" not in cmd]
    assert len(extractions) == 3
    assert {cmd[0] for cmd in extractions} == {unar}


def test_rar_ignores_tools_that_cannot_read_it(
    docx: bytes, tool_calls: list[list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Debian's `unrar` is unrar-free and its 7zz has no RAR codec; both answer rarfile's
    # check, so rarfile's own choice would take them. Stand-ins that fail loudly prove
    # they are never asked.
    unar = require_tool("unar", "unar")
    tools = tmp_path / "bin"
    tools.mkdir()
    for impostor in ("unrar", "7z", "7zz", "bsdtar"):
        (tools / impostor).write_text("#!/bin/sh\necho wrong tool >&2\nexit 0\n")
        (tools / impostor).chmod(0o755)
    (tools / "unar").symlink_to(unar)
    monkeypatch.setenv("PATH", str(tools))

    (member,) = unpack("材料.rar", rar4([RarMember(REPORT.encode(), docx)])).members

    assert member.payload == docx
    assert {cmd[0] for cmd in tool_calls} == {str(tools / "unar")}


def test_rar_without_a_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    error = refusal("材料.rar", rar4([RarMember(b"report.docx", b"x")]))

    assert error.code == "tool_missing"
    assert error.message == "服务器无法解开 .rar 压缩包，请改用 .zip 或直接发送附件。"


def test_encrypted_rar() -> None:
    require_tool("unar", "unar")
    locked = RarMember(REPORT.encode(), b"????", encrypted=True)

    assert refusal("材料.rar", rar4([locked])).code == "encrypted"
    result = unpack("材料.rar", rar4([locked, RarMember(b"readme.txt", b"x")]))
    assert [m.path for m in result.members] == ["readme.txt"]
    assert result.skipped == (Skipped(REPORT, "encrypted_member"),)


def test_rar_with_encrypted_headers() -> None:
    require_tool("unar", "unar")
    payload = rar4([RarMember(REPORT.encode(), b"x")], locked_headers=True)

    assert refusal("材料.rar", payload).code == "encrypted"


def test_rar_unsafe_paths() -> None:
    require_tool("unar", "unar")
    payload = rar4([RarMember(b"..\\..\\evil.exe", b"e"), RarMember(b"good.docx", b"g")])

    result = unpack("材料.rar", payload)

    assert [m.path for m in result.members] == ["good.docx"]
    assert result.skipped == (Skipped("../../evil.exe", "unsafe_path"),)


def test_broken_rar() -> None:
    require_tool("unar", "unar")
    payload = rar4([RarMember(REPORT.encode(), os.urandom(3000))])

    assert refusal("材料.rar", payload[:2000]).code == "corrupt"
    assert refusal("材料.rar", b"Rar!\x1a\x07\x00" + os.urandom(50)).code == "corrupt"
    assert refusal("材料.rar", b"not a rar").code == "corrupt"


# --- eml ------------------------------------------------------------------------------------------


def test_forwarded_message(docx: bytes) -> None:
    payload = forwarded_eml(
        [(REPORT, docx), ("报名表.xlsx", b"xlsx")], inline_image=b"\x89PNG logo"
    )

    result = unpack("转发：参赛材料.eml", payload)

    assert result == Unpacked(
        members=(
            Member(REPORT, REPORT, docx, "转发：参赛材料.eml"),
            Member("报名表.xlsx", "报名表.xlsx", b"xlsx", "转发：参赛材料.eml"),
        ),
        skipped=(),
    )


def test_archive_attached_to_a_forwarded_message(docx: bytes) -> None:
    payload = forwarded_eml([("材料.zip", gbk_zip([(REPORT, docx)]))])

    (member,) = unpack("转发.eml", payload).members

    assert (member.path, member.payload, member.source) == (REPORT, docx, "转发.eml/材料.zip")
