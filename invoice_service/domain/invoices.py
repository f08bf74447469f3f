"""Issuing the invoice of an order.

Everything on the invoice is derived from the ORDER_CREATED event alone (number,
date, amounts), so a redelivered or retried event yields the very same invoice, the
same S3 objects (HTML and PDF, byte for byte) and the same INVOICE_CREATED event id.
Only the download link differs between two attempts (it is signed when it is made);
consumers keep the first INVOICE_CREATED they see and drop the duplicate by event id.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from events.models import InvoiceCreated, InvoiceCreatedData, OrderCreated
from events.publisher import Publisher
from invoice_service.domain.errors import InconsistentOrder
from invoice_service.domain.model import Invoice, Seller, TaxBreakdown
from invoice_service.domain.ports import InvoiceStore
from invoice_service.domain.rendering import render_invoice_html, render_invoice_pdf

# How long the link to the PDF in INVOICE_CREATED (and so in the invoice email) works:
# 7 days, the longest a SigV4 pre-signed URL can be valid.
MAX_LINK_SECONDS = 7 * 24 * 60 * 60

_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]")


def _utc(moment: datetime) -> datetime:
    # The contract says UTC; a naive time is taken as such, not as the host's local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def invoice_number(order_id: str, occurred_at: datetime) -> str:
    """INV-<UTC day the order was placed>-<first 8 hex digits of the order id>."""
    digits = _NOT_ALPHANUMERIC.sub("", order_id)[:8].upper()
    if not digits:
        raise ValueError(f"order id {order_id!r} has no letters or digits to number an invoice with")
    return f"INV-{_utc(occurred_at):%Y%m%d}-{digits}"


def split_inclusive_tax(total_cents: int, rate: Decimal) -> TaxBreakdown:
    """Split a tax-inclusive total into net and VAT.

    VAT is rounded to the cent half-up (commercial rounding, as tax authorities
    expect), not half-to-even like Python's round(); the net is what remains, so the
    parts always add up to the total the customer is charged.
    """
    if total_cents < 0:
        raise ValueError("a total cannot be negative")
    if rate < 0:
        raise ValueError("a tax rate cannot be negative")
    tax = int((Decimal(total_cents) * rate / (1 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return TaxBreakdown(subtotal_cents=total_cents - tax, tax_cents=tax, total_cents=total_cents)


def build_invoice(event: OrderCreated, *, tax_rate: Decimal, seller: Seller) -> Invoice:
    order = event.data.order
    lines_total = sum(line.line_total_cents for line in order.lines)
    if lines_total != order.total_cents:
        raise InconsistentOrder(event.order_id, lines_total, order.total_cents)
    amounts = split_inclusive_tax(order.total_cents, tax_rate)
    return Invoice(
        invoice_number=invoice_number(event.order_id, event.occurred_at),
        order_id=event.order_id,
        issued_on=_utc(event.occurred_at).date(),
        seller=seller,
        bill_to=order.shipping_address,
        ship_to=order.shipping_address,
        lines=order.lines,
        currency=order.currency,
        tax_rate=tax_rate,
        subtotal_cents=amounts.subtotal_cents,
        tax_cents=amounts.tax_cents,
        total_cents=amounts.total_cents,
    )


def issue_invoice(
    event: OrderCreated,
    *,
    tax_rate: Decimal,
    seller: Seller,
    store: InvoiceStore,
    publisher: Publisher,
    link_seconds: int = MAX_LINK_SECONDS,
) -> Invoice:
    """Render and store the invoice as HTML and as PDF, then announce it with a link to
    the PDF that works for `link_seconds` (in that order: whoever reads INVOICE_CREATED
    can fetch both objects)."""
    if not 0 < link_seconds <= MAX_LINK_SECONDS:
        raise ValueError(f"a download link lasts 1 to {MAX_LINK_SECONDS} seconds, not {link_seconds}")
    invoice = build_invoice(event, tax_rate=tax_rate, seller=seller)
    store.put_html(invoice.key, render_invoice_html(invoice))
    store.put_pdf(invoice.pdf_key, render_invoice_pdf(invoice))
    invoice_url = store.download_link(invoice.pdf_key, link_seconds)
    publisher.publish(
        InvoiceCreated.caused_by(
            event,
            data=InvoiceCreatedData(
                order=event.data.order,
                # Billing learns the token only from events; it stays a SecretStr.
                payment_token=event.data.payment_token,
                invoice_number=invoice.invoice_number,
                invoice_key=invoice.key,
                invoice_pdf_key=invoice.pdf_key,
                invoice_url=invoice_url,
                subtotal_cents=invoice.subtotal_cents,
                tax_cents=invoice.tax_cents,
                total_cents=invoice.total_cents,
            ),
        )
    )
    return invoice
