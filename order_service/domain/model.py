"""The order aggregate as the domain sees it.

defer_build on every model: each function of the order service builds the validators of
the models it uses, on first use, not those of its siblings (cold start)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from events.models import Address, OrderLine
from order_service.domain.lifecycle import OrderStatus


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    name: str
    price_cents: int
    currency: str
    stock: int  # available: the sum of the stock shards (see order_service.domain.stock)
    # New reservations spread over `shards` stock shards; `shard_items` is how many hold
    # stock (the most there ever were: units released to a shard above `shards` still count).
    shards: int = 1
    shard_items: int = 1


class Reservation(BaseModel):
    """Units of one SKU an order holds, taken from one stock shard (0: the product item)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    shard: int = 0
    quantity: int


class RecordedRequest(BaseModel):
    """A customer's Idempotency-Key: the fingerprint of the command it came with
    (PlaceOrder.fingerprint) and the order that command created."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    customer_id: str
    key: str
    request_hash: str
    order_id: str


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str
    event_type: str
    occurred_at: datetime
    status: OrderStatus | None = None


class Order(BaseModel):
    model_config = ConfigDict(defer_build=True)

    order_id: str
    customer_id: str
    customer_email: str
    status: OrderStatus
    lines: list[OrderLine]
    total_cents: int
    currency: str
    shipping_address: Address
    created_at: datetime
    timeline: list[TimelineEntry] = []
    correlation_id: str | None = None  # of the order's saga: the id of the request that placed it
    cancelled_at: datetime | None = None
    # Facts learnt from the events that reached the order.
    invoice_number: str | None = None
    invoice_pdf_key: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    delivered_at: datetime | None = None
    failure_reason: str | None = None
    charge_id: str | None = None
    paid_cents: int | None = None
    decline_code: str | None = None
    refund_id: str | None = None
    refunded_cents: int | None = None
    refund_reason: str | None = None
    # What decides the status (see lifecycle): the event types and ids that reached the
    # order, and a version every write is conditioned on.
    facts: list[str] = []
    event_ids: list[str] = []
    version: int = 0
    stock_released: bool = False
    # Where the stock came from, so a release puts it back on exactly those shards. Orders
    # placed before stock was sharded have none: each line came from the product item.
    reservations: list[Reservation] = []

    def held_stock(self) -> list[Reservation]:
        """The stock this order holds (until it is released)."""
        return self.reservations or [Reservation(sku=line.sku, quantity=line.quantity) for line in self.lines]
