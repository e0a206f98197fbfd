"""Word's 字数: East Asian characters one by one, and other words."""

from __future__ import annotations

import re

# Characters Word counts one by one in 字数 (see word_count).
_EAST_ASIAN_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3001, 0x303F),  # CJK symbols and punctuation, without the ideographic space
    (0x3040, 0x30FF),  # kana
    (0x3100, 0x312F),  # bopomofo
    (0x3190, 0x33FF),  # kanbun, enclosed CJK, CJK compatibility
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF01, 0xFF60),  # full-width forms: ！ ， ： （ ） Ａ １ …
    (0xFFE0, 0xFFE6),  # full-width signs: ￥ ￡ …
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
# Punctuation of Chinese text that lies outside the CJK blocks: “ ” ‘ ’ — … ·
_EAST_ASIAN_PUNCTUATION = frozenset("\u201c\u201d\u2018\u2019\u2014\u2015\u2026\u00b7")


def word_count(text: str) -> int:
    """Word's 字数 (中文字符和朝鲜语单词 + 非中文单词) of `text`.

    - Every East Asian character counts one: CJK ideographs (all extensions), kana, Hangul
      syllables, full-width forms (，。！？：；（）、 full-width letters and digits, ￥),
      the CJK symbols and punctuation block (、。《》「」【】〔〕…, not the ideographic space
      U+3000), and the punctuation Chinese text borrows from general punctuation:
      “ ” ‘ ’ — ― … ·.
    - Every maximal run of other letters and digits (Latin, Greek, …) counts one word; "."
      "," "'" "-" "_" between two of them join the run ("3.5", "1,000", "e-mail" are one).
    - Spaces and other ASCII punctuation count nothing.

    "我校2021年PISA测试" is 我 校 2021 年 PISA 测 试 = 7.
    """
    return len(_EAST_ASIAN.findall(text)) + len(_OTHER_WORD.findall(text))


def is_east_asian(char: str) -> bool:
    return _EAST_ASIAN.match(char) is not None


def has_east_asian(text: str) -> bool:
    return _EAST_ASIAN.search(text) is not None


def has_other_than_east_asian(text: str) -> bool:
    """Any visible character that is not East Asian (a Latin letter, a digit, a comma)."""
    return _NOT_EAST_ASIAN.search(text) is not None


# The same rules as regular expressions, which run in C: a report has tens of thousands of
# characters, and a loop over them in Python took longer than reading the whole .docx.
_EAST_ASIAN_CLASS = "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _EAST_ASIAN_RANGES) + (
    "".join(f"\\U{ord(char):08x}" for char in sorted(_EAST_ASIAN_PUNCTUATION))
)
_EAST_ASIAN = re.compile(f"[{_EAST_ASIAN_CLASS}]")
_NOT_EAST_ASIAN = re.compile(f"[^\\s{_EAST_ASIAN_CLASS}]")
# Letters and digits that are not East Asian (\w without "_" is str.isalnum()), joined by
# one joiner between two of them.
_LETTER = f"[^\\W_{_EAST_ASIAN_CLASS}]"
_OTHER_WORD = re.compile(f"{_LETTER}+(?:[.,'\\-_]{_LETTER}+)*")
