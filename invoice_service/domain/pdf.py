"""A small PDF 1.4 writer: text and rules on A4 pages in the standard Helvetica fonts.

Just enough for an invoice, in the standard library alone: a PDF library (and the
Pillow most of them pull in) would cost the function's cold start and the layer's size.
Helvetica and Helvetica-Bold are two of the 14 standard fonts every PDF reader has, so
nothing is embedded; text is encoded in WinAnsiEncoding (Windows-1252, a superset of
Latin-1's printable characters). A character it lacks loses its accents ("ő" -> "o")
or, failing that, becomes "?", so no customer's name can break the document.

The output depends on its input only (no clock, no random /ID): the same invoice gives
the same bytes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

PAGE_WIDTH = 595  # A4 in points (1/72 inch)
PAGE_HEIGHT = 842

Font = Literal["F1", "F2"]
REGULAR: Font = "F1"
BOLD: Font = "F2"
_BASE_FONTS: dict[Font, str] = {REGULAR: "Helvetica", BOLD: "Helvetica-Bold"}

# Advance widths in 1/1000 em of the printable ASCII characters (32 to 126) in
# WinAnsiEncoding, from Adobe's Core 14 AFM files: what right-aligning and wrapping
# need. Other characters are measured as their unaccented letter, or as a digit.
# fmt: off
_ASCII_WIDTHS: dict[Font, tuple[int, ...]] = {
    REGULAR: (
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
    ),
    BOLD: (
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
        975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
        333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
        611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    ),
}
# fmt: on
_DEFAULT_WIDTH = 556


def encode(text: str) -> bytes:
    """`text` in WinAnsiEncoding: line breaks and other control characters become
    spaces; a character the encoding lacks loses its accents, or becomes "?"."""
    return b"".join(_encode_char(char) for char in text)


def _encode_char(char: str) -> bytes:
    if unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp"):
        return b" "
    try:
        return char.encode("cp1252")
    except UnicodeEncodeError:
        pass
    # "ő" -> "o" + combining accent -> "o"; "ﬁ" -> "fi"; "Ω" -> nothing left -> "?"
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return decomposed.encode("cp1252", errors="replace") if decomposed else b"?"


def literal(raw: bytes) -> bytes:
    """Encoded text as a PDF literal string: parentheses and backslashes escaped, any
    byte outside printable ASCII written as an octal escape."""
    out = bytearray(b"(")
    for byte in raw:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    out += b")"
    return bytes(out)


def _byte_width(font: Font, byte: int) -> int:
    if 32 <= byte < 127:
        return _ASCII_WIDTHS[font][byte - 32]
    char = bytes([byte]).decode("cp1252", errors="replace")
    base = unicodedata.normalize("NFKD", char)[:1]
    if base and 32 <= ord(base) < 127:
        return _ASCII_WIDTHS[font][ord(base) - 32]
    return _DEFAULT_WIDTH


def text_width(text: str, font: Font, size: float) -> float:
    """How wide `text` is set in `font` at `size` points, in points."""
    return sum(_byte_width(font, byte) for byte in encode(text)) * size / 1000


def wrap(text: str, font: Font, size: float, width: float) -> list[str]:
    """`text` broken into lines no wider than `width`: between words where it can,
    inside a word that is wider than a whole line on its own. Never an empty list."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:
            if current and text_width(current + char, font, size) > width:
                lines.append(current)
                current = ""
            current += char
    lines.append(current)
    return lines


def _number(value: float) -> bytes:
    return f"{value:.2f}".rstrip("0").rstrip(".").encode("ascii")


@dataclass
class Page:
    """One page's content stream, drawn with coordinates from the bottom-left corner."""

    operations: list[bytes] = field(default_factory=list)

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
        """Draw one line of text; with align="right", `x` is where the text ends."""
        if align != "left":
            width = text_width(text, font, size)
            x -= width if align == "right" else width / 2
        self.operations.append(
            b"BT /%s %s Tf 1 0 0 1 %s %s Tm %s Tj ET"
            % (font.encode(), _number(size), _number(x), _number(y), literal(encode(text)))
        )

    def rule(self, x1: float, y1: float, x2: float, y2: float, *, weight: float = 0.5) -> None:
        """Draw a straight line."""
        self.operations.append(
            b"%s w %s %s m %s %s l S" % (_number(weight), _number(x1), _number(y1), _number(x2), _number(y2))
        )

    def content(self) -> bytes:
        return b"\n".join(self.operations) + b"\n"


def document(pages: list[Page], *, title: str, created: date) -> bytes:
    """The PDF file of `pages`, with `title` and `created` in its document information."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    # Objects: 1 catalog, 2 page tree, 3 and 4 the fonts, 5 the information
    # dictionary, then a page and its content stream for every page.
    first_page = 6
    page_refs = b" ".join(b"%d 0 R" % (first_page + 2 * index) for index in range(len(pages)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (page_refs, len(pages)),
        *(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % _BASE_FONTS[font].encode()
            for font in (REGULAR, BOLD)
        ),
        b"<< /Title %s /Producer (invoice_service) /CreationDate (D:%s000000Z) >>"
        % (literal(title.encode("ascii", errors="replace")), created.strftime("%Y%m%d").encode()),
    ]
    for index, page in enumerate(pages):
        content = page.content()
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, first_page + 2 * index + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # the binary comment marks the file as binary
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
