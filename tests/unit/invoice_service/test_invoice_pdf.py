"""The invoice as PDF: our own writer, read back with pypdf (an independent parser)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from events.models import OrderLine
from invoice_service.domain.invoices import build_invoice
from invoice_service.domain.model import Invoice, Seller
from invoice_service.domain.pdf import BOLD, REGULAR, Page, document, encode, literal, text_width, wrap
from invoice_service.domain.rendering import render_invoice_pdf
from tests.builders import address, order_created

SELLER = Seller(name="Shop SAS", address="1 Rue de l'Exemple, 75001 Paris, FR", vat_id="FR00123456789")
ODD_NAME = "Zoë (O'Brien) \\ <script>"


def _invoice(**overrides: object) -> Invoice:
    event = order_created(**overrides)
    event = event.model_copy(update={"occurred_at": datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)})
    return build_invoice(event, tax_rate=Decimal("0.20"), seller=SELLER)


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


def _assert_everything_is_inside_the_margins(pdf: bytes) -> None:
    """Every piece of text starts and ends inside the page's 50-point side margins, and
    nothing but the footer sits in the bottom 60 points."""
    for page in _read(pdf).pages:
        placed: list[tuple[str, float, float, float]] = []

        def visit(text: str, cm: Any, tm: Any, font: Any, size: float, placed: list = placed) -> None:
            text = text.strip()  # pypdf adds spaces and line breaks between the pieces it reads
            if text:
                font_key = BOLD if "Bold" in str(font["/BaseFont"]) else REGULAR
                placed.append((text, tm[4], tm[5], text_width(text, font_key, size)))

        page.extract_text(visitor_text=visit)
        assert placed
        for text, x, y, width in placed:
            assert x >= 50 and x + width <= 545.01, (text, x, width)
            assert y >= 60 or text.startswith(("Invoice INV-", "Page ")), (text, y)
            assert y <= 842 - 50, (text, y)


def _assert_xref_points_at_every_object(pdf: bytes) -> None:
    """The cross-reference table a reader seeks with, checked byte for byte (pypdf
    would quietly rebuild a broken one)."""
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[start:].startswith(b"xref\n0 ")
    header, *entries = pdf[start:].split(b"trailer")[0].split(b"\n")[1:-1]
    count = int(header.split()[1])
    assert entries[0] == b"0000000000 65535 f "
    assert len(entries) == count
    for number, entry in enumerate(entries[1:], start=1):
        assert len(entry) == 19 and entry.endswith(b" 00000 n ")  # 20 bytes with the newline
        assert pdf[int(entry[:10]) :].startswith(b"%d 0 obj\n" % number)
    assert re.search(rb"/Size %d\b" % count, pdf)


# ------------------------------------------------------------------ the invoice


def test_the_pdf_is_a_valid_single_page_pdf_1_4_in_helvetica() -> None:
    pdf = render_invoice_pdf(_invoice())

    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    _assert_xref_points_at_every_object(pdf)
    _assert_everything_is_inside_the_margins(pdf)
    reader = _read(pdf)
    assert reader.pdf_header == "%PDF-1.4"
    [page] = reader.pages
    assert [float(v) for v in page.mediabox] == [0, 0, 595, 842]  # A4
    fonts = {font["/BaseFont"] for font in page["/Resources"]["/Font"].values()}
    assert fonts == {"/Helvetica", "/Helvetica-Bold"}
    assert b"/FontFile" not in pdf  # standard fonts: nothing embedded


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
    assert b"(Zo\\353 \\(O'Brien\\) \\\\ <script>)" in pdf  # escaped in the content stream


def test_characters_outside_latin_1_fall_back_without_breaking_the_pdf() -> None:
    invoice = _invoice(shipping_address=address(name="Dvořák Ω 李 🎉", line1="Łódź\nstreet\t1"))

    text = _text(render_invoice_pdf(invoice))

    assert "Dvorák ? ? ?" in text  # the accent Windows-1252 lacks is dropped, the rest is "?"
    assert "?ódz street 1" in text  # line breaks and tabs become spaces
    assert "45.97 EUR" in text


def test_the_customers_email_and_payment_token_are_not_in_the_pdf() -> None:
    event = order_created(payment_token="tok_amex")
    pdf = render_invoice_pdf(build_invoice(event, tax_rate=Decimal("0.20"), seller=SELLER))

    assert b"tok_amex" not in pdf
    assert event.data.order.customer_email.encode() not in pdf
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


# ------------------------------------------------------------------ the writer


def test_literal_strings_escape_parentheses_backslashes_and_non_ascii_bytes() -> None:
    assert literal(b"a(b)c\\d") == b"(a\\(b\\)c\\\\d)"
    assert literal(encode("Zoë €")) == b"(Zo\\353 \\200)"  # Windows-1252: ë = 0xEB, € = 0x80


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("Plain ASCII", b"Plain ASCII"),
        ("Zoë Ünal", b"Zo\xeb \xdcnal"),
        ("5 €", b"5 \x80"),
        ("Dvořák", b"Dvor\xe1k"),
        ("ﬁne", b"fine"),
        ("Ω李🎉", b"???"),
        ("a\nb\tc\x00d\u2028e\u2029f", b"a b c d e f"),
    ],
)
def test_text_is_encoded_in_windows_1252_with_a_fallback(text: str, encoded: bytes) -> None:
    assert encode(text) == encoded


def test_widths_are_helveticas() -> None:
    assert text_width("0123456789", REGULAR, 10) == pytest.approx(55.6)
    assert text_width("Wi", REGULAR, 10) == pytest.approx(9.44 + 2.22)
    assert text_width("Wi", BOLD, 10) == pytest.approx(9.44 + 2.78)
    assert text_width("é", REGULAR, 10) == text_width("e", REGULAR, 10)


def test_wrap_breaks_between_words_and_inside_a_word_too_long_for_a_line() -> None:
    assert wrap("one two three", REGULAR, 10, 1000) == ["one two three"]
    assert wrap("", REGULAR, 10, 100) == [""]
    lines = wrap("short " + "x" * 60 + " end", REGULAR, 10, 100)
    assert lines[0] == "short"
    assert "".join(lines[1:]).replace(" ", "") == "x" * 60 + "end"
    assert len(lines) > 3
    assert all(text_width(line, REGULAR, 10) <= 100 for line in lines)


def test_a_document_needs_a_page_and_numbers_its_pages() -> None:
    with pytest.raises(ValueError):
        document([], title="t", created=datetime(2026, 1, 1).date())
    first, second = Page(), Page()
    first.text(50, 800, "one")
    second.text(50, 800, "two", align="right")
    second.rule(50, 790, 545, 790)

    pdf = document([first, second], title="Two pages", created=datetime(2026, 1, 1).date())

    _assert_xref_points_at_every_object(pdf)
    assert [page.extract_text() for page in _read(pdf).pages] == ["one", "two"]
