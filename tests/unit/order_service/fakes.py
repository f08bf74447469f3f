"""In-memory fakes of the order domain's edges (same contract as the DynamoDB adapter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.models import Event, OrderLine
from order_service.domain.errors import OutOfStock, ProductNotFound, RequestAlreadyRecorded
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, RecordedRequest, TimelineEntry


class FakeOrderStore:
    def __init__(self, products: list[Product] | None = None) -> None:
        self.products = {p.sku: p for p in products or []}
        self.orders: dict[str, Order] = {}
        self.outbox: list[Event[Any]] = []
        self.requests: dict[tuple[str, str], RecordedRequest] = {}

    def list_products(self) -> list[Product]:
        return sorted(self.products.values(), key=lambda p: p.sku)

    def get_products(self, skus: list[str]) -> dict[str, Product]:
        return {sku: self.products[sku] for sku in skus if sku in self.products}

    def stock(self, sku: str) -> int:
        return self.products[sku].stock

    def _add_stock(self, sku: str, delta: int) -> None:
        self.products[sku] = self.products[sku].model_copy(update={"stock": self.products[sku].stock + delta})

    def create_order(self, order: Order, announcement: Event[Any], request: RecordedRequest | None) -> None:
        if request is not None and (request.customer_id, request.key) in self.requests:
            raise RequestAlreadyRecorded(request.key)
        short = [line.sku for line in order.lines if self.products[line.sku].stock < line.quantity]
        if short:
            raise OutOfStock(short)
        for line in order.lines:
            self._add_stock(line.sku, -line.quantity)
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
        release: list[OrderLine] | None,
    ) -> bool:
        current = self.orders.get(order.order_id)
        if current is None or current.version != order.version:
            return False
        for line in release or []:
            self._add_stock(line.sku, line.quantity)
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
        return product

    def set_stock(self, sku: str, stock: int, price_cents: int | None, name: str | None) -> Product:
        if sku not in self.products:
            raise ProductNotFound(sku)
        updates = {"stock": stock, "price_cents": price_cents, "name": name}
        self.products[sku] = self.products[sku].model_copy(update={k: v for k, v in updates.items() if v is not None})
        return self.products[sku]
