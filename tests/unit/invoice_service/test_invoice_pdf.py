"""The invoice as PDF, read back with pypdf (an independent parser).

Where the text sits is computed here from the PDF itself: its content stream's text
operators, and the glyph widths and Unicode mapping of the fonts it embeds, as a viewer
reads them (`_pieces`), not from the writer's own measurements.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream, DictionaryObject, TextStringObject

from events.models import OrderLine
from invoice_service.domain import pdf as pdf_module
from invoice_service.domain.invoices import build_invoice
from invoice_service.domain.model import Invoice, Seller
from invoice_service.domain.pdf import REGULAR, Page, Typesetter, wrap
from invoice_service.domain.rendering import render_invoice_pdf
from tests.builders import SCRIPTS, address, order_created

SELLER = Seller(name="Shop SAS", address="1 Rue de l'Exemple, 75001 Paris, FR", vat_id="FR00123456789")
ODD_NAME = "Zoë (O'Brien) \\ <script>"


def _invoice(seller: Seller = SELLER, **overrides: Any) -> Invoice:
    event = order_created(**overrides)
    event = event.model_copy(update={"occurred_at": datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)})
    return build_invoice(event, tax_rate=Decimal("0.20"), seller=seller)


def _read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf), strict=True)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in _read(pdf).pages)


def _lines(count: int) -> list[OrderLine]:
    return [
        OrderLine(
            sku=f"SKU-{n:03d}", name=f"Article {n}", quantity=1, unit_price_cents=100 + n, line_total_cents=100 + n
        )
        for n in range(count)
    ]


# ------------------------------------------------------------------ reading the PDF


@dataclass(frozen=True)
class _Font:
    """An embedded Type0 font: its name, and per glyph code its width (1/1000 em) and text."""

    name: str
    widths: dict[int, float]
    default_width: float
    text: dict[int, str]


@dataclass(frozen=True)
class _Piece:
    """One text-showing operator: its glyph codes, where it starts and ends."""

    font: str
    codes: tuple[int, ...]
    text: str
    x: float
    end: float
    y: float


def _hex(digits: bytes) -> str:
    return bytes.fromhex(digits.decode()).decode("utf-16-be")


def _font(font: Any) -> _Font:
    font = font.get_object()
    assert font["/Subtype"] == "/Type0" and font["/Encoding"] == "/Identity-H"  # two-byte glyph codes
    [descendant] = [d.get_object() for d in font["/DescendantFonts"]]
    assert "/FontFile2" in descendant["/FontDescriptor"]  # the font program is embedded
    widths: dict[int, float] = {}
    entries = list(descendant.get("/W", []))
    index = 0
    while index < len(entries):  # [first [w w ...]] or [first last w]
        first = int(entries[index])
        if isinstance(entries[index + 1], list):
            for offset, width in enumerate(entries[index + 1]):
                widths[first + offset] = float(width)
            index += 2
        else:
            for code in range(first, int(entries[index + 1]) + 1):
                widths[code] = float(entries[index + 2])
            index += 3
    cmap = font["/ToUnicode"].get_object().get_data()
    text: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, chars in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            text[int(code, 16)] = _hex(chars)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, start in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for offset in range(int(high, 16) - int(low, 16) + 1):
                text[int(low, 16) + offset] = chr(int(start, 16) + offset)
    return _Font(str(font["/BaseFont"]), widths, float(descendant.get("/DW", 1000)), text)


def _pieces(page: Any) -> list[_Piece]:
    """Every piece of text on the page with its position, as a viewer places it: the
    text matrix set by Td/Tm and advanced by each glyph's width from the font's /W; the
    font is part of the graphics state that q and Q save and restore."""
    fonts = {name: _font(font) for name, font in page["/Resources"]["/Font"].items()}
    pieces: list[_Piece] = []
    font: _Font | None = None
    size, x, y = 0.0, 0.0, 0.0
    saved: list[tuple[_Font | None, float]] = []
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"q":
            saved.append((font, size))
        elif operator == b"Q":
            font, size = saved.pop()
        elif operator == b"BT":
            x = y = 0.0
        elif operator == b"Tf":
            font, size = fonts[operands[0]], float(operands[1])
        elif operator == b"Td":
            x, y = x + float(operands[0]), y + float(operands[1])
        elif operator == b"Tm":
            assert [float(v) for v in operands[:4]] == [1, 0, 0, 1]  # no scaling or rotation
            x, y = float(operands[4]), float(operands[5])
        elif operator in (b"Tj", b"TJ"):
            assert font is not None
            items = operands[0] if operator == b"TJ" else [operands[0]]
            start, codes = x, []
            for item in items:
                if isinstance(item, TextStringObject | bytes):  # pypdf's text and byte strings
                    raw = item.original_bytes if isinstance(item, TextStringObject) else bytes(item)
                    for index in range(0, len(raw), 2):
                        code = int.from_bytes(raw[index : index + 2], "big")
                        codes.append(code)
                        x += font.widths.get(code, font.default_width) * size / 1000
                else:
                    x -= float(item) * size / 1000
            text = "".join(font.text.get(code, "\ufffd") for code in codes)
            pieces.append(_Piece(font.name, tuple(codes), text, start, x, y))
    return pieces


def _assert_everything_is_inside_the_margins(pdf: bytes) -> None:
    """Every piece of text starts and ends inside the page's 50-point side margins, and
    nothing but the footer sits in the bottom 60 points."""
    for page in _read(pdf).pages:
        pieces = [piece for piece in _pieces(page) if piece.text.strip()]
        assert pieces
        footer = {round(piece.y) for piece in pieces if piece.text.startswith(("Invoice INV-", "Page "))}
        for piece in pieces:
            assert piece.x >= 50 and piece.end <= 545.01, piece
            assert piece.y >= 60 or round(piece.y) in footer, piece
            assert piece.y <= 842 - 50, piece


def _assert_xref_points_at_every_object(pdf: bytes) -> None:
    """The cross-reference table a reader seeks with, checked byte for byte (pypdf
    would quietly rebuild a broken one)."""
    # The ignore below: no match fails the test as an AttributeError
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n?$", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[start:].startswith(b"xref\n0 ")
    header, *entries = pdf[start:].split(b"trailer")[0].split(b"\n")[1:-1]
    count = int(header.split()[1])
    assert entries[0] == b"0000000000 65535 f "
    assert len(entries) == count
    for number, entry in enumerate(entries[1:], start=1):
        assert len(entry) == 19 and entry.endswith(b" 00000 n ")  # 20 bytes with the newline
        assert pdf[int(entry[:10]) :].startswith(b"%d 0 obj\n" % number)
    assert re.search(rb"/Size %d\b" % count, pdf)


def _embedded_fonts(pdf: bytes) -> set[str]:
    """The fonts of every page, without their subset tags ("ABCDEF+NotoSans")."""
    names = set()
    for page in _read(pdf).pages:
        resources = page["/Resources"]
        assert isinstance(resources, DictionaryObject)
        fonts = resources["/Font"]
        assert isinstance(fonts, DictionaryObject)
        for font in fonts.values():
            name = str(font.get_object()["/BaseFont"])
            assert re.fullmatch(r"/[A-Z]{6}\+.+", name), name  # a subset, tagged as the PDF spec says
            names.add(name.split("+", 1)[1])
    return names


# ------------------------------------------------------------------ the invoice


def test_the_pdf_is_a_valid_single_page_pdf_with_embedded_subset_noto_sans() -> None:
    pdf = render_invoice_pdf(_invoice())

    assert re.match(rb"%PDF-1\.[3-7]\n", pdf)
    assert pdf.rstrip().endswith(b"%%EOF")
    _assert_xref_points_at_every_object(pdf)
    _assert_everything_is_inside_the_margins(pdf)
    [page] = _read(pdf).pages
    assert [float(v) for v in page.mediabox] == [0, 0, 595, 842]  # A4
    # A Latin-script invoice embeds Noto Sans alone: neither the Arabic nor the CJK font.
    assert _embedded_fonts(pdf) == {"NotoSans", "NotoSansBold"}
    assert len(pdf) < 40_000  # subsets: the two fonts are 1 MB in full


def test_the_pdf_shows_seller_number_date_order_addresses_lines_and_totals() -> None:
    invoice = _invoice(shipping_address=address(line2="Flat 2"))

    text = _text(render_invoice_pdf(invoice))

    for expected in (
        "Shop SAS",
        "1 Rue de l'Exemple, 75001 Paris, FR",
        "VAT ID: FR00123456789",
        invoice.invoice_number,
        "2026-03-14",
        invoice.order_id,
        "Bill to",
        "Ship to",
        "Coffee mug",
        "MUG-001",
        "T-shirt",
        "TEE-001",
        "12.99 EUR",
        "25.98 EUR",
        "19.99 EUR",
        "Subtotal (excl. VAT) 38.31 EUR",
        "VAT 20% 7.66 EUR",
        "Total (incl. VAT) 45.97 EUR",
    ):
        assert expected in text, expected
    for part in ("Ada Lovelace", "12 Analytical Row", "Flat 2", "N1 9GU London"):
        assert text.count(part) == 2, part  # bill-to and ship-to


def test_the_title_of_the_document_is_the_invoice_number_and_its_date_the_invoice_date() -> None:
    invoice = _invoice()

    metadata = _read(render_invoice_pdf(invoice)).metadata

    assert metadata is not None
    assert metadata.title == f"Invoice {invoice.invoice_number}"
    assert metadata.creation_date == datetime(2026, 3, 14, tzinfo=UTC)


def test_parentheses_backslashes_quotes_and_markup_in_a_name_do_not_break_the_pdf() -> None:
    invoice = _invoice(shipping_address=address(name=ODD_NAME, line1="1) Rue (du) Test \\\\"))

    pdf = render_invoice_pdf(invoice)

    _assert_xref_points_at_every_object(pdf)
    text = _text(pdf)
    assert text.count(ODD_NAME) == 2
    assert "1) Rue (du) Test \\\\" in text
    assert invoice.invoice_number in text
    assert "Total (incl. VAT) 45.97 EUR" in text
    assert [piece.text for piece in _pieces(_read(pdf).pages[0])].count(ODD_NAME) == 2  # each one piece


def test_any_character_a_font_has_is_printed_as_it_is_and_the_rest_as_a_question_mark() -> None:
    invoice = _invoice(shipping_address=address(name="Dvořák Ω 李 🎉", line1="Łódź\nstreet\t1\u200f"))

    text = _text(render_invoice_pdf(invoice))

    assert text.count("Dvořák Ω 李 ?") == 2  # no font has the emoji
    assert text.count("Łódź street 1") == 2  # line breaks and tabs become spaces; the direction mark goes
    assert "45.97 EUR" in text


def test_the_customers_email_and_payment_token_are_not_in_the_pdf() -> None:
    event = order_created(payment_token="tok_amex")
    pdf = render_invoice_pdf(build_invoice(event, tax_rate=Decimal("0.20"), seller=SELLER))

    contents = b""
    for page in _read(pdf).pages:
        stream = page.get_contents()
        assert stream is not None
        contents += stream.get_data()
    for secret in (b"tok_amex", event.data.order.customer_email.encode()):
        assert secret not in pdf
        assert secret not in contents
    assert event.data.order.customer_email not in _text(pdf)


def test_rendering_is_deterministic_to_the_byte() -> None:
    invoice = _invoice()
    assert render_invoice_pdf(invoice) == render_invoice_pdf(invoice.model_copy())


def test_long_names_wrap_inside_their_column_and_nothing_is_lost() -> None:
    name = "An extraordinarily long product name that cannot possibly fit in the item column of the table"
    lines = [OrderLine(sku="LONG-1", name=name, quantity=1, unit_price_cents=4597, line_total_cents=4597)]

    pdf = render_invoice_pdf(_invoice(lines=lines, shipping_address=address(line1="x" * 200)))

    _assert_everything_is_inside_the_margins(pdf)
    text = _text(pdf)
    assert " ".join(text.split()).count(name) == 1
    assert "".join(text.split()).count("x" * 200) == 2  # a 200-character word, broken inside the column
    assert "Total (incl. VAT) 45.97 EUR" in text


def test_an_order_with_more_lines_than_a_page_holds_continues_on_the_next_page() -> None:
    lines = _lines(50)  # the most an order can have
    total = sum(line.line_total_cents for line in lines)

    pdf = render_invoice_pdf(_invoice(lines=lines, total_cents=total))

    _assert_xref_points_at_every_object(pdf)
    _assert_everything_is_inside_the_margins(pdf)
    pages = [page.extract_text() for page in _read(pdf).pages]
    assert len(pages) == 2
    assert all(f"Page {n} of 2" in page for n, page in enumerate(pages, start=1))
    assert "(continued)" in pages[1]
    text = "\n".join(pages)
    for line in lines:
        assert text.count(f"{line.name} {line.sku}") == 1, line.sku
    assert f"Total (incl. VAT) {Decimal(total).scaleb(-2):.2f} EUR" in pages[-1]


def test_at_every_order_length_the_rows_and_the_totals_stay_inside_the_margins() -> None:
    # Wherever the page breaks (between rows, or before the totals), nothing runs off.
    for count in range(1, 61):
        lines = _lines(count)
        total = sum(line.line_total_cents for line in lines)
        pdf = render_invoice_pdf(_invoice(lines=lines, total_cents=total))
        _assert_everything_is_inside_the_margins(pdf)
        assert f"Total (incl. VAT) {Decimal(total).scaleb(-2):.2f} EUR" in _read(pdf).pages[-1].extract_text()


def test_an_ordinary_order_fits_on_one_page() -> None:
    lines = _lines(20)
    pdf = render_invoice_pdf(_invoice(lines=lines, total_cents=sum(line.line_total_cents for line in lines)))
    assert len(_read(pdf).pages) == 1


# ------------------------------------------------------------------ every script
# An invoice must show the names and addresses exactly as given. For each script
# (tests.builders.SCRIPTS): the customer (bill-to and ship-to), their street and city,
# and the seller's name (bold) and address, in the text pypdf extracts.

_LATIN_FONTS = {"NotoSans", "NotoSansBold"}
EMBEDDED = {
    "latin": _LATIN_FONTS,
    "cyrillic": _LATIN_FONTS,
    "greek": _LATIN_FONTS,
    "arabic": _LATIN_FONTS | {"NotoSansArabic", "NotoSansArabicBold"},
    # No bold CJK font: the bold seller's name is set in the regular one.
    **dict.fromkeys(("japanese", "chinese", "korean"), _LATIN_FONTS | {"WenQuanYiMicroHei"}),
}


def _invoice_in(script: str) -> Invoice:
    values = SCRIPTS[script]
    seller = Seller(name=values["seller"], address=values["seller_address"], vat_id="XX000000000")
    customer = address(**{key: values[key] for key in ("name", "line1", "city", "postal_code", "country")})
    line = OrderLine(sku="ITEM-1", name=values["product"], quantity=1, unit_price_cents=4597, line_total_cents=4597)
    return _invoice(seller=seller, shipping_address=customer, lines=[line])


@pytest.mark.parametrize("script", SCRIPTS)
def test_names_and_addresses_are_printed_exactly_in_every_script(script: str) -> None:
    values = SCRIPTS[script]
    invoice = _invoice_in(script)

    pdf = render_invoice_pdf(invoice)

    text = _text(pdf)
    assert text.count(values["name"]) == 2, text  # bill to and ship to
    assert text.count(values["line1"]) == 2, text
    assert text.count(values["city"]) == 2, text
    assert values["seller"] in text, text
    assert values["seller_address"] in text, text
    assert f"{values['product']} ITEM-1" in text, text
    assert "?" not in text  # no character went missing
    assert "Total (incl. VAT) 45.97 EUR" in text
    assert _embedded_fonts(pdf) == EMBEDDED[script]
    _assert_everything_is_inside_the_margins(pdf)
    _assert_xref_points_at_every_object(pdf)
    assert render_invoice_pdf(invoice.model_copy()) == pdf  # deterministic with every font


def test_fonts_parsed_once_per_container_carry_nothing_from_one_document_to_the_next() -> None:
    # A warm container renders invoices in every script one after another, each document
    # on its own copy of the fonts parsed for the first: every one must be the document a
    # cold container (fonts parsed for it alone) writes.
    invoices = [_invoice_in(script) for script in SCRIPTS] + [_invoice()]
    warm = [render_invoice_pdf(invoice) for invoice in invoices + invoices[::-1]]
    cold = []
    for invoice in invoices + invoices[::-1]:
        pdf_module._parsed_font.cache_clear()
        pdf_module._plain_codes.cache_clear()
        cold.append(render_invoice_pdf(invoice))
    assert warm == cold


def test_arabic_is_set_right_to_left_in_joined_letter_forms() -> None:
    values = SCRIPTS["arabic"]
    page = _read(render_invoice_pdf(_invoice_in("arabic"))).pages[0]
    pieces = _pieces(page)

    # A piece of text lists its glyphs from left to right: for a right-to-left name that
    # is the name backwards, so its first letter is drawn rightmost.
    names = [piece for piece in pieces if piece.text == values["name"][::-1]]
    assert len(names) == 2  # bill to and ship to, each one piece in the Arabic font
    assert all("NotoSansArabic" in piece.font for piece in names)
    # Shaped: the same letter takes another glyph by its place in the word. In "محمد"
    # (drawn "دمحم") the first meem is in its initial form, the second in its medial one.
    word = names[0].codes[-4:]
    assert names[0].text[-4:] == "دمحم"
    assert word[1] != word[3]
    # In the right-to-left line "11564 الرياض" the postal code, written first, is
    # drawn to the right of the city.
    [city] = [piece for piece in pieces if piece.text.strip() == values["city"][::-1] and piece.x < 300]
    [postal_code] = [piece for piece in pieces if piece.text == values["postal_code"] and piece.x < 300]
    assert city.y == postal_code.y
    assert city.end <= postal_code.x + 0.01


def test_an_arabic_name_in_a_latin_line_keeps_both_directions() -> None:
    name = "Flat 2, برج المملكة"

    pdf = render_invoice_pdf(_invoice(shipping_address=address(line2=name)))

    [line] = [
        [piece for piece in _pieces(_read(pdf).pages[0]) if piece.y == first.y and piece.x < 300]
        for first in _pieces(_read(pdf).pages[0])
        if first.text.startswith("Flat 2,") and first.x < 300
    ]
    # The left-to-right line reads "Flat 2," first; the Arabic words follow, each drawn
    # right to left, the first word rightmost.
    assert "".join(piece.text for piece in sorted(line, key=lambda piece: piece.x)) == "Flat 2, " + "برج المملكة"[::-1]
    assert any("NotoSansArabic" in piece.font for piece in line)


# ------------------------------------------------------------------ the writer


def test_wrap_breaks_between_words_and_inside_a_word_too_long_for_a_line() -> None:
    def width_of(text: str) -> float:
        return 10.0 * len(text)

    assert wrap("one two three", width_of, 1000) == ["one two three"]
    assert wrap("", width_of, 100) == [""]
    lines = wrap("short " + "x" * 60 + " end", width_of, 100)
    assert lines[0] == "short"
    assert "".join(lines[1:]).replace(" ", "") == "x" * 60 + "end"
    assert len(lines) > 3
    assert all(width_of(line) <= 100 for line in lines)


def test_widths_are_the_fonts_and_wrapping_follows_them() -> None:
    fonts = Typesetter(["x"])

    assert fonts.width("0123456789", REGULAR, 10) == pytest.approx(57.2)  # Noto Sans digits: 572/1000 em
    assert fonts.width("", REGULAR, 10) == 0
    assert fonts.width("Иван", REGULAR, 10) > fonts.width("Ива", REGULAR, 10)
    lines = fonts.wrap("Иван Петров " * 10, REGULAR, 10, 100)
    assert len(lines) > 1
    assert all(fonts.width(line, REGULAR, 10) <= 100 for line in lines)


def test_control_characters_become_spaces_and_characters_no_font_has_a_question_mark() -> None:
    fonts = Typesetter(["x"])

    assert fonts.printable("a\nb\tc\x00d\u2028e\u2029f") == "a b c d e f"
    assert fonts.printable("Zoë Иван Ω") == "Zoë Иван Ω"
    assert fonts.printable("李 🎉") == "? ?"  # a Latin-only document loaded no CJK font
    assert fonts.printable("a\U000e0001b") == "ab"  # an invisible tag no font has is left out
    assert Typesetter(["李"]).printable("李 🎉") == "李 ?"


def test_a_document_needs_a_page_and_numbers_its_pages() -> None:
    with pytest.raises(ValueError):
        Typesetter(["x"]).document([], title="t", created=datetime(2026, 1, 1).date())
    first, second = Page(), Page()
    first.text(50, 800, "one")
    second.text(545, 800, "two", align="right")
    second.rule(50, 790, 545, 790)

    pdf = Typesetter(["one", "two"]).document([first, second], title="Two pages", created=datetime(2026, 1, 1).date())

    _assert_xref_points_at_every_object(pdf)
    assert [page.extract_text() for page in _read(pdf).pages] == ["one", "two"]
    [two] = _pieces(_read(pdf).pages[1])
    assert two.end == pytest.approx(545, abs=0.01)  # right-aligned: ends at x
    assert two.y == pytest.approx(800, abs=0.01)  # on the baseline it was given
