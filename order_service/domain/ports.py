"""The edges the order domain needs; DynamoDB and SNS implement them in adapters/,
tests use in-memory fakes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from events.models import Event
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, RecordedRequest, Reservation, TimelineEntry


class OrderLedger(Protocol):
    """What recording an event on its order needs (the order-status consumer's store)."""

    def get_order(self, order_id: str) -> Order | None: ...

    def record(
        self,
        order: Order,
        entry: TimelineEntry,
        status: OrderStatus,
        facts: dict[str, str | int],
        release: list[Reservation] | None,
    ) -> bool:
        """Atomically, if the order is still at `order.version`: add the event (entry) to its
        facts, ids and timeline, set `status` and `facts` (what the event tells), and put
        `release`'s units back on the shards they came from (marking the order released).
        False when the order moved meanwhile."""


class OrderStore(Protocol):
    """What the REST API's use cases need: the catalogue, placing, reading and cancelling."""

    def list_products(self) -> list[Product]: ...

    def get_products(self, skus: list[str], count_stock: bool = True) -> dict[str, Product]:
        """The products of these SKUs that exist. count_stock=False leaves out the reads of
        the stock shards (prices and shard counts are all that placing an order needs):
        `stock` is then only the product item's own shard."""

    def shard_stocks(self, skus: list[str]) -> dict[str, list[int]]:
        """Every stock shard's stock of each SKU (index: shard), read strongly consistent."""

    def create_order(self, order: Order, announcement: Event[Any], request: RecordedRequest | None) -> None:
        """Atomically: store the order, take its `reservations` off the shards they name, put
        its announcement in the outbox, and record the request's Idempotency-Key. Raise
        StockShort naming the SKUs whose shard had too little, or RequestAlreadyRecorded
        when a concurrent request claimed the key first."""

    def find_request(self, customer_id: str, key: str) -> RecordedRequest | None: ...

    def get_order(self, order_id: str) -> Order | None: ...

    def cancel(
        self, order: Order, announcement: Event[Any], entry: TimelineEntry, status: OrderStatus, at: datetime
    ) -> bool:
        """Atomically, if the order is still at `order.version`: record the cancellation
        request (its fact, entry, status, when) and queue the announcement in the outbox.
        False when the order moved meanwhile."""

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        """A page of the customer's orders, newest first, and the cursor of the next page."""

    def put_product(self, product: Product) -> Product: ...

    def set_stock(
        self, sku: str, stock: int, price_cents: int | None, name: str | None, shards: int | None = None
    ) -> Product:
        """Set the available stock (and price, name, shard count) of an existing product,
        spread over its shards (stock.spread) in one write."""
