"""Events billing consumes beyond tests/builders.py: ORDER_CANCELLED."""

from __future__ import annotations

from typing import Any

from events.models import Event, OrderCancelled, OrderCancelledData, ShipmentCancelled, ShipmentCancelledData


def order_cancelled(of: Event[Any], previous_status: str = "PAID") -> OrderCancelled:
    """The customer cancels the order that `of` is about (a request: a new event id)."""
    return OrderCancelled.for_order(
        order_id=of.order_id,
        customer_id=of.customer_id,
        correlation_id=of.correlation_id,
        data=OrderCancelledData(order=of.data.order, previous_status=previous_status),
    )


def stopped(of: Event[Any], previous_status: str = "PAID") -> ShipmentCancelled:
    """Shipment's verdict on the customer's cancellation of `of`'s order: the parcel was
    stopped before its booking (billing refunds on this, not on the request)."""
    request = order_cancelled(of, previous_status)
    return ShipmentCancelled.caused_by(request, data=ShipmentCancelledData(order=of.data.order))
