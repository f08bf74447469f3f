from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from email_service.domain.rendering import CUSTOMER_EVENT_TYPES, TEMPLATES_DIR, money, render_email
from events.models import Event, EventType, OrderLine
from tests.builders import (
    address,
    invoice_created,
    order_created,
    payment_confirmed,
    payment_failed,
    shipment_error,
    shipped,
)

BUILDERS: dict[EventType, Callable[..., Event[Any]]] = {
    EventType.ORDER_CREATED: order_created,
    EventType.INVOICE_CREATED: invoice_created,
    EventType.PAYMENT_CONFIRMED: payment_confirmed,
    EventType.PAYMENT_FAILED: payment_failed,
    EventType.SHIPPED: shipped,
    EventType.SHIPMENT_ERROR: shipment_error,
}
SCRIPT = "<script>alert(1)</script>"


def test_every_customer_event_type_has_a_builder_here_and_both_templates() -> None:
    assert set(BUILDERS) == CUSTOMER_EVENT_TYPES
    for event_type in CUSTOMER_EVENT_TYPES:
        name = event_type.value.lower()
        assert (TEMPLATES_DIR / f"{name}.html.j2").is_file()
        assert (TEMPLATES_DIR / f"{name}.txt.j2").is_file()


@pytest.mark.parametrize("event_type", list(BUILDERS), ids=lambda t: t.value)
def test_every_email_goes_to_the_customer_and_names_the_order_everywhere(event_type: EventType) -> None:
    event = BUILDERS[event_type]()

    email = render_email(event)

    assert email.to == event.data.order.customer_email == "ada@example.com"
    assert event.order_id in email.subject
    assert event.order_id in email.html
    assert event.order_id in email.text
    assert "\n" not in email.subject
    assert "Hello Ada Lovelace," in email.text
    assert "Hello Ada Lovelace," in email.html
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert "<" not in email.text


@pytest.mark.parametrize("event_type", list(BUILDERS), ids=lambda t: t.value)
def test_a_hostile_customer_name_is_escaped_in_html_and_never_raw(event_type: EventType) -> None:
    event = BUILDERS[event_type](shipping_address=address(name=SCRIPT))

    email = render_email(event)

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "<script" not in email.html
    assert SCRIPT not in email.subject
    # text/plain is never interpreted as HTML; there the name reads as typed.
    assert f"Hello {SCRIPT}," in email.text


def test_each_email_has_its_own_subject() -> None:
    subjects = set()
    for build in BUILDERS.values():
        event = build()
        subjects.add(render_email(event).subject.replace(event.order_id, "<order>"))
    assert len(subjects) == len(BUILDERS)


def test_order_created_lists_the_lines_and_the_total_in_money_format() -> None:
    email = render_email(order_created())

    assert email.subject.startswith("We received your order")
    for body in (email.html, email.text):
        assert "Coffee mug" in body
        assert "12.99 EUR" in body  # unit price
        assert "25.98 EUR" in body  # line total
        assert "45.97 EUR" in body  # order total


def test_invoice_created_shows_number_subtotal_vat_and_total() -> None:
    event = invoice_created()
    data = event.data

    email = render_email(event)

    assert data.invoice_number in email.subject
    for body in (email.html, email.text):
        assert data.invoice_number in body
        flat = " ".join(_words(body)).replace(":", "")
        assert f"Subtotal {money(data.subtotal_cents, 'EUR')}" in flat
        assert f"VAT {money(data.tax_cents, 'EUR')}" in flat
        assert f"Total {money(data.total_cents, 'EUR')}" in flat
    assert money(data.subtotal_cents, "EUR") == "38.31 EUR"
    assert money(data.tax_cents, "EUR") == "7.66 EUR"


def test_the_payment_token_is_never_rendered() -> None:
    event = invoice_created(payment_token="tok_SuperSecret123")

    email = render_email(event)

    for part in (email.subject, email.html, email.text):
        assert "tok_SuperSecret123" not in part


def test_payment_confirmed_shows_the_amount_paid() -> None:
    email = render_email(payment_confirmed())

    assert "45.97 EUR" in email.html
    assert "45.97 EUR" in email.text


def test_payment_failed_gives_the_reason_and_says_cancelled_and_nothing_charged() -> None:
    email = render_email(payment_failed())

    assert "cancelled" in email.subject
    for body in (email.html, email.text):
        flat = " ".join(_words(body))
        assert "Your card was declined." in flat
        assert "cancelled" in flat
        assert "nothing was charged" in flat


def test_shipped_names_the_carrier_and_the_tracking_number() -> None:
    email = render_email(shipped())

    assert "shipped" in email.subject
    for body in (email.html, email.text):
        assert "SimPost" in body
        assert "SP123456789GB" in body


def test_shipment_error_gives_the_reason_and_says_the_payment_will_be_sorted() -> None:
    email = render_email(shipment_error())

    assert "shipment" in email.subject
    for body in (email.html, email.text):
        flat = " ".join(_words(body))
        assert "address is undeliverable" in flat
        assert "refund" in flat
        assert "45.97 EUR" in flat


def test_hostile_values_from_other_fields_are_escaped_too() -> None:
    line = OrderLine(sku="X-1", name="<b>bold</b>", quantity=1, unit_price_cents=100, line_total_cents=100)
    event = order_created(lines=[line], total_cents=100, shipping_address=address(line1='"><img src=x onerror=1>'))

    email = render_email(event)

    assert "&lt;b&gt;bold&lt;/b&gt;" in email.html
    assert "<b>bold" not in email.html
    assert "<img" not in email.html


@pytest.mark.parametrize(
    ("cents", "currency", "expected"),
    [(1299, "EUR", "12.99 EUR"), (5, "EUR", "0.05 EUR"), (0, "USD", "0.00 USD"), (100000, "GBP", "1000.00 GBP")],
)
def test_money(cents: int, currency: str, expected: str) -> None:
    assert money(cents, currency) == expected


def _words(body: str) -> list[str]:
    """The body's words without markup, so a check does not depend on the layout."""
    return re.sub(r"<[^>]+>", " ", body).split()
