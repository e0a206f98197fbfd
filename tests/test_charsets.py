"""Charset repairs against the bytes Chinese mail clients really send."""

from __future__ import annotations

import pytest

from intake.charsets import (
    decode_bytes,
    decode_header_value,
    decode_unlabelled,
    decode_zip_member_name,
    normalize_charset,
    recover_8bit,
)


def as_compat32(raw: bytes) -> str:
    """A header value as email's compat32 parser stores raw 8-bit bytes: surrogate-escaped."""
    return raw.decode("ascii", "surrogateescape")


# --- normalize_charset -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "gb2312",
        "GB2312",
        '"gb2312"',
        "gbk",
        "GBK",
        "x-gbk",
        "cp936",
        "CP936",
        "gb_2312-80",
        "GB_2312-80",
        "euc-cn",
        "EUC-CN",
        "gb18030",
        "GB18030",
        "windows-936",
        "gb2312*zh-cn",
    ],
)
def test_gb_family_labels_become_gb18030(label: str) -> None:
    assert normalize_charset(label) == "gb18030"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ("us-ascii", "ascii"),
        ("ISO-8859-1", "iso8859-1"),
        ("Big5", "big5"),
        ("UTF-16", "utf-16"),
        (None, "utf-8"),
        ("", "utf-8"),
        ("   ", "utf-8"),
        ("x-unknown", "utf-8"),
        ("unknown-8bit", "utf-8"),
        # Codecs Python knows but that are not text charsets must never be used on mail.
        ("base64", "utf-8"),
        ("rot13", "utf-8"),
        ("zlib", "utf-8"),
        ("undefined", "utf-8"),
        ("\x00", "utf-8"),
    ],
)
def test_other_labels(label: str | None, expected: str) -> None:
    assert normalize_charset(label) == expected


# --- decode_bytes ----------------------------------------------------------------------------

GBK_NAME = "报名表 王喆".encode("gbk")  # 喆 is not in GB2312


def test_gb2312_label_on_gbk_text() -> None:
    assert decode_bytes(GBK_NAME, "gb2312") == "报名表 王喆"


def test_utf8_label_on_gbk_text_falls_back_to_gb18030() -> None:
    assert decode_bytes("双流区堃玥小学".encode("gbk"), "utf-8") == "双流区堃玥小学"


def test_ascii_label_on_gbk_text_falls_back_to_gb18030() -> None:
    assert decode_bytes("镕喆中学".encode("gbk"), "us-ascii") == "镕喆中学"


def test_gbk_label_on_utf8_text_falls_back_to_utf8_when_not_valid_gb18030() -> None:
    # 喆 alone in UTF-8 is three bytes: an odd length that GB18030 cannot decode.
    assert decode_bytes("喆".encode(), "gbk") == "喆"


def test_unknown_label_tries_utf8_then_gb18030() -> None:
    assert decode_bytes("镕喆中学".encode(), "x-unknown") == "镕喆中学"
    assert decode_bytes("镕喆中学".encode("gb18030"), "x-unknown") == "镕喆中学"


def test_undecodable_bytes_become_replacement_characters_not_nothing() -> None:
    text = decode_bytes(b"ab\xff\x80\xffcd", "utf-8")
    assert text.startswith("ab") and text.endswith("cd")
    assert "\ufffd" in text


def test_decode_unlabelled_keeps_the_reading_that_loses_less() -> None:
    truncated_gbk = "双流区堃玥小学".encode("gbk")[:-1]
    assert decode_unlabelled(truncated_gbk) == "双流区堃玥小\ufffd"


# --- decode_header_value ---------------------------------------------------------------------


def test_gb2312_encoded_word_with_a_character_outside_gb2312() -> None:
    assert decode_header_value("=?gb2312?B?sajD+7HtIM31hrQ=?=") == "报名表 王喆"


def test_utf8_words_split_in_the_middle_of_a_character() -> None:
    # The first word ends with the first two bytes of 堃 (E5 A0 83); the second starts with 83.
    value = "=?utf-8?B?5oiQ6YO95biC5Y+M5rWB5Yy65aCD5w==?=\r\n =?utf-8?B?jqXlsI/lrablj4LotZvkvZzlk4HmiqXlkI3ooag=?="
    assert decode_header_value(value) == "成都市双流区堃玥小学参赛作品报名表"


