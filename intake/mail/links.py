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
# "名称.mp4 (128.03M, 2021年5月20日 21:59 到期)": QQ writes ASCII or full-width parentheses
# and commas. The size needs its unit so that "作品(1).mp4" is not read as an entry. Matching
# starts only at a parenthesis and every repetition is bounded, so the search stays linear.
_SIZE_GROUP = re.compile(
    r"[(（]\s{0,5}(?P<size>\d{1,10}(?:\.\d{1,5})?\s?(?:[KMGT]B?|B))\s{0,5}"
    r"(?:[,，]\s{0,5}(?P<expires>[^()（）\n]{0,80}?)\s{0,5}(?:到期)?\s{0,5})?[)）]",
    re.IGNORECASE,
)
_MAX_NAME = 255
_TRAILING = ".,;:!?'"
# HTML reduced to text can put the announcement on the same line as the first file name.
_LABEL_PREFIX = re.compile(r"^从QQ邮箱发来的超大附件[\s：:]*")


def find_large_file_links(text: str) -> tuple[LargeFileLink, ...]:
    """Every QQ ultra-large attachment link in text, once per URL, in order of appearance.

    The file name, size and expiry come from the "名称 (size, date 到期)" entry next to the
    link: the plain-text form writes it before the link; an HTML card may write it after. When
    the first link has its entry only after it, every link is read that way. A link without an
    entry is still returned, with empty name, size and expiry.
    """
    matches = list(_URL.finditer(text))
    segments = [
        (
            text[matches[index - 1].end() if index else 0 : match.start()],
            text[match.end() : matches[index + 1].start() if index + 1 < len(matches) else None],
        )
        for index, match in enumerate(matches)
    ]
    entry_after = bool(segments) and not _entries(segments[0][0])
    found: dict[str, LargeFileLink] = {}
    for match, (before, after) in zip(matches, segments, strict=True):
        url = match.group().rstrip(_TRAILING)
        candidates = ([] if entry_after else _entries(before)[-1:]) or _entries(after)[:1]
        link = _link(url, *candidates[0]) if candidates else LargeFileLink("", "", "", url)
        known = found.get(url)
        if known is None or (not known.filename and link.filename):
            found[url] = link
    return tuple(found.values())


def _entries(segment: str) -> list[tuple[str, re.Match[str]]]:
    """Each "(size, expiry 到期)" group with the name written before it on its line."""
    entries: list[tuple[str, re.Match[str]]] = []
    previous_end = 0
    for group in _SIZE_GROUP.finditer(segment):
        # rstrip first: an HTML card may put the name on the line above the size.
        name = segment[previous_end : group.start()].rstrip().rsplit("\n", 1)[-1].strip()
        entries.append((_LABEL_PREFIX.sub("", name[-_MAX_NAME:]).strip(), group))
        previous_end = group.end()
    return entries


def _link(url: str, name: str, group: re.Match[str]) -> LargeFileLink:
    return LargeFileLink(
        filename=name,
        size_text=re.sub(r"\s+", "", group.group("size")),
        expires_text=(group.group("expires") or "").strip(),
        url=url,
    )
