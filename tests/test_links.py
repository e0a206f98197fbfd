"""QQ 超大附件 links as QQ Mail writes them into message bodies."""

from __future__ import annotations

import time

from intake.domain import LargeFileLink
from intake.mail.links import find_large_file_links

OLD_URL_1 = (
    "http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download"
    "&k=2a6164383f9a4cc8c6f8bcf31c3a054b1f5b5c0d57550e0e1d5c510a54184a5d5d555d1f5d0c06"
    "&code=2e2a1bc9"
)
OLD_URL_2 = (
    "http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download"
    "&k=0b3938613de1c9cc9df9e8a6182e004a1c0b5d0d5100060e1c0c0d0300491e5a0f0f01195a5b0101"
    "&code=9d21c4e7"
)
NEW_URL = (
    "https://wx.mail.qq.com/ftn/download?func=3"
    "&key=9d99e661d02acf1eafea48613463323981c72e64366332394749570757020601045e4b59"
    "&code=bffa6c29"
    "&k=9d99e661d02acf1eafea48613463323981c72e64366332394749570757020601045e4b59"
)

# The plain-text part of a 2021 QQ web mail carrying two ultra-large attachments.
OLD_PLAIN_TEXT = (
    "各位老师好，我校的参赛视频较大，请从下面的链接下载。\r\n"
    "\r\n"
    "从QQ邮箱发来的超大附件\r\n"
    "\r\n"
    f"双流区堃玥小学课堂实录.mp4 (128.03M, 2021年5月20日 21:59 到期)进入下载页面：{OLD_URL_1}\r\n"
    "\r\n"
    f"镕喆中学 说课(终稿).mp4 (1.2G, 2021年5月27日 08:05 到期)进入下载页面：{OLD_URL_2}\r\n"
)


def test_old_plain_text_form_gives_name_size_expiry_and_url() -> None:
    assert find_large_file_links(OLD_PLAIN_TEXT) == (
        LargeFileLink(
            filename="双流区堃玥小学课堂实录.mp4",
            size_text="128.03M",
            expires_text="2021年5月20日 21:59",
            url=OLD_URL_1,
        ),
        LargeFileLink(
            filename="镕喆中学 说课(终稿).mp4",
            size_text="1.2G",
            expires_text="2021年5月27日 08:05",
            url=OLD_URL_2,
        ),
    )


def test_full_width_punctuation_is_read_too() -> None:
    text = f"镕喆中学改进案例.zip（86.5M，2021年6月1日 10:00 到期）进入下载页面：{OLD_URL_1}"
    (link,) = find_large_file_links(text)
    assert (link.filename, link.size_text, link.expires_text) == (
        "镕喆中学改进案例.zip",
        "86.5M",
        "2021年6月1日 10:00",
    )


def test_new_link_with_entry_after_the_link_as_html_cards_write_it() -> None:
    # What the HTML reducer makes of <a href=URL>name</a> (size, expiry 到期).
    text = (
        f"从QQ邮箱发来的超大附件\n {NEW_URL} "
        "双流区堃玥小学课堂实录.mp4 (1.35G, 2021年6月3日 10:20 到期)"
    )
    assert find_large_file_links(text) == (
        LargeFileLink(
            filename="双流区堃玥小学课堂实录.mp4",
            size_text="1.35G",
            expires_text="2021年6月3日 10:20",
            url=NEW_URL,
        ),
    )


def test_name_on_the_line_above_the_size() -> None:
    text = f"{NEW_URL}\n双流区堃玥小学课堂实录.mp4\n(1.35G, 2021年6月3日 10:20 到期)\n"
    (link,) = find_large_file_links(text)
    assert (link.filename, link.size_text) == ("双流区堃玥小学课堂实录.mp4", "1.35G")


def test_link_without_an_entry_is_still_reported() -> None:
    text = f"视频太大了，放在这里：{NEW_URL}。谢谢！"
    assert find_large_file_links(text) == (
        LargeFileLink(filename="", size_text="", expires_text="", url=NEW_URL),
    )


def test_url_stops_at_chinese_text_and_trailing_punctuation() -> None:
    (link,) = find_large_file_links(f"下载：{NEW_URL}.请尽快下载")
    assert link.url == NEW_URL


def test_same_url_twice_is_one_link_keeping_the_named_entry() -> None:
    # HTML bodies carry the URL both as href and as visible text.
    text = f"{OLD_PLAIN_TEXT}\n{OLD_URL_1}\n"
    links = find_large_file_links(text)
    assert [link.url for link in links] == [OLD_URL_1, OLD_URL_2]
    assert links[0].filename == "双流区堃玥小学课堂实录.mp4"


def test_other_qq_and_foreign_links_are_ignored() -> None:
    text = (
        "https://mail.qq.com/cgi-bin/frame_html?sid=abc\n"
        "https://pan.baidu.com/s/1abcdEFG 提取码: x1y2\n"
        "http://example.com/cgi-bin/ftnExs_download?k=1&code=2\n"
    )
    assert find_large_file_links(text) == ()


def test_long_text_without_entries_stays_fast() -> None:
    text = NEW_URL + " " + "很" * 200_000 + "(" + "1" * 50_000 + " " + NEW_URL
    started = time.monotonic()
    find_large_file_links(text)
    assert time.monotonic() - started < 2.0
