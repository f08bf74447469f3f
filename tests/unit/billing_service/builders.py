"""Events billing consumes beyond tests/builders.py: ORDER_CANCELLED."""

from __future__ import annotations

from typing import Any

from events.models import Event, OrderCancelled, OrderCancelledData


def order_cancelled(of: Event[Any], previous_status: str = "PAID") -> OrderCancelled:
    """The customer cancels the order that `of` is about (a request: a new event id)."""
    return OrderCancelled.for_order(
        order_id=of.order_id,
        customer_id=of.customer_id,
        correlation_id=of.correlation_id,
        data=OrderCancelledData(order=of.data.order, previous_status=previous_status),
    )
