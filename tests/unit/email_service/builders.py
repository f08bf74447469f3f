"""Builders for the events the email tests need beyond tests/builders.py: the lifecycle
events (cancelled, refunded, delivered) and an INVOICE_CREATED with its PDF link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from events.models import (
    CancellationRejected,
    CancellationRejectedData,
    Delivered,
    DeliveredData,
    Event,
    EventType,
    InvoiceCreated,
    OrderCancelled,
    OrderCancelledData,
    PaymentRefunded,
    PaymentRefundedData,
    ShipmentCancelled,
    ShipmentCancelledData,
    Shipped,
)
from tests.builders import (
    invoice_created,
    order_created,
    payment_confirmed,
    payment_failed,
    shipment_error,
    shipped,
)

# A SigV4 pre-signed GET of an invoice PDF as the invoice service makes one, signed
# 2026-11-21 06:16:18 UTC for 604800 s (7 days): it expires 2026-11-28 06:16:18 UTC.
INVOICE_URL = (
    "https://invoices.s3.amazonaws.com/invoices/{order_id}/INV-20260101-ABCDEF12.pdf"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=ASIAEXAMPLE%2F20261121%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20261121T061618Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=5952396c274cfbc6c103f1614c0dcb7b00f3a381f1c2fb7cf573da18010bf39a"
)
DELIVERED_AT = datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC)


def invoice_created_with_link(url: str | None = None, **kwargs: Any) -> InvoiceCreated:
    event = invoice_created(**kwargs)
    data = event.data.model_copy(
        update={
            "invoice_pdf_key": f"invoices/{event.order_id}/INV-20260101-ABCDEF12.pdf",
            "invoice_url": url if url is not None else INVOICE_URL.format(order_id=event.order_id),
        }
    )
    return event.model_copy(update={"data": data})


def order_cancelled(previous_status: str = "PAID", **kwargs: Any) -> OrderCancelled:
    placed = order_created(**kwargs)
    return OrderCancelled.for_order(
        order_id=placed.order_id,
        customer_id=placed.customer_id,
        correlation_id=placed.correlation_id,
        data=OrderCancelledData(order=placed.data.order, previous_status=previous_status),
    )


def shipment_cancelled(cause: OrderCancelled | None = None, **kwargs: Any) -> ShipmentCancelled:
    cause = cause or order_cancelled(**kwargs)
    return ShipmentCancelled.caused_by(cause, data=ShipmentCancelledData(order=cause.data.order))


def cancellation_rejected(cause: OrderCancelled | None = None, **kwargs: Any) -> CancellationRejected:
    cause = cause or order_cancelled(**kwargs)
    return CancellationRejected.caused_by(
        cause,
        data=CancellationRejectedData(
            order=cause.data.order,
            reason="your order had already left our warehouse with the carrier",
            carrier="SimPost",
            tracking_number="SP123456789GB",
        ),
    )


def payment_refunded(cause: ShipmentCancelled | None = None, **kwargs: Any) -> PaymentRefunded:
    cause = cause or shipment_cancelled(**kwargs)
    return PaymentRefunded.caused_by(
        cause,
        data=PaymentRefundedData(
            order=cause.data.order,
            charge_id="ch_test_123",
            refund_id="re_test_456",
            amount_cents=cause.data.order.total_cents,
            currency=cause.data.order.currency,
            reason="the order was cancelled",
        ),
    )


def delivered(cause: Shipped | None = None, **kwargs: Any) -> Delivered:
    cause = cause or shipped(**kwargs)
    return Delivered.caused_by(
        cause,
        data=DeliveredData(
            order=cause.data.order,
            shipment_id=cause.data.shipment_id,
            carrier=cause.data.carrier,
            tracking_number=cause.data.tracking_number,
            delivered_at=DELIVERED_AT,
        ),
    )


# One builder per event type the customer hears about; every one takes the order
# snapshot's fields (customer_email, shipping_address, ...) as keyword arguments.
BUILDERS: dict[EventType, Callable[..., Event[Any]]] = {
    EventType.ORDER_CREATED: order_created,
    EventType.INVOICE_CREATED: invoice_created_with_link,
    EventType.PAYMENT_CONFIRMED: payment_confirmed,
    EventType.PAYMENT_FAILED: payment_failed,
    EventType.SHIPPED: shipped,
    EventType.SHIPMENT_ERROR: shipment_error,
    EventType.ORDER_CANCELLED: order_cancelled,
    EventType.PAYMENT_REFUNDED: payment_refunded,
    EventType.DELIVERED: delivered,
    EventType.SHIPMENT_CANCELLED: shipment_cancelled,
    EventType.CANCELLATION_REJECTED: cancellation_rejected,
}
