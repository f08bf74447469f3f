"""In-memory fakes of the order domain's edges (same contract as the DynamoDB adapter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.models import Event
from order_service.domain.errors import ProductNotFound, RequestAlreadyRecorded, StockShort
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, RecordedRequest, Reservation, TimelineEntry
from order_service.domain.stock import spread


class FakeOrderStore:
    """Stock is kept per shard, as the products table keeps it: `shards[(sku, k)]`."""

    def __init__(self, products: list[Product] | None = None) -> None:
        self.products = {p.sku: p for p in products or []}
        self.shards: dict[tuple[str, int], int] = {}
        for product in self.products.values():
            self._spread(product.sku, product.stock, product.shards, product.shard_items)
        self.orders: dict[str, Order] = {}
        self.outbox: list[Event[Any]] = []
        self.requests: dict[tuple[str, str], RecordedRequest] = {}
        self.shard_reads: list[list[str]] = []

    def _spread(self, sku: str, total: int, shards: int, items: int) -> None:
        for k, units in enumerate(spread(total, shards, items)):
            self.shards[(sku, k)] = units

    def _viewed(self, product: Product) -> Product:
        return product.model_copy(update={"stock": self.stock(product.sku)})

    def list_products(self) -> list[Product]:
        return sorted((self._viewed(p) for p in self.products.values()), key=lambda p: p.sku)

    def get_products(self, skus: list[str], count_stock: bool = True) -> dict[str, Product]:
        return {sku: self._viewed(self.products[sku]) for sku in skus if sku in self.products}

    def shard_stocks(self, skus: list[str]) -> dict[str, list[int]]:
        self.shard_reads.append(list(skus))
        found = {
            sku: [self.shards.get((sku, k), 0) for k in range(self.products[sku].shard_items)]
            if sku in self.products
            else []
            for sku in skus
        }
        return found

    def stock(self, sku: str) -> int:
        return sum(units for (of, _), units in self.shards.items() if of == sku)

    def create_order(self, order: Order, announcement: Event[Any], request: RecordedRequest | None) -> None:
        if request is not None and (request.customer_id, request.key) in self.requests:
            raise RequestAlreadyRecorded(request.key)
        takes = order.held_stock()
        short = [t.sku for t in takes if self.shards.get((t.sku, t.shard), 0) < t.quantity]
        if short:
            raise StockShort(list(dict.fromkeys(short)))
        for take in takes:
            self.shards[(take.sku, take.shard)] -= take.quantity
        self.orders[order.order_id] = order.model_copy(deep=True)
        self.outbox.append(announcement)
        if request is not None:
            self.requests[(request.customer_id, request.key)] = request

    def find_request(self, customer_id: str, key: str) -> RecordedRequest | None:
        return self.requests.get((customer_id, key))

    def get_order(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def record(
        self,
        order: Order,
        entry: TimelineEntry,
        status: OrderStatus,
        facts: dict[str, str | int],
        release: list[Reservation] | None,
    ) -> bool:
        current = self.orders.get(order.order_id)
        if current is None or current.version != order.version:
            return False
        for take in release or []:
            self.shards[(take.sku, take.shard)] = self.shards.get((take.sku, take.shard), 0) + take.quantity
        self.orders[order.order_id] = current.model_copy(
            update={
                "status": status,
                "timeline": [*current.timeline, entry],
                "facts": sorted({*current.facts, entry.event_type}),
                "event_ids": sorted({*current.event_ids, entry.event_id}),
                "version": current.version + 1,
                "stock_released": current.stock_released or bool(release),
                **facts,
            }
        )
        return True

    def cancel(
        self, order: Order, announcement: Event[Any], entry: TimelineEntry, status: OrderStatus, at: datetime
    ) -> bool:
        current = self.orders[order.order_id]
        if current.version != order.version:
            return False
        self.orders[order.order_id] = current.model_copy(
            update={
                "status": status,
                "cancelled_at": at,
                "timeline": [*current.timeline, entry],
                "facts": sorted({*current.facts, entry.event_type}),
                "event_ids": sorted({*current.event_ids, entry.event_id}),
                "version": current.version + 1,
            }
        )
        self.outbox.append(announcement)
        return True

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        mine = sorted(
            (o for o in self.orders.values() if o.customer_id == customer_id), key=lambda o: o.created_at, reverse=True
        )
        start = int(cursor) if cursor else 0
        page = mine[start : start + limit]
        return page, str(start + limit) if start + limit < len(mine) else None

    def put_product(self, product: Product) -> Product:
        self.products[product.sku] = product
        self._spread(product.sku, product.stock, product.shards, product.shard_items)
        return product

    def set_stock(
        self, sku: str, stock: int, price_cents: int | None, name: str | None, shards: int | None = None
    ) -> Product:
        if sku not in self.products:
            raise ProductNotFound(sku)
        current = self.products[sku]
        count = shards or current.shards
        items = max(current.shard_items, count)
        updates = {"price_cents": price_cents, "name": name, "shards": count, "shard_items": items}
        self.products[sku] = current.model_copy(update={k: v for k, v in updates.items() if v is not None})
        self._spread(sku, stock, count, items)
        return self._viewed(self.products[sku])
