from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from events.models import OrderLine
from events.money import format_money
from invoice_service.domain.invoices import build_invoice
from invoice_service.domain.model import Invoice, Seller
from invoice_service.domain.rendering import environment, format_percent, render_invoice_html
from tests.builders import address, order_created

SELLER = Seller(name="Shop SAS", address="1 Rue de l'Exemple, 75001 Paris, FR", vat_id="FR00123456789")
ROOT = Path(__file__).resolve().parents[3]


def _invoice(**overrides: Any) -> Invoice:
    event = order_created(**overrides)
    event = event.model_copy(update={"occurred_at": datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)})
    return build_invoice(event, tax_rate=Decimal("0.20"), seller=SELLER)


def _row(html: str, css_class: str) -> str:
    match = re.search(rf'<tr class="{css_class}">(.*?)</tr>', html, re.S)
    assert match, f"no {css_class} row"
    return match.group(1)


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00 EUR"), (5, "0.05 EUR"), (1299, "12.99 EUR"), (100000, "1000.00 EUR"), (-250, "-2.50 EUR")],
)
def test_money_is_cents_as_a_decimal_amount_and_the_currency(cents: int, text: str) -> None:
    assert format_money(cents, "EUR") == text


@pytest.mark.parametrize(("rate", "text"), [("0.20", "20%"), ("0.055", "5.5%"), ("0", "0%"), ("0.2", "20%")])
def test_rates_are_shown_as_percentages(rate: str, text: str) -> None:
    assert format_percent(Decimal(rate)) == text


def test_the_invoice_shows_seller_number_date_order_and_addresses() -> None:
    invoice = _invoice(shipping_address=address(line2="Flat 2"))
    html = render_invoice_html(invoice)

    assert f'<dd id="invoice-number">{invoice.invoice_number}</dd>' in html
    assert '<dd id="invoice-date">2026-03-14</dd>' in html
    assert f'<dd id="order-id">{invoice.order_id}</dd>' in html
    assert "Shop SAS" in html
    assert "FR00123456789" in html
    for part in ("Ada Lovelace", "12 Analytical Row", "Flat 2", "N1 9GU London", "GB"):
        assert html.count(part) == 2, part  # bill-to and ship-to


def test_the_invoice_lists_each_line_with_unit_price_and_line_total() -> None:
    html = render_invoice_html(_invoice())
    rows = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)[0]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", rows, re.S)]
    assert cells == [
        ["Coffee mug", "MUG-001", "2", "12.99 EUR", "25.98 EUR"],
        ["T-shirt", "TEE-001", "1", "19.99 EUR", "19.99 EUR"],
    ]


def test_the_invoice_totals_show_net_vat_and_gross() -> None:
    html = render_invoice_html(_invoice())
    assert "38.31 EUR" in _row(html, "subtotal")
    assert "VAT 20%" in _row(html, "tax")
    assert "7.66 EUR" in _row(html, "tax")
    assert "45.97 EUR" in _row(html, "total")


def test_customer_text_is_escaped() -> None:
    lines = [
        OrderLine(sku="MUG-001", name="Mugs & <b>Cups</b>", quantity=1, unit_price_cents=4597, line_total_cents=4597)
    ]
    invoice = _invoice(
        shipping_address=address(name="<script>alert(1)</script>", line2='"><img src=x onerror=alert(2)>'),
        lines=lines,
    )
    html = render_invoice_html(invoice)

    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>Cups</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Mugs &amp; &lt;b&gt;Cups&lt;/b&gt;" in html


def test_the_customers_email_and_payment_token_are_not_on_the_invoice() -> None:
    event = order_created(payment_token="tok_amex")
    html = render_invoice_html(build_invoice(event, tax_rate=Decimal("0.20"), seller=SELLER))
    assert "tok_amex" not in html
    assert event.data.order.customer_email not in html


def test_rendering_is_deterministic() -> None:
    invoice = _invoice()
    assert render_invoice_html(invoice) == render_invoice_html(invoice.model_copy())


def test_the_template_environment_is_made_once_and_escapes() -> None:
    assert environment() is environment()
    assert environment().autoescape is True


def test_importing_the_domain_does_not_load_jinja2() -> None:
    code = "import sys, invoice_service.domain.invoices; print('jinja2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.strip() == "False"
