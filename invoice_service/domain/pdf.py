"""Text and rules on A4 pages, written as PDF by fpdf2 with embedded Unicode fonts.

An invoice is a legal document: it must print the customer's and the seller's names and
addresses exactly as given, in any script. The 14 standard PDF fonts cannot (they know
Windows-1252 only), so the document embeds its fonts, each cut down by fpdf2 (with
fontTools) to the glyphs it uses:

- Noto Sans: Latin, Greek, Cyrillic; the text of the invoice itself;
- Noto Sans Arabic: Arabic letters, joined in their contextual forms and set right to
  left by HarfBuzz (uharfbuzz), in the order of the Unicode bidirectional algorithm;
- WenQuanYi Micro Hei: Chinese, Japanese and Korean (about 21,000 ideographs, kana and
  all 11,172 Hangul syllables in 5 MB; it has no bold, so bold CJK text is set in its
  regular glyphs). It is loaded only for a document that has a character the other two
  lack, which keeps the render of most invoices fast.

The fonts are static TrueType files in invoice_service/fonts (the function's package),
not variable ones: fpdf2 instantiates a variable font per document, which takes seconds.

A character no font has becomes "?", and control characters and line breaks become
spaces, so no customer's name can break the document.

fpdf2 (with Pillow, fontTools and HarfBuzz) is imported on the first document, not with
this module: a cold start that renders no PDF never pays for it.

A font file is parsed once per container (`_parsed_font`): its metrics, character map
and glyph ids are the same for every document, and parsing Noto Sans's two styles was
half of every invoice's render. Each document gets its own copy of the parsed font
with what a document changes in it reset: the glyphs it used, and a freshly opened
fontTools font (fpdf2 cuts that one down to those glyphs, in place, when it writes the
file).

The output depends on its input only: the creation date is the invoice's date, and
fpdf2 writes no clock time or random identifier otherwise; the same invoice gives the
same bytes.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

PAGE_WIDTH = 595  # A4 in points (1/72 inch)
PAGE_HEIGHT = 842

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"

Font = Literal["regular", "bold"]
REGULAR: Font = "regular"
BOLD: Font = "bold"
_STYLE: dict[Font, str] = {REGULAR: "", BOLD: "B"}

# family -> fpdf2 style -> file in FONTS_DIR
_LATIN, _ARABIC, _CJK = "sans", "arabic", "cjk"
_FONT_FILES: dict[str, dict[str, str]] = {
    _LATIN: {"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf"},
    _ARABIC: {"": "NotoSansArabic-Regular.ttf", "B": "NotoSansArabic-Bold.ttf"},
    _CJK: {"": "wqy-microhei.ttc"},
}

# fpdf2 puts a cell's baseline half its height plus 0.3 of the font size below its
# top; a cell as tall as its font size has its baseline 0.8 of the size below its top.
_BASELINE = 0.8


def wrap(text: str, width_of: Callable[[str], float], width: float) -> list[str]:
    """`text` broken into lines no wider than `width` (as `width_of` measures them):
    between words where it can, inside a word that is wider than a whole line on its
    own. Never an empty list."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if width_of(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and width_of(current + char) > width:
                lines.append(current)
                current = ""
            current += char
    lines.append(current)
    return lines


