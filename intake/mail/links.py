"""QQ 超大附件 (ultra-large attachment) links announced in a message body."""

from __future__ import annotations

import re

from intake.domain import LargeFileLink

# Old form: http://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=…&code=…
# New form: https://wx.mail.qq.com/ftn/download?func=3&key=…&code=… (also iwx., exmail.)
_URL = re.compile(
    r"https?://(?:[a-z0-9-]+\.)*(?:ex)?mail\.qq\.com"
    r"/(?:cgi-bin/ftnExs_download|ftn/download)\?[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+",
    re.IGNORECASE,
)
# "名称.mp4 (128.03M, 2021年5月20日 21:59 到期)": the name runs from the start of its line (or
# the previous link) to the parenthesis; QQ writes ASCII or full-width parentheses and commas.
# The size needs its unit so that "作品(1).mp4" is not read as a one-byte entry.
_ENTRY = re.compile(
    r"(?P<name>[^\s(（][^\n]*?)\s*[(（]\s*(?P<size>\d+(?:\.\d+)?\s*(?:[KMGT]B?|B))\s*"
    r"(?:[,，]\s*(?P<expires>[^()（）\n]*?)\s*(?:到期)?\s*)?[)）]",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'"
_LABEL_PREFIX = re.compile(r"^(?:从QQ邮箱发来的超大附件|进入下载页面|下载)[\s：:]*")


def find_large_file_links(text: str) -> tuple[LargeFileLink, ...]:
    """Every QQ ultra-large attachment link in text, once per URL, in order of appearance.

    The file name, size and expiry are read from the "名称 (size, date 到期)" entry written
    before the link, or, when there is none, after it (HTML cards put the link first).
    A link without such an entry is still returned, with empty name, size and expiry.
    """
    matches = list(_URL.finditer(text))
    found: dict[str, LargeFileLink] = {}
    for index, match in enumerate(matches):
        url = match.group().rstrip(_TRAILING)
        before = text[matches[index - 1].end() if index else 0 : match.start()]
        after = text[match.end() : matches[index + 1].start() if index + 1 < len(matches) else None]
        link = _describe(url, before, after)
        known = found.get(url)
        if known is None or (not known.filename and link.filename):
            found[url] = link
    return tuple(found.values())


def _describe(url: str, before: str, after: str) -> LargeFileLink:
    entries = list(_ENTRY.finditer(before))
    entry = entries[-1] if entries else _ENTRY.search(after)
    if entry is None:
        return LargeFileLink(filename="", size_text="", expires_text="", url=url)
    return LargeFileLink(
        filename=_LABEL_PREFIX.sub("", entry.group("name").strip()),
        size_text=re.sub(r"\s+", "", entry.group("size")),
        expires_text=(entry.group("expires") or "").strip(),
        url=url,
    )
