from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from choreography.catalogue import SUBSCRIPTIONS
from email_service.domain.rendering import (
    CUSTOMER_EVENT_TYPES,
    TEMPLATES_DIR,
    describe_lifetime,
    download_link,
    render_email,
    utc,
)
from events.models import Event, EventType, InvoiceCreated, OrderLine
from events.money import format_money as money
from tests.builders import (
    address,
    invoice_created,
    order_created,
    payment_confirmed,
    payment_failed,
    shipment_error,
    shipped,
)
from tests.unit.email_service.builders import (
    BUILDERS,
    INVOICE_URL,
    cancellation_rejected,
    delivered,
    invoice_created_with_link,
    order_cancelled,
    payment_refunded,
    shipment_cancelled,
)

SCRIPT = "<script>alert(1)</script>"


def test_the_customer_hears_about_every_event_type_the_catalogue_routes_to_email() -> None:
    [email] = [s for s in SUBSCRIPTIONS if s.service == "email_service"]
    assert CUSTOMER_EVENT_TYPES == set(email.event_types) == set(EventType)


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


@pytest.mark.parametrize("build", [invoice_created, invoice_created_with_link], ids=["without link", "with link"])
def test_invoice_created_shows_number_subtotal_vat_and_total(build: Callable[..., InvoiceCreated]) -> None:
    event = build()
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


def test_the_invoice_email_links_to_the_pdf_and_says_when_the_link_expires() -> None:
    event = invoice_created_with_link()
    url = INVOICE_URL.format(order_id=event.order_id)

    email = render_email(event)

    # HTML: an anchor whose href is the URL, escaped as an attribute value must be.
    assert _anchors(email.html) == [(url, "Download your invoice (PDF)")]
    assert "&amp;X-Amz-Expires=604800&amp;" in email.html  # & escaped in the attribute
    # Text: the plain URL on a line of its own, for any mail client to make clickable.
    assert url in email.text.splitlines()
    for body in (email.html, email.text):
        assert "The link expires in 7 days, on 2026-11-28 at 06:16 UTC." in body
        assert event.order_id in body


def test_without_a_link_the_invoice_email_promises_no_download() -> None:
    email = render_email(invoice_created())

    for body in (email.html, email.text):
        assert "Download" not in body
        assert "expires" not in body
        assert "<a " not in body


def test_a_link_that_tries_to_break_out_of_the_attribute_is_escaped() -> None:
    url = 'https://invoices.example/i.pdf?a=1&b="><script>alert(1)</script>'

    email = render_email(invoice_created_with_link(url))

    assert "<script" not in email.html
    assert _anchors(email.html) == [(url, "Download your invoice (PDF)")]  # the quote did not end the href
    assert url in email.text


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "//invoices.example/i.pdf", "https://", "not a url"]
)
def test_a_link_that_is_not_a_web_address_is_left_out(url: str) -> None:
    email = render_email(invoice_created_with_link(url))

    for body in (email.html, email.text):
        assert "Download" not in body
        assert url not in body


@pytest.mark.parametrize(
    ("query", "expiry"),
    [
        ("X-Amz-Date=20261121T061618Z&X-Amz-Expires=3600", "The link expires in 1 hour, on 2026-11-21 at 07:16 UTC."),
        ("X-Amz-Date=20261121T061618Z&X-Amz-Expires=172800", "The link expires in 2 days, on 2026-11-23 at 06:16 UTC."),
        ("AWSAccessKeyId=x&Signature=y&Expires=1795846346", "The link expires on 2026-11-28 at 06:12 UTC."),
        ("X-Amz-Date=garbage&X-Amz-Expires=3600", "The link works for a limited time only."),
        ("", "The link works for a limited time only."),
    ],
)
def test_the_expiry_is_read_from_the_presigned_url(query: str, expiry: str) -> None:
    link = download_link(f"https://invoices.example/i.pdf?{query}")

    assert link is not None
    assert link.expiry == expiry
    assert expiry in render_email(invoice_created_with_link(link.url)).text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(604800, "7 days"), (86400, "1 day"), (7200, "2 hours"), (3600, "1 hour"), (90, "90 seconds"), (120, "2 minutes")],
)
def test_lifetimes_read_as_words(seconds: int, text: str) -> None:
    assert describe_lifetime(seconds) == text