def _is_right_to_left(text: str) -> bool:
    """Whether the first strongly directional character of `text` is right-to-left
    (Arabic, Hebrew...): the Unicode bidirectional algorithm's paragraph direction."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


@dataclass
class Page:
    """One page's drawing, with coordinates from the bottom-left corner; written out
    by `Typesetter.document`."""

    operations: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        font: Font = REGULAR,
        size: float = 10,
        align: Literal["left", "right", "center"] = "left",
    ) -> None:
        """Draw one line of text on the baseline `y`; with align="right", `x` is where
        the text ends."""
        self.operations.append(("text", (x, y, text, font, size, align)))

    def rule(self, x1: float, y1: float, x2: float, y2: float, *, weight: float = 0.5) -> None:
        """Draw a straight line."""
        self.operations.append(("rule", (x1, y1, x2, y2, weight)))


_LAYOUT_TABLES = ("GDEF", "GSUB", "GPOS")


@dataclass(frozen=True)
class _ParsedFont:
    """A font file fpdf2 has parsed, and how to give a document a copy of it."""

    font: TTFFont
    path: Path
    collection_font_number: int

    def for_document(self, index: int) -> TTFFont:
        from fontTools import ttLib
        from fpdf.fonts import SubsetMap

        font = copy.copy(self.font)  # shares the read-only metrics, maps and ids
        font.i = index  # the font's number in this document's resources
        font.ttfont = ttLib.TTFont(self.path, recalcTimestamp=False, fontNumber=self.collection_font_number, lazy=True)
        # fpdf2 drops the layout tables from the subset it embeds (shaping reads the file
        # through HarfBuzz, not this object); left in, fontTools would decompile them on
        # every document just to drop them.
        for tag in _LAYOUT_TABLES:
            if tag in font.ttfont:
                del font.ttfont[tag]
        font._hbfont = None  # HarfBuzz's view of the font, built on first use
        font.biggest_size_pt = 0
        font.missing_glyphs = []
        font.subset = SubsetMap(font)
        return font


@cache
def _parsed_font(family: str, style: str, file: str) -> _ParsedFont:
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    scratch = FPDF(unit="pt")
    scratch.add_font(family, style, FONTS_DIR / file)
    font = scratch.fonts[family + style]
    assert isinstance(font, TTFFont)  # what add_font makes of a font file (the union has core fonts)
    return _ParsedFont(font, FONTS_DIR / file, font.collection_font_number)


@cache
def _plain_codes() -> frozenset[int]:
    """The characters Noto Sans has in both styles that need no shaping: no combining
    mark, not right to left."""
    latin = [_parsed_font(_LATIN, style, file).font.cmap.keys() for style, file in _FONT_FILES[_LATIN].items()]
    return frozenset(
        code
        for code in set.intersection(*map(set, latin))
        if not unicodedata.combining(chr(code)) and unicodedata.bidirectional(chr(code)) not in ("R", "AL", "AN")
    )


class Typesetter:
    """One PDF document's fonts: measures text for the layout, then writes the pages.

    `texts` is every text the document will show: it decides which fonts beyond Noto
    Sans (Arabic, CJK) the document loads and embeds."""

    def __init__(self, texts: Iterable[str]) -> None:
        from fpdf import FPDF  # lazy: see the module's docstring

        self._pdf: FPDF = FPDF(unit="pt", format=(PAGE_WIDTH, PAGE_HEIGHT))
        self._pdf.set_auto_page_break(False)
        self._pdf.set_margins(0, 0, 0)
        self._pdf.c_margin = 0
        self._widths: dict[tuple[str, Font, float], float] = {}
        # Noto Sans always (the invoice's own text); each further family only while the
        # texts have a character the families so far lack: a Latin-script invoice
        # loads and embeds none of them.
        characters = {ord(char) for char in "".join(texts)}
        self._covered: set[int] = set()
        families: list[str] = []
        for family in (_LATIN, _ARABIC, _CJK):
            if families and characters <= self._covered:
                break
            self._add_family(family)
            families.append(family)
        self._families = families
        # Text Noto Sans sets alone, left to right, with no combining mark to place (most
        # of an invoice) is written without shaping or fallback: fpdf2's plain path, many
        # times faster.
        # The ignore below: fonts added by add_font are TTFFonts (with a cmap); the union also has core fonts
        self._plain = _plain_codes()

    def _add_family(self, family: str) -> None:
        for style, file in _FONT_FILES[family].items():
            font = _parsed_font(family, style, file).for_document(len(self._pdf.fonts) + 1)
            self._pdf.fonts[family + style] = font
            self._covered |= font.cmap.keys()

    def printable(self, text: str) -> str:
        """`text` as the document shows it: control characters and line or paragraph
        separators as spaces, and a character none of the fonts has as "?" (an
        invisible formatting character, such as a direction mark, is left out)."""
        covered = self._covered
        out = []
        for char in text:
            category = unicodedata.category(char)
            if category == "Cc" or category in ("Zl", "Zp"):
                out.append(" ")
            elif ord(char) in covered:
                out.append(char)
            elif category != "Cf":
                out.append("?")
        return "".join(out)

    def _set_font(self, text: str, font: Font, size: float) -> None:
        if all(ord(char) in self._plain for char in text):
            self._pdf.set_text_shaping(use_shaping_engine=False)
            self._pdf.set_fallback_fonts([])
            self._pdf.set_font(_LATIN, _STYLE[font], size)
            return
        # HarfBuzz shapes the text (joined Arabic letters, placed marks) and fpdf2 orders
        # right-to-left runs by the bidirectional algorithm. A character the current font
        # lacks is taken from the first font that has it; bold CJK text, with no bold CJK
        # font, from the regular one (exact_match=False).
        self._pdf.set_text_shaping(use_shaping_engine=True)
        self._pdf.set_fallback_fonts(self._families, exact_match=False)
        # Right-to-left text starts in the Arabic font, so its spaces and digits come
        # from the same font as its letters and the run stays one piece of text.
        family = _ARABIC if _ARABIC in self._families and _is_right_to_left(text) else _LATIN
        self._pdf.set_font(family, _STYLE[font], size)

    def width(self, text: str, font: Font, size: float) -> float:
        """How wide `text` is set in `font` at `size` points, in points, as it is drawn
        (shaped where it needs shaping: Arabic letter forms, marks, other fonts)."""
        key = (text, font, size)
        if key not in self._widths:  # wrapping measures the same words again and again
            text = self.printable(text)
            self._set_font(text, font, size)
            self._widths[key] = float(self._pdf.get_string_width(text))
        return self._widths[key]

    def wrap(self, text: str, font: Font, size: float, width: float) -> list[str]:
        """`text` broken into lines no wider than `width` (see `wrap`)."""
        return wrap(self.printable(text), lambda line: self.width(line, font, size), width)

    def document(self, pages: list[Page], *, title: str, created: date) -> bytes:
        """The PDF file of `pages`, with `title` and `created` in its document information."""
        if not pages:
            raise ValueError("a PDF needs at least one page")
        pdf = self._pdf
        pdf.set_title(title)
        pdf.set_producer("invoice_service")
        pdf.set_creation_date(datetime.combine(created, time(), tzinfo=UTC))
        for page in pages:
            pdf.add_page()
            for kind, arguments in page.operations:
                if kind == "text":
                    # The ignore below: Page.text recorded these arguments in _draw_text's order
                    self._draw_text(*arguments)  # type: ignore[arg-type]
                else:
                    # The ignore below: Page.rule recorded these arguments in _draw_rule's order
                    self._draw_rule(*arguments)  # type: ignore[arg-type]
        return bytes(pdf.output())

    def _draw_text(self, x: float, y: float, text: str, font: Font, size: float, align: str) -> None:
        text = self.printable(text)
        if not text.strip():
            return
        width = self.width(text, font, size)
        self._set_font(text, font, size)
        if align != "left":
            x -= width if align == "right" else width / 2
        self._pdf.set_xy(x, PAGE_HEIGHT - y - _BASELINE * size)
        self._pdf.cell(w=width, h=size, text=text)

    def _draw_rule(self, x1: float, y1: float, x2: float, y2: float, weight: float) -> None:
        self._pdf.set_line_width(weight)
        self._pdf.line(x1, PAGE_HEIGHT - y1, x2, PAGE_HEIGHT - y2)
