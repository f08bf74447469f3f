from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from events.models import Event, EventType, InvoiceCreated, OrderCreated, OrderLine, parse_event
from invoice_service.domain.errors import InconsistentOrder
from invoice_service.domain.invoices import (
    MAX_LINK_SECONDS,
    build_invoice,
    invoice_number,
    issue_invoice,
    split_inclusive_tax,
)
from invoice_service.domain.model import Seller
from tests.builders import address, order_created
from tests.unit.invoice_service.fakes import InMemoryInvoiceStore, RecordingPublisher

SELLER = Seller(name="Shop SAS", address="1 Rue de l'Exemple, 75001 Paris, FR", vat_id="FR00123456789")
RATE = Decimal("0.20")


def _order(**overrides: Any) -> OrderCreated:
    event = order_created(**overrides)
    return event.model_copy(update={"occurred_at": datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)})


# --- tax -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "rate", "tax"),
    [
        (0, "0.20", 0),
        (1, "0.20", 0),  # 0.1667
        (120, "0.20", 20),
        (1999, "0.20", 333),  # 333.17
        (4597, "0.20", 766),  # 766.17
        (3, "0.20", 1),  # 0.5: half-up
        (9, "0.20", 2),  # 1.5
        (15, "0.20", 3),  # 2.5: half-up, where round() would give 2
        (107, "0.07", 7),
        (10000, "0.055", 521),  # 521.33
        (999, "0", 0),
    ],
)
def test_vat_is_split_out_of_the_inclusive_total(total: int, rate: str, tax: int) -> None:
    amounts = split_inclusive_tax(total, Decimal(rate))
    assert (amounts.tax_cents, amounts.subtotal_cents, amounts.total_cents) == (tax, total - tax, total)


@pytest.mark.parametrize("rate", ["0.20", "0.10", "0.055", "0.21"])
def test_the_parts_add_up_and_vat_is_within_half_a_cent_for_every_total(rate: str) -> None:
    exact_share = Decimal(rate) / (1 + Decimal(rate))
    for total in range(3000):
        amounts = split_inclusive_tax(total, Decimal(rate))
        assert amounts.subtotal_cents + amounts.tax_cents == total
        assert abs(amounts.tax_cents - total * exact_share) <= Decimal("0.5")


def test_negative_totals_and_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        split_inclusive_tax(-1, RATE)
    with pytest.raises(ValueError):
        split_inclusive_tax(100, Decimal("-0.1"))


# --- invoice number --------------------------------------------------------------------------


def test_invoice_number_is_the_utc_day_and_the_order_ids_first_hex_digits() -> None:
    order_id = "3f2a9c1e-7b4d-4c2a-9e1f-0a1b2c3d4e5f"
    assert invoice_number(order_id, datetime(2026, 1, 2, 23, 59, tzinfo=UTC)) == "INV-20260102-3F2A9C1E"