def test_times_are_shown_in_utc() -> None:
    assert utc(datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)) == "2026-11-23 at 14:05 UTC"
    assert utc(datetime.fromisoformat("2026-11-23T16:05:09+02:00")) == "2026-11-23 at 14:05 UTC"
    assert utc(datetime(2026, 11, 23, 14, 5)) == "2026-11-23 at 14:05 UTC"  # naive = UTC


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


def test_order_cancelled_says_the_request_is_taken_and_what_comes_next() -> None:
    event = order_cancelled()

    email = render_email(event)

    assert email.subject == f"We are cancelling your order {event.order_id}"
    for body in (email.html, email.text):
        flat = " ".join(_words(body))
        assert f"We received your request to cancel your order {event.order_id}" in flat
        assert "if the parcel has already left with the carrier, that it could not be cancelled" in flat
        assert "Coffee mug" in flat
        assert "Total: 45.97 EUR" in flat


def test_shipment_cancelled_says_the_order_is_cancelled_and_that_a_refund_follows_if_paid() -> None:
    event = shipment_cancelled()

    email = render_email(event)

    assert email.subject == f"Your order {event.order_id} is cancelled"
    for body in (email.html, email.text):
        flat = " ".join(_words(body))
        assert f"Your order {event.order_id} is cancelled." in flat
        assert "the refund follows in a separate email" in flat
        assert "Reason: cancelled by the customer" in flat


def test_cancellation_rejected_says_it_shipped_with_its_tracking_number_and_the_payment_stands() -> None:
    event = cancellation_rejected()

    email = render_email(event)

    assert email.subject == f"We could not cancel your order {event.order_id}: it has already shipped"
    for body in (email.html, email.text):
        flat = " ".join(_words(body))
        assert "your order had already left our warehouse with the carrier" in flat
        assert "SP123456789GB" in flat and "SimPost" in flat
        assert "Your payment stands." in flat


def test_payment_refunded_gives_the_amount_the_reason_and_the_reference() -> None:
    event = payment_refunded()

    email = render_email(event)

    assert email.subject == f"We refunded 45.97 EUR for your order {event.order_id}"
    for body in (email.html, email.text):
        flat = " ".join(_words(body))
        assert f"We refunded 45.97 EUR to your payment method for your order {event.order_id}" in flat
        assert "Reason: the order was cancelled" in flat
        assert "Refund reference: re_test_456" in flat


def test_delivered_names_the_carrier_the_tracking_number_and_when() -> None:
    event = delivered()

    email = render_email(event)

    assert email.subject == f"Your order {event.order_id} was delivered"
    for body in (email.html, email.text):
        flat = " ".join(_words(body))
        assert f"Your order {event.order_id} was delivered by SimPost on 2026-11-23 at 14:05 UTC." in flat
        assert "Tracking number: SP123456789GB" in flat
        assert "12 Analytical Row" in flat


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (shipment_cancelled, "reason"),
        (cancellation_rejected, "reason"),
        (payment_refunded, "reason"),
        (delivered, "carrier"),
        (delivered, "tracking_number"),
    ],
)
def test_hostile_values_in_the_new_events_are_escaped(build: Callable[..., Event[Any]], field: str) -> None:
    event = build()
    event = event.model_copy(update={"data": event.data.model_copy(update={field: SCRIPT})})

    email = render_email(event)

    assert "<script" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert SCRIPT in email.text


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


def _anchors(body: str) -> list[tuple[str, str]]:
    """(href as a browser reads it, link text) of every link in the HTML; an href with a
    raw quote or angle bracket in it would not match."""
    found = re.findall(r'<a href="([^"<>]*)"[^>]*>([^<]*)</a>', body)
    return [(html.unescape(href), text) for href, text in found]


def _words(body: str) -> list[str]:
    """The body's words without markup, so a check does not depend on the layout."""
    return re.sub(r"<[^>]+>", " ", body).split()