def test_gb18030_words_split_in_the_middle_of_a_character() -> None:
    value = "=?GB18030?B?6UaGtNbQ0ae5?= =?GB18030?B?2NPasajLzbjEvfiwuMD9tcS6rw==?="
    assert decode_header_value(value) == "镕喆中学关于报送改进案例的函"


def test_split_words_whose_labels_differ_only_in_gb_family_name() -> None:
    value = "=?gb2312?B?6UaGtNbQ0ae5?= =?GBK?B?2NPasajLzbjEvfiwuMD9tcS6rw==?="
    assert decode_header_value(value) == "镕喆中学关于报送改进案例的函"


def test_raw_8bit_gbk_header() -> None:
    raw = "双流区堃玥小学 报名表".encode("gbk")
    assert decode_header_value(as_compat32(raw)) == "双流区堃玥小学 报名表"


def test_raw_8bit_utf8_header() -> None:
    raw = "镕喆中学改进案例（一）".encode()
    assert decode_header_value(as_compat32(raw)) == "镕喆中学改进案例（一）"


def test_qq_quoted_encoded_word_inside_a_parameter() -> None:
    value = (
        'application/octet-stream;\r\n\tname="=?gb18030?B?6UaGtNbQ0ae4xL34sLjA/aOo0rujqS5kb2N4?="'
    )
    assert decode_header_value(value) == (
        'application/octet-stream;\tname="镕喆中学改进案例（一）.docx"'
    )


def test_text_around_encoded_words_keeps_its_spaces() -> None:
    value = "Re: =?gbk?B?sajD+7HtIM31hrQ=?= (第2次)"
    assert decode_header_value(value) == "Re: 报名表 王喆 (第2次)"


def test_adjacent_words_without_whitespace_are_joined() -> None:
    value = "=?GB18030?B?6UaGtNbQ0ae5?==?GB18030?B?2NPasajLzbjEvfiwuMD9tcS6rw==?="
    assert decode_header_value(value) == "镕喆中学关于报送改进案例的函"


def test_quoted_printable_word_with_rfc2231_language() -> None:
    assert decode_header_value("=?utf-8*zh?Q?=E9=95=95=E5=96=86_A?=") == "镕喆 A"


def test_unknown_charset_in_a_word_still_decodes() -> None:
    assert decode_header_value("=?x-unknown?B?6ZWV5ZaG5Lit5a2m?=") == "镕喆中学"


def test_broken_base64_word_is_kept_literally_and_does_not_raise() -> None:
    value = "=?utf-8?B?5oiQ6YO9?= =?utf-8?B?*?=x"
    assert decode_header_value(value).startswith("成都")


def test_plain_ascii_is_unchanged() -> None:
    assert decode_header_value("Hello, world") == "Hello, world"


def test_recover_8bit_leaves_clean_text_alone() -> None:
    assert recover_8bit("报名表") == "报名表"


def test_recover_8bit_replaces_surrogates_that_did_not_come_from_bytes() -> None:
    assert recover_8bit("a\ud800b") == "a\ufffdb"


# --- decode_zip_member_name ------------------------------------------------------------------


def test_zip_name_from_chinese_windows_is_gbk_without_flag() -> None:
    as_read = "双流区堃玥小学/报告.docx".encode("gbk").decode("cp437")
    assert decode_zip_member_name(as_read, 0) == "双流区堃玥小学/报告.docx"


def test_zip_name_from_macos_is_utf8_without_flag() -> None:
    as_read = "镕喆中学/改进案例.docx".encode().decode("cp437")
    assert decode_zip_member_name(as_read, 0) == "镕喆中学/改进案例.docx"


def test_zip_name_with_utf8_flag_is_kept() -> None:
    assert decode_zip_member_name("镕喆中学.docx", 0x800) == "镕喆中学.docx"


def test_zip_name_that_is_neither_stays_as_read() -> None:
    as_read = b"\xff\xfe\xfd.txt".decode("cp437")
    assert decode_zip_member_name(as_read, 0) == as_read
    assert decode_zip_member_name("report.docx", 0) == "report.docx"