def test_invoice_number_uses_the_utc_day_whatever_the_offset_of_the_timestamp() -> None:
    order_id = "3f2a9c1e-7b4d-4c2a-9e1f-0a1b2c3d4e5f"
    paris_just_after_midnight = datetime(2026, 1, 3, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert invoice_number(order_id, paris_just_after_midnight) == "INV-20260102-3F2A9C1E"
    assert invoice_number(order_id, datetime(2026, 1, 3, 0, 30)) == "INV-20260103-3F2A9C1E"  # naive = UTC


def test_an_order_id_without_letters_or_digits_cannot_be_numbered() -> None:
    with pytest.raises(ValueError):
        invoice_number("----", datetime(2026, 1, 2, tzinfo=UTC))


def test_a_redelivered_event_makes_the_same_invoice() -> None:
    event = _order()
    redelivered = parse_event(event.model_dump_json())  # what SQS hands over the second time
    assert isinstance(redelivered, OrderCreated)
    assert build_invoice(redelivered, tax_rate=RATE, seller=SELLER) == build_invoice(
        event, tax_rate=RATE, seller=SELLER
    )


def test_two_orders_get_two_invoice_numbers() -> None:
    first, second = _order(), _order()
    assert (
        build_invoice(first, tax_rate=RATE, seller=SELLER).invoice_number
        != build_invoice(second, tax_rate=RATE, seller=SELLER).invoice_number
    )


# --- the invoice -----------------------------------------------------------------------------


def test_the_invoice_carries_the_orders_lines_addresses_and_amounts() -> None:
    event = _order(shipping_address=address(line2="Flat 2"))
    invoice = build_invoice(event, tax_rate=RATE, seller=SELLER)

    assert invoice.invoice_number == f"INV-20260314-{event.order_id.replace('-', '')[:8].upper()}"
    assert invoice.issued_on.isoformat() == "2026-03-14"
    assert invoice.key == f"invoices/{event.order_id}/{invoice.invoice_number}.html"
    assert invoice.pdf_key == f"invoices/{event.order_id}/{invoice.invoice_number}.pdf"
    assert invoice.lines == event.data.order.lines
    assert invoice.bill_to == invoice.ship_to == event.data.order.shipping_address
    assert invoice.currency == "EUR"
    assert (invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents) == (3831, 766, 4597)
    assert invoice.seller == SELLER


def test_an_order_whose_lines_do_not_add_up_to_its_total_is_not_invoiced() -> None:
    lines = [OrderLine(sku="MUG-001", name="Coffee mug", quantity=1, unit_price_cents=1299, line_total_cents=1299)]
    event = _order(lines=lines, total_cents=1000)
    with pytest.raises(InconsistentOrder):
        build_invoice(event, tax_rate=RATE, seller=SELLER)


# --- issuing: store, then announce ---------------------------------------------------------


def test_issuing_stores_the_html_and_the_pdf_and_publishes_invoice_created_with_a_link_to_the_pdf() -> None:
    event = _order(payment_token="tok_mastercard")
    store, publisher = InMemoryInvoiceStore(), RecordingPublisher()

    invoice = issue_invoice(event, tax_rate=RATE, seller=SELLER, store=store, publisher=publisher)

    assert list(store.objects) == [invoice.key, invoice.pdf_key]
    html, pdf = store.objects[invoice.key], store.objects[invoice.pdf_key]
    assert isinstance(html, str) and invoice.invoice_number in html
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-1.")
    assert b"tok_mastercard" not in pdf
    assert store.links == [(invoice.pdf_key, MAX_LINK_SECONDS)]  # one link, to the PDF, for 7 days
    [published] = publisher.events
    assert isinstance(published, InvoiceCreated)
    assert published.event_type is EventType.INVOICE_CREATED
    assert published.order_id == event.order_id
    assert published.customer_id == event.customer_id
    assert published.correlation_id == event.correlation_id
    assert published.causation_id == event.event_id
    data = published.data
    assert data.order == event.data.order
    assert (data.invoice_number, data.invoice_key) == (invoice.invoice_number, invoice.key)
    assert data.invoice_pdf_key == invoice.pdf_key
    assert data.invoice_url == (
        f"https://invoices.example/{invoice.pdf_key}?X-Amz-Expires={MAX_LINK_SECONDS}&X-Amz-Signature=sig1"
    )
    assert (data.subtotal_cents, data.tax_cents, data.total_cents) == (3831, 766, 4597)
    assert data.payment_token.get_secret_value() == "tok_mastercard"
    assert "tok_mastercard" not in repr(published)
    assert "tok_mastercard" not in store.objects[invoice.key]


def test_a_retry_after_a_failed_publish_rewrites_the_same_invoice_and_publishes_the_same_event() -> None:
    event = _order()
    store, publisher = InMemoryInvoiceStore(), RecordingPublisher(fail_next=1)

    with pytest.raises(ConnectionError):
        issue_invoice(event, tax_rate=RATE, seller=SELLER, store=store, publisher=publisher)
    first_documents = dict(store.objects)
    redelivered = parse_event(event.model_dump_json())
    assert isinstance(redelivered, OrderCreated)
    invoice = issue_invoice(redelivered, tax_rate=RATE, seller=SELLER, store=store, publisher=publisher)

    assert store.writes == [invoice.key, invoice.pdf_key, invoice.key, invoice.pdf_key]
    assert store.objects == first_documents  # the same keys, the same bytes: HTML and PDF
    [published] = publisher.events
    assert published.data.invoice_pdf_key == invoice.pdf_key
    again = InvoiceCreated.caused_by(event, data=published.data)
    assert published.event_id == again.event_id  # a double publish would be recognised downstream


def test_the_link_lasts_as_long_as_asked() -> None:
    store, publisher = InMemoryInvoiceStore(), RecordingPublisher()

    invoice = issue_invoice(_order(), tax_rate=RATE, seller=SELLER, store=store, publisher=publisher, link_seconds=3600)

    assert store.links == [(invoice.pdf_key, 3600)]
    [published] = publisher.events
    assert published.data.invoice_url is not None
    assert "X-Amz-Expires=3600&" in published.data.invoice_url


@pytest.mark.parametrize("seconds", [0, -1, MAX_LINK_SECONDS + 1])
def test_a_link_lifetime_beyond_what_sigv4_allows_is_refused_before_anything_is_stored(seconds: int) -> None:
    store, publisher = InMemoryInvoiceStore(), RecordingPublisher()

    with pytest.raises(ValueError, match="download link"):
        issue_invoice(_order(), tax_rate=RATE, seller=SELLER, store=store, publisher=publisher, link_seconds=seconds)

    assert (store.objects, store.links, publisher.events) == ({}, [], [])


def test_both_documents_are_stored_before_the_event_announces_them() -> None:
    store = InMemoryInvoiceStore()
    stored_when_published: list[set[str]] = []

    class WatchingPublisher(RecordingPublisher):
        def publish(self, event: Event[Any]) -> str:
            stored_when_published.append(set(store.objects))
            return super().publish(event)

    invoice = issue_invoice(_order(), tax_rate=RATE, seller=SELLER, store=store, publisher=WatchingPublisher())

    assert stored_when_published == [{invoice.key, invoice.pdf_key}]


def test_an_inconsistent_order_stores_and_publishes_nothing() -> None:
    lines = [OrderLine(sku="MUG-001", name="Coffee mug", quantity=1, unit_price_cents=1299, line_total_cents=1299)]
    event = _order(lines=lines, total_cents=1)
    store, publisher = InMemoryInvoiceStore(), RecordingPublisher()
    with pytest.raises(InconsistentOrder):
        issue_invoice(event, tax_rate=RATE, seller=SELLER, store=store, publisher=publisher)
    assert store.objects == {}
    assert publisher.events == []
