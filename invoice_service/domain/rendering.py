"""The invoice as HTML (from a jinja2 template) and as PDF (laid out here).

Pure (invoice in, document out), so the domain tests render the real documents.
jinja2 and its Environment are loaded on the first HTML render, and the PDF library on
the first PDF render (see pdf.py), not at import.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from events.money import format_money
from invoice_service.domain.model import Invoice
from invoice_service.domain.pdf import BOLD, PAGE_HEIGHT, REGULAR, Font, Page, Typesetter

if TYPE_CHECKING:
    from jinja2 import Environment

    from events.models import Address

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
INVOICE_TEMPLATE = "invoice.html.j2"


def format_percent(rate: Decimal) -> str:
    """Decimal("0.20") -> "20%", Decimal("0.055") -> "5.5%"."""
    text = f"{(rate * 100).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") + "%"


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Names and addresses are typed by customers: escape everything.
        autoescape=True,
        # A typo in the template must fail the render, not print an empty cell.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["percent"] = format_percent
    return env


def render_invoice_html(invoice: Invoice) -> str:
    return environment().get_template(INVOICE_TEMPLATE).render(invoice=invoice)


# ------------------------------------------------------------------ PDF
# A4, coordinates in points from the bottom-left corner.
_LEFT, _RIGHT = 50, 545
_TOP, _BOTTOM = PAGE_HEIGHT - 50, 60  # below _BOTTOM only the footer
_MIDDLE = 305  # where the second column of addresses starts
_META_LABEL = 290  # labels of number, date and order; their values end at _RIGHT
_ITEM, _ITEM_WIDTH = _LEFT, 185
_SKU, _SKU_WIDTH = 245, 100
_QUANTITY, _UNIT_PRICE = 385, 465  # right edges; the amount ends at _RIGHT
_BODY, _LEADING = 10, 13  # table text size and line height
_TOTALS_HEIGHT = 90  # the totals block and the VAT note, kept together


class _PdfLayout:
    """Lays the invoice out top to bottom, starting a new page when one is full."""

    def __init__(self, invoice: Invoice, fonts: Typesetter) -> None:
        self.invoice = invoice
        self.fonts = fonts
        self.pages = [Page()]
        self.y: float = _TOP

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def lines(self, x: float, lines: list[str], *, font: Font = REGULAR, size: float = _BODY) -> None:
        for line in lines:
            self.page.text(x, self.y, line, font=font, size=size)
            self.y -= size + 3

    def ensure_room(self, height: float) -> None:
        """Continue on a new page unless `height` points still fit on this one."""
        if self.y - height >= _BOTTOM:
            return
        self.pages.append(Page())
        self.y = _TOP
        self.page.text(_LEFT, self.y, f"Invoice {self.invoice.invoice_number} (continued)", font=BOLD, size=12)
        self.y -= 30

    def header(self) -> None:
        invoice, page, top = self.invoice, self.page, self.y
        page.text(_LEFT, top, invoice.seller.name, font=BOLD, size=14)
        page.text(_RIGHT, top, "INVOICE", font=BOLD, size=18, align="right")
        self.y = top - 20
        self.lines(_LEFT, self.fonts.wrap(invoice.seller.address, REGULAR, 9, _META_LABEL - _LEFT - 15), size=9)
        self.lines(_LEFT, [f"VAT ID: {invoice.seller.vat_id}"], size=9)
        seller_bottom = self.y

        self.y = top - 34
        for label, value in (
            ("Invoice number", invoice.invoice_number),
            ("Date", invoice.issued_on.isoformat()),
            ("Order", invoice.order_id),
        ):
            page.text(_META_LABEL, self.y, label, font=BOLD, size=9)
            for line in self.fonts.wrap(value, REGULAR, 9, _RIGHT - _META_LABEL - 75):
                page.text(_RIGHT, self.y, line, size=9, align="right")
                self.y -= 12
            self.y -= 2
        self.y = min(seller_bottom, self.y) - 20

    def addresses(self) -> None:
        invoice, page = self.invoice, self.page
        page.text(_LEFT, self.y, "Bill to", font=BOLD, size=_BODY)
        page.text(_MIDDLE, self.y, "Ship to", font=BOLD, size=_BODY)
        self.y -= _LEADING + 2
        width = _MIDDLE - _LEFT - 15
        bill_to, ship_to = self.address_lines(invoice.bill_to, width), self.address_lines(invoice.ship_to, width)
        for index in range(max(len(bill_to), len(ship_to))):
            if index < len(bill_to):
                page.text(_LEFT, self.y, bill_to[index], size=_BODY)
            if index < len(ship_to):
                page.text(_MIDDLE, self.y, ship_to[index], size=_BODY)
            self.y -= _LEADING
        self.y -= 20

    def table_header(self) -> None:
        page = self.page
        page.text(_ITEM, self.y, "Item", font=BOLD, size=9)
        page.text(_SKU, self.y, "SKU", font=BOLD, size=9)
        page.text(_QUANTITY, self.y, "Quantity", font=BOLD, size=9, align="right")
        page.text(_UNIT_PRICE, self.y, "Unit price", font=BOLD, size=9, align="right")
        page.text(_RIGHT, self.y, "Amount", font=BOLD, size=9, align="right")
        page.rule(_LEFT, self.y - 5, _RIGHT, self.y - 5)
        self.y -= 5 + _LEADING + 2

    def table(self) -> None:
        invoice = self.invoice
        self.table_header()
        for line in invoice.lines:
            item = self.fonts.wrap(line.name, REGULAR, _BODY, _ITEM_WIDTH)
            sku = self.fonts.wrap(line.sku, REGULAR, _BODY, _SKU_WIDTH)
            height = _LEADING * max(len(item), len(sku)) + 4
            if self.y - height < _BOTTOM:
                self.ensure_room(height)
                self.table_header()
            page, top = self.page, self.y
            for offset, text in enumerate(item):
                page.text(_ITEM, top - offset * _LEADING, text, size=_BODY)
            for offset, text in enumerate(sku):
                page.text(_SKU, top - offset * _LEADING, text, size=_BODY)
            page.text(_QUANTITY, top, str(line.quantity), size=_BODY, align="right")
            page.text(_UNIT_PRICE, top, format_money(line.unit_price_cents, invoice.currency), align="right")
            page.text(_RIGHT, top, format_money(line.line_total_cents, invoice.currency), align="right")
            self.y -= height
        self.page.rule(_LEFT, self.y + _LEADING - 4, _RIGHT, self.y + _LEADING - 4)

    def totals(self) -> None:
        invoice = self.invoice
        self.ensure_room(_TOTALS_HEIGHT)
        self.y -= 6
        rate = format_percent(invoice.tax_rate)
        rows: list[tuple[str, int, Font, float]] = [
            ("Subtotal (excl. VAT)", invoice.subtotal_cents, REGULAR, _BODY),
            (f"VAT {rate}", invoice.tax_cents, REGULAR, _BODY),
            ("Total (incl. VAT)", invoice.total_cents, BOLD, 11),
        ]
        for label, cents, font, size in rows:
            if font == BOLD:
                self.page.rule(_META_LABEL, self.y + size + 1, _RIGHT, self.y + size + 1, weight=1)
            self.page.text(_META_LABEL, self.y, label, font=font, size=size)
            self.page.text(_RIGHT, self.y, format_money(cents, invoice.currency), font=font, size=size, align="right")
            self.y -= size + 7
        self.y -= 12
        self.lines(_LEFT, [f"Prices include VAT at {rate}."], size=9)

    def footers(self) -> None:
        invoice, count = self.invoice, len(self.pages)
        for number, page in enumerate(self.pages, start=1):
            page.rule(_LEFT, 44, _RIGHT, 44, weight=0.25)
            page.text(_LEFT, 32, f"Invoice {invoice.invoice_number} - order {invoice.order_id}", size=8)
            page.text(_RIGHT, 32, f"Page {number} of {count}", size=8, align="right")

    def address_lines(self, address: Address, width: float) -> list[str]:
        parts = [part for part in _address_parts(address) if part]
        return [line for part in parts for line in self.fonts.wrap(part, REGULAR, _BODY, width)]


def _address_parts(address: Address) -> list[str | None]:
    return [address.name, address.line1, address.line2, f"{address.postal_code} {address.city}", address.country]


def _texts(invoice: Invoice) -> list[str]:
    """Every text of the invoice that comes from outside the code: what decides the
    fonts the document needs."""
    seller = invoice.seller
    texts = [seller.name, seller.address, seller.vat_id, invoice.invoice_number, invoice.order_id, invoice.currency]
    for address in (invoice.bill_to, invoice.ship_to):
        texts += [part for part in _address_parts(address) if part]
    for line in invoice.lines:
        texts += [line.name, line.sku]
    return texts


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a PDF file: one A4 page for an ordinary order; the lines
    continue on further pages when there are too many for one."""
    fonts = Typesetter(_texts(invoice))
    layout = _PdfLayout(invoice, fonts)
    layout.header()
    layout.addresses()
    layout.table()
    layout.totals()
    layout.footers()
    return fonts.document(layout.pages, title=f"Invoice {invoice.invoice_number}", created=invoice.issued_on)
