"""Placing orders, reading them, and moving them along the lifecycle."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from events.models import (
    Address,
    Event,
    InvoiceCreatedData,
    OrderCreated,
    OrderCreatedData,
    OrderLine,
    OrderSnapshot,
    PaymentFailedData,
    ShipmentErrorData,
    ShippedData,
)
from order_service.domain.errors import OrderNotFound, UnknownProducts
from order_service.domain.lifecycle import TRANSITIONS, OrderStatus
from order_service.domain.model import Order, TimelineEntry
from order_service.domain.ports import OrderStore, Publisher
from order_service.models.api import Customer, PlaceOrderRequest


def place_order(request: PlaceOrderRequest, customer: Customer, store: OrderStore, publisher: Publisher) -> Order:
    """Price the request from the catalogue, store it reserving stock, announce it."""
    quantities: Counter[str] = Counter()
    for item in request.items:  # the same sku twice is one line
        quantities[item.sku] += item.quantity

    products = store.get_products(sorted(quantities))
    unknown = sorted(sku for sku in quantities if sku not in products)
    if unknown:
        raise UnknownProducts(unknown)

    lines = [
        OrderLine(
            sku=sku,
            name=products[sku].name,
            quantity=quantity,
            unit_price_cents=products[sku].price_cents,
            line_total_cents=products[sku].price_cents * quantity,
        )
        for sku, quantity in quantities.items()
    ]
    order = Order(
        order_id=str(uuid.uuid4()),
        customer_id=customer.customer_id,
        customer_email=customer.email,
        status=OrderStatus.CREATED,
        lines=lines,
        total_cents=sum(line.line_total_cents for line in lines),
        currency=products[lines[0].sku].currency,
        shipping_address=request.shipping_address,
        created_at=datetime.now(UTC),
    )
    store.create_order(order)
    publisher.publish(
        OrderCreated.first(
            order_id=order.order_id,
            customer_id=order.customer_id,
            data=OrderCreatedData(order=snapshot(order), payment_token=request.payment_token),
        )
    )
    return order


def snapshot(order: Order) -> OrderSnapshot:
    return OrderSnapshot(
        customer_email=order.customer_email,
        lines=order.lines,
        total_cents=order.total_cents,
        currency=order.currency,
        shipping_address=Address.model_validate(order.shipping_address.model_dump()),
    )


def get_customer_order(order_id: str, customer_id: str, store: OrderStore) -> Order:
    """The caller's own order; somebody else's is as unknown as a missing one."""
    order = store.get_order(order_id)
    if order is None or order.customer_id != customer_id:
        raise OrderNotFound(order_id)
    return order


class Applied(StrEnum):
    STATUS_CHANGED = "STATUS_CHANGED"
    RECORDED = "RECORDED"  # in the timeline only: no status change for it, or too late
    DUPLICATE = "DUPLICATE"


def facts_of(event: Event[Any]) -> dict[str, str]:
    """What the order keeps from an event besides its status."""
    data = event.data
    if isinstance(data, InvoiceCreatedData):
        return {"invoice_number": data.invoice_number}
    if isinstance(data, ShippedData):
        return {"carrier": data.carrier, "tracking_number": data.tracking_number}
    if isinstance(data, (PaymentFailedData, ShipmentErrorData)):
        return {"failure_reason": data.reason}
    return {}


def apply_event(event: Event[Any], store: OrderStore) -> Applied:
    """Record an event on its order, moving the status forward when the lifecycle allows."""
    transition = TRANSITIONS[event.event_type]
    entry = TimelineEntry(
        event_id=event.event_id,
        event_type=event.event_type.value,
        occurred_at=event.occurred_at,
        status=transition.to,
    )
    if transition.to is not None:
        release = event.data.order.lines if transition.releases_stock else None
        facts = facts_of(event)
        if store.transition(event.order_id, entry, transition.to, transition.allowed_from, release, facts):
            return Applied.STATUS_CHANGED
        entry = entry.model_copy(update={"status": None})
    if store.append_timeline(event.order_id, entry):
        return Applied.RECORDED
    return Applied.DUPLICATE
