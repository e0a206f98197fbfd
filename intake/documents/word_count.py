"""Word's 字数: East Asian characters one by one, and other words."""

from __future__ import annotations

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
# Joins letters and digits into one word when between them: "3.5", "1,000", "e-mail".
_WORD_JOINERS = frozenset(".,'-_")


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
    count = 0
    in_word = False
    for position, char in enumerate(text):
        if is_east_asian(char):
            count += 1
            in_word = False
        elif char.isalnum():
            if not in_word:
                count += 1
                in_word = True
        elif in_word and char in _WORD_JOINERS and _word_continues(text, position + 1):
            continue
        else:
            in_word = False
    return count


def is_east_asian(char: str) -> bool:
    if char in _EAST_ASIAN_PUNCTUATION:
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _EAST_ASIAN_RANGES)


def _word_continues(text: str, position: int) -> bool:
    return position < len(text) and text[position].isalnum() and not is_east_asian(text[position])
