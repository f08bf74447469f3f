"""Placing orders, reading them, and moving them along the lifecycle."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass
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
from order_service.domain.errors import IdempotencyKeyReused, OrderNotFound, RequestAlreadyRecorded, UnknownProducts
from order_service.domain.lifecycle import TRANSITIONS, OrderStatus
from order_service.domain.model import Order, RecordedRequest, TimelineEntry
from order_service.domain.ports import OrderStore
from order_service.models.api import Customer, PlaceOrderRequest


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    replayed: bool = False  # an earlier request with the same Idempotency-Key created it


def place_order(
    request: PlaceOrderRequest,
    customer: Customer,
    store: OrderStore,
    idempotency_key: str | None = None,
) -> PlacedOrder:
    """Price the request from the catalogue; store it, reserve its stock and queue its
    announcement (ORDER_CREATED) in the outbox, all in one transaction.

    With an Idempotency-Key, a retried request returns the order the first one created
    (no second order, reservation or charge); the same key with another body is refused.
    """
    request_hash = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
    if idempotency_key is not None:
        earlier = store.find_request(customer.customer_id, idempotency_key)
        if earlier is not None:
            return _replay(earlier, request_hash, store)

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
    announcement = OrderCreated.first(
        order_id=order.order_id,
        customer_id=order.customer_id,
        data=OrderCreatedData(order=snapshot(order), payment_token=request.payment_token),
    )
    recorded = (
        RecordedRequest(
            customer_id=customer.customer_id, key=idempotency_key, request_hash=request_hash, order_id=order.order_id
        )
        if idempotency_key is not None
        else None
    )
    try:
        store.create_order(order, announcement, recorded)
    except RequestAlreadyRecorded:  # a concurrent retry won the race
        assert idempotency_key is not None
        earlier = store.find_request(customer.customer_id, idempotency_key)
        if earlier is None:
            raise
        return _replay(earlier, request_hash, store)
    return PlacedOrder(order)


def _replay(earlier: RecordedRequest, request_hash: str, store: OrderStore) -> PlacedOrder:
    if earlier.request_hash != request_hash:
        raise IdempotencyKeyReused(earlier.key)
    order = store.get_order(earlier.order_id)
    if order is None:
        raise OrderNotFound(earlier.order_id)
    return PlacedOrder(order, replayed=True)


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
