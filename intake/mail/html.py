"""HTML mail bodies reduced to text, for reading what a school (or a robot) wrote.

QQ's vacation replies and 超大附件 notices are often HTML only.
"""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser

log = logging.getLogger(__name__)


class _HtmlText(HTMLParser):
    """Reduces HTML to text; also keeps a copy with every link's href written before its text."""

    _BLOCKS = frozenset(
        {"address", "article", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figure"}
        | {"footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main"}
        | {"nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "td"}
        | {"th", "ul"}
    )
    _HIDDEN = frozenset({"script", "style", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.linked: list[str] = []
        self._hidden = 0
        self._at_line_start = True

    def _emit(self, chunk: str) -> None:
        self.text.append(chunk)
        self.linked.append(chunk)
        if chunk.strip(" "):
            self._at_line_start = chunk.endswith("\n")

    def _break_block(self) -> None:
        # Adjacent blocks (</div><div>) make one line break; only <br> makes blank lines.
        if not self._at_line_start:
            self._emit("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._emit("\n")
        elif tag in self._BLOCKS:
            self._break_block()
        if tag == "a":
            # Before the anchor's text: that text is often the file name with "(size, … 到期)"
            # right after the anchor, and a URL written between them would split the entry.
            self.linked.append(f" {dict(attrs).get('href') or ''} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self._break_block()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._emit(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str) -> tuple[str, str]:
    """The text of an HTML body, and the same text with link targets, for finding links."""
    reducer = _HtmlText()
    try:
        reducer.feed(html)
        reducer.close()
    except AssertionError:
        # html.parser asserts on some malformed declarations; keep what was read until then.
        log.warning("malformed HTML body", exc_info=True)
    return _tidy("".join(reducer.text)), _tidy("".join(reducer.linked))


def _tidy(text: str) -> str:
    lines = [line.strip() for line in text.replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
