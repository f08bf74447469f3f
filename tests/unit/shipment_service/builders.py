"""Builders for the shipment service's tests (tests/builders.py has the shared ones)."""

from __future__ import annotations

from events.models import OrderCancelled, OrderCancelledData, PaymentConfirmed


def order_cancelled(paid: PaymentConfirmed, previous_status: str = "PAID") -> OrderCancelled:
    """The customer cancels the order `paid` is about (order_service publishes this)."""
    return OrderCancelled.for_order(
        order_id=paid.order_id,
        customer_id=paid.customer_id,
        correlation_id=paid.correlation_id,
        data=OrderCancelledData(order=paid.data.order, previous_status=previous_status),
    )
