"""The font, size and boldness Word displays a run with, after styles and theme fonts.

A school's .docx rarely states its fonts on the text itself: Word, WPS and LibreOffice record
`w:eastAsia="宋体"` on the run, in its character or paragraph style, in the Normal style, in the
document defaults, or only as a theme font (`w:eastAsiaTheme="minorEastAsia"`, resolved from
word/theme/theme1.xml). python-docx's `font.name` reads only `w:ascii`, so every run is
resolved here in Word's order:

1. the run's own properties (`w:rPr`);
2. its character style (`w:rStyle`) and that style's `w:basedOn` chain;
3. its paragraph's style (`w:pStyle`, else the default paragraph style) and its chain;
4. the document defaults (`w:docDefaults/w:rPrDefault`).

Each property (East Asian font, Latin font, size, bold) is taken from the first level that
states it. A theme reference (`w:eastAsiaTheme`, `w:asciiTheme`) wins over the plain name at
the same level, as in Word; the theme's `a:ea` typeface is used, or its `a:font script="Hans"`
entry when `a:ea` is empty (Word's choice for a document in simplified Chinese). Table styles
and numbering formats are not applied, and toggle properties (bold) are not XOR-ed between the
paragraph and character style hierarchies: the first level that states bold decides.

Font names are normalised to the Chinese names Chinese Word shows ("SimSun" → "宋体",
"仿宋_GB2312" → "仿宋", …); other names are kept as written. A level that names no font leaves
the property to the next; when no level names one, the font is "" and such runs are left out
of a paragraph's font lists (Chinese Word then shows its own default, 宋体).
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.documents.docx_xml import A, Element, W, half_points, on

_FONT_NAMES = {
    "simsun": "宋体",
    "nsimsun": "新宋体",
    "simhei": "黑体",
    "kaiti": "楷体",
    "kaiti_gb2312": "楷体",
    "楷体_gb2312": "楷体",
    "fangsong": "仿宋",
    "fangsong_gb2312": "仿宋",
    "仿宋_gb2312": "仿宋",
    "microsoft yahei": "微软雅黑",
}
_CAPTION_STYLE_WORDS = ("caption", "题注")


@dataclass(frozen=True)
class RunStyle:
    """How one run is displayed: its effective East Asian and Latin font, size and boldness.

    A font is "" when no level names one; `size_pt` is None when no level states a size
    (Word then shows 10 pt).
    """

    east_asia: str
    latin: str
    size_pt: float | None
    bold: bool


@dataclass(frozen=True)
class _Layer:
    """What one level (a run, a style, the defaults) states; None where it says nothing."""

    east_asia: str | None = None
    latin: str | None = None
    size_pt: float | None = None
    bold: bool | None = None


def theme_fonts(theme: Element | None) -> dict[str, str]:
    """Theme font names by w:…Theme value: "minorEastAsia" → "宋体", "minorHAnsi" → …"""
    fonts: dict[str, str] = {}
    if theme is None:
        return fonts
    for kind in ("major", "minor"):
        scheme = next(theme.iter(f"{A}{kind}Font"), None)
        if scheme is None:
            continue
        latin = _typeface(scheme.find(f"{A}latin"))
        east_asia = _typeface(scheme.find(f"{A}ea"))
        if not east_asia:
            hans = [f for f in scheme.iterfind(f"{A}font") if f.get("script") == "Hans"]
            east_asia = _typeface(hans[0]) if hans else ""
        complex_script = _typeface(scheme.find(f"{A}cs"))
        for key, value in (
            ("Ascii", latin),
            ("HAnsi", latin),
            ("EastAsia", east_asia),
            ("Bidi", complex_script),
        ):
            if value:
                fonts[f"{kind}{key}"] = value
    return fonts


def _typeface(element: Element | None) -> str:
    return "" if element is None else (element.get("typeface") or "").strip()


class Styles:
    """The styles part and theme of one document, resolving runs to what Word displays."""

    def __init__(self, styles: Element | None, theme_fonts: dict[str, str]) -> None:
        self._theme = theme_fonts
        self._properties: dict[str, Element | None] = {}
        self._based_on: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._chains: dict[str, tuple[_Layer, ...]] = {}
        self.default_paragraph_style: str | None = None
        self.defaults = _Layer()
        if styles is None:
            return
        for style in styles.iterfind(f"{W}style"):
            style_id = style.get(f"{W}styleId")
            if not style_id:
                continue
            self._properties[style_id] = style.find(f"{W}rPr")
            name = style.find(f"{W}name")
            self._names[style_id] = "" if name is None else name.get(f"{W}val") or ""
            based_on = style.find(f"{W}basedOn")
            if based_on is not None and based_on.get(f"{W}val"):
                self._based_on[style_id] = based_on.get(f"{W}val")
            if (
                style.get(f"{W}type") == "paragraph"
                and on(style.get(f"{W}default"), missing=False)
                and self.default_paragraph_style is None
            ):
                self.default_paragraph_style = style_id
        defaults = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr")
        self.defaults = self.layer(defaults)

    def paragraph_style(self, paragraph: Element) -> str | None:
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        style_id = None if style is None else style.get(f"{W}val")
        if style_id in self._properties:
            return str(style_id)
        return self.default_paragraph_style

    def is_caption(self, paragraph: Element) -> bool:
        """Whether the paragraph's style, or a style it is based on, is a caption style:
        an id or name containing "caption" (Word's built-in 题注 style) or "题注"."""
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        current = None if style is None else style.get(f"{W}val")
        seen: set[str] = set()
        while current and current not in seen:
            seen.add(current)
            words = f"{current} {self._names.get(current, '')}".lower()
            if any(word in words for word in _CAPTION_STYLE_WORDS):
                return True
            current = self._based_on.get(current)
        return False

    def run_style(self, run: Element, paragraph_style: str | None) -> RunStyle:
        properties = run.find(f"{W}rPr")
        layers = [self.layer(properties)]
        if properties is not None:
            character_style = properties.find(f"{W}rStyle")
            if character_style is not None:
                layers.extend(self.chain(character_style.get(f"{W}val")))
        layers.extend(self.chain(paragraph_style))
        layers.append(self.defaults)
        east_asia = next((x.east_asia for x in layers if x.east_asia is not None), "")
        latin = next((x.latin for x in layers if x.latin is not None), "")
        size = next((x.size_pt for x in layers if x.size_pt is not None), None)
        bold = next((x.bold for x in layers if x.bold is not None), False)
        return RunStyle(east_asia=east_asia, latin=latin, size_pt=size, bold=bold)

    def chain(self, style_id: str | None) -> tuple[_Layer, ...]:
        """The layers of a style and its basedOn ancestors, nearest first."""
        if not style_id or style_id not in self._properties:
            return ()
        cached = self._chains.get(style_id)
        if cached is not None:
            return cached
        layers: list[_Layer] = []
        seen: set[str] = set()
        current: str | None = style_id
        while current is not None and current in self._properties and current not in seen:
            seen.add(current)
            layers.append(self.layer(self._properties[current]))
            current = self._based_on.get(current)
        self._chains[style_id] = tuple(layers)
        return self._chains[style_id]

    def layer(self, properties: Element | None) -> _Layer:
        if properties is None:
            return _Layer()
        fonts = properties.find(f"{W}rFonts")
        size = properties.find(f"{W}sz")
        bold = properties.find(f"{W}b")
        return _Layer(
            east_asia=self._font(fonts, "eastAsiaTheme", "eastAsia"),
            latin=self._font(fonts, "asciiTheme", "ascii"),
            size_pt=None if size is None else half_points(size.get(f"{W}val")),
            bold=None if bold is None else on(bold.get(f"{W}val")),
        )

    def _font(self, fonts: Element | None, theme_attribute: str, attribute: str) -> str | None:
        if fonts is None:
            return None
        theme = fonts.get(f"{W}{theme_attribute}")
        name = self._theme.get(theme) if theme else None
        name = name or (fonts.get(f"{W}{attribute}") or "").strip()
        return _font_name(name) if name else None


def _font_name(name: str) -> str:
    """The name Chinese Word shows for a font: "SimSun" → "宋体"."""
    name = name.strip()
    return _FONT_NAMES.get(name.lower(), name)
