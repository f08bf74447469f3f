"""Placing orders, reading them, and moving them along the lifecycle."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from events.clock import utcnow
from events.models import (
    Address,
    DeliveredData,
    Event,
    InvoiceCreatedData,
    OrderCancelled,
    OrderCancelledData,
    OrderCreated,
    OrderCreatedData,
    OrderLine,
    OrderSnapshot,
    PaymentConfirmedData,
    PaymentFailedData,
    PaymentRefundedData,
    ShipmentErrorData,
    ShippedData,
)
from order_service.domain import stock
from order_service.domain.commands import Customer, PlaceOrder
from order_service.domain.errors import (
    IdempotencyKeyReused,
    OrderBusy,
    OrderNotCancellable,
    OrderNotFound,
    OutOfStock,
    ProductNotFound,
    RequestAlreadyRecorded,
    StockShort,
    StoreBusy,
    UnknownProducts,
)
from order_service.domain.lifecycle import CANCELLABLE, RELEASES_STOCK, OrderStatus, status_of
from order_service.domain.model import Order, Product, RecordedRequest, TimelineEntry
from order_service.domain.ports import OrderLedger, OrderStore


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    replayed: bool = False  # an earlier request with the same Idempotency-Key created it


def place_order(
    command: PlaceOrder,
    customer: Customer,
    store: OrderStore,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
) -> PlacedOrder:
    """Price the command's items from the catalogue; store the order, reserve its stock and queue its
    announcement (ORDER_CREATED) in the outbox, all in one transaction.

    With an Idempotency-Key, a retried request returns the order the first one created
    (no second order, reservation or charge); the same key with another body is refused.
    """
    request_hash = command.fingerprint()
    if idempotency_key is not None:
        earlier = store.find_request(customer.customer_id, idempotency_key)
        if earlier is not None:
            return _replay(earlier, request_hash, store)

    quantities: Counter[str] = Counter()
    for item in command.items:  # the same sku twice is one line
        quantities[item.sku] += item.quantity

    products = store.get_products(sorted(quantities), count_stock=False)  # prices and shard counts
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
        shipping_address=command.shipping_address,
        created_at=utcnow(),
    )
    announcement = OrderCreated.first(
        order_id=order.order_id,
        customer_id=order.customer_id,
        correlation_id=correlation_id,
        data=OrderCreatedData(order=snapshot(order), payment_token=command.payment_token),
    )
    order.correlation_id = announcement.correlation_id
    recorded = (
        RecordedRequest(
            customer_id=customer.customer_id, key=idempotency_key, request_hash=request_hash, order_id=order.order_id
        )
        if idempotency_key is not None
        else None
    )
    order.reservations = stock.first_pick(dict(quantities), products)
    try:
        _create_taking_stock(order, announcement, recorded, store)
    except RequestAlreadyRecorded:  # a concurrent retry won the race
        assert idempotency_key is not None
        earlier = store.find_request(customer.customer_id, idempotency_key)
        if earlier is None:
            raise
        return _replay(earlier, request_hash, store)
    return PlacedOrder(order)


# Picking again after a short shard: each round reads every shard of the short lines, so it
# fails again only if other orders emptied the shards picked in the moment between.
STOCK_ROUNDS = 4


def _create_taking_stock(
    order: Order,
    announcement: Event[Any],
    recorded: RecordedRequest | None,
    store: OrderStore,
) -> None:
    """Store the order with the stock its reservations name; when a shard is short, read
    all of that SKU's shards (strongly consistent: the catalogue read may be a moment old,
    from before a restock changed the shards) and pick again (stock.repick)."""
    quantities = {line.sku: line.quantity for line in order.lines}
    for _ in range(STOCK_ROUNDS):
        try:
            store.create_order(order, announcement, recorded)
            return
        except StockShort as short:
            stocks = store.shard_stocks(short.skus)
            out = [sku for sku in short.skus if sum(max(0, s) for s in stocks[sku]) < quantities[sku]]
            if out:
                raise OutOfStock(out) from short
            again = [r for r in order.reservations if r.sku not in short.skus]
            for sku in short.skus:
                again += stock.repick(sku, quantities[sku], stocks[sku])
            order.reservations = again
    raise StoreBusy("the stock shards kept emptying under this order")


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


Fact = str | int


def facts_of(event: Event[Any]) -> dict[str, Fact]:
    """What the order keeps from an event besides its status (also when the event came
    too late to move the status: a charge refunded after a cancellation is still shown)."""
    data = event.data
    if isinstance(data, InvoiceCreatedData):
        facts: dict[str, Fact] = {"invoice_number": data.invoice_number}
        if data.invoice_pdf_key:
            facts["invoice_pdf_key"] = data.invoice_pdf_key
        return facts
    if isinstance(data, PaymentConfirmedData):
        return {"charge_id": data.charge_id, "paid_cents": data.amount_cents}
    if isinstance(data, PaymentFailedData):
        return {"failure_reason": data.reason, **({"decline_code": data.decline_code} if data.decline_code else {})}
    if isinstance(data, ShippedData):
        return {"carrier": data.carrier, "tracking_number": data.tracking_number}
    if isinstance(data, ShipmentErrorData):
        return {"failure_reason": data.reason}
    if isinstance(data, PaymentRefundedData):
        return {
            "charge_id": data.charge_id,
            "refund_id": data.refund_id,
            "refunded_cents": data.amount_cents,
            "refund_reason": data.reason,
        }
    if isinstance(data, DeliveredData):
        return {"delivered_at": data.delivered_at.isoformat()}
    return {}


# Conditional writes lost to a concurrent one re-read the order and decide again; an
# order sees a dozen events at most, so a handful of rounds is plenty.
MAX_ROUNDS = 8


def apply_event(event: Event[Any], store: OrderLedger) -> Applied:
    """Record an event on its order and recompute its status from every fact seen.

    The write is conditioned on the version read, so two events applied at once both
    land, one after the other (the loser re-reads), whatever order they came in; the
    stock goes back exactly once, in the write that first moves the order to a status
    where the goods never left."""
    for _ in range(MAX_ROUNDS):
        order = store.get_order(event.order_id)
        if order is None:
            raise OrderNotFound(event.order_id)
        if event.event_id in order.event_ids:
            return Applied.DUPLICATE
        status = status_of([*order.facts, event.event_type.value])
        release = order.held_stock() if status in RELEASES_STOCK and not order.stock_released else None
        entry = TimelineEntry(
            event_id=event.event_id,
            event_type=event.event_type.value,
            occurred_at=event.occurred_at,
            status=status if status != order.status else None,
        )
        if store.record(order, entry, status, facts_of(event), release):
            return Applied.STATUS_CHANGED if status != order.status else Applied.RECORDED
    raise StoreBusy(f"order {event.order_id} kept changing")


@dataclass(frozen=True)
class Cancellation:
    order: Order
    already: bool = False  # asked before: nothing new happened


def cancel_order(order_id: str, customer_id: str, store: OrderStore) -> Cancellation:
    """Ask to cancel an order that has not shipped, as far as this service knows: it
    becomes CANCELLING and ORDER_CANCELLED is queued, in one write. Whether the parcel can
    still be stopped is the shipment service's to say (SHIPMENT_CANCELLED: the order ends
    CANCELLED, its stock released and any charge refunded; CANCELLATION_REJECTED: it goes
    on). Asking again is harmless."""
    for _ in range(MAX_ROUNDS):
        order = get_customer_order(order_id, customer_id, store)
        if order.cancelled_at is not None:
            return Cancellation(order, already=True)
        if order.status not in CANCELLABLE:
            raise OrderNotCancellable(order_id, order.status)
        announcement = OrderCancelled.for_order(
            order_id=order.order_id,
            customer_id=order.customer_id,
            correlation_id=order.correlation_id or order.order_id,
            data=OrderCancelledData(order=snapshot(order), previous_status=order.status.value),
        )
        status = status_of([*order.facts, announcement.event_type.value])
        entry = TimelineEntry(
            event_id=announcement.event_id,
            event_type=announcement.event_type.value,
            occurred_at=announcement.occurred_at,
            status=status,
        )
        cancelled_at = utcnow()
        if store.cancel(order, announcement, entry, status, cancelled_at):
            return Cancellation(order.model_copy(update={"status": status, "cancelled_at": cancelled_at}))
    raise OrderBusy(order_id)


def list_customer_orders(
    customer_id: str, store: OrderStore, limit: int, cursor: str | None
) -> tuple[list[Order], str | None]:
    """The customer's orders, newest first, a page at a time."""
    return store.list_customer_orders(customer_id, limit, cursor)


def set_inventory(
    sku: str,
    store: OrderStore,
    units: int,
    price_cents: int | None = None,
    name: str | None = None,
    currency: str | None = None,
    shards: int | None = None,
) -> Product:
    """Set a product's available stock (and price, name, number of stock shards: kept when
    not given, 1 for a new product); a new SKU needs a name and a price."""
    current = store.get_products([sku], count_stock=False).get(sku)
    if current is None:
        if price_cents is None or name is None:
            raise ProductNotFound(sku, "a new product needs a name and a price")
        return store.put_product(
            Product(
                sku=sku,
                name=name,
                price_cents=price_cents,
                currency=currency or "EUR",
                stock=units,
                shards=shards or 1,
                shard_items=shards or 1,
            )
        )
    return store.set_stock(sku, units, price_cents=price_cents, name=name, shards=shards)
