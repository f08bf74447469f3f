"""The order store the REST API works with: one store per table (orders, products,
outbox, Idempotency-Keys), and the writes that must span them.

Placing an order stores it, reserves its stock, queues its ORDER_CREATED in the outbox
and records its Idempotency-Key; cancelling one records the request and queues its
ORDER_CANCELLED. Each of these is one DynamoDB transaction over several tables, because
anything less could be cut in half by a crash or a throttle: stock reserved for no order,
an order never announced (so never charged or shipped), or a key that names no order.
The table stores give the transaction items; this class only puts them together, so it
holds a store for each of the four tables, all required.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from events.models import Event
from order_service.adapters.dynamodb import cancellation_codes, retrying, transact_if, transient_as_busy
from order_service.adapters.idempotency_keys import DynamoDBIdempotencyKeys
from order_service.adapters.orders import DynamoDBOrders
from order_service.adapters.outbox import DynamoDBOutbox
from order_service.adapters.products import DynamoDBProducts
from order_service.domain.errors import RequestAlreadyRecorded, StockShort
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, RecordedRequest, TimelineEntry

KEY_ITEM = 2  # where create_order puts the Idempotency-Key's claim in its transaction


class TransactionalOrderStore:
    def __init__(
        self,
        orders: DynamoDBOrders,
        products: DynamoDBProducts,
        outbox: DynamoDBOutbox,
        keys: DynamoDBIdempotencyKeys,
    ) -> None:
        self.orders = orders
        self.products = products
        self.outbox = outbox
        self.keys = keys
        self.client = orders.client  # one transaction: one client for every table

    # writes that span tables -------------------------------------------------
    def create_order(self, order: Order, announcement: Event[Any], request: RecordedRequest | None) -> None:
        items: list[dict[str, Any]] = [self.orders.put_new(order), self.outbox.queue(announcement)]
        if request is not None:
            items.append(self.keys.claim(request))  # at KEY_ITEM
        first_take = len(items)
        items += [self.products.reserve(take.sku, take.shard, take.quantity) for take in order.held_stock()]
        retrying(lambda: self._create(items, order, request, first_take))

    def _create(
        self, items: list[dict[str, Any]], order: Order, request: RecordedRequest | None, first_take: int
    ) -> None:
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            transient_as_busy(error)
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            codes = cancellation_codes(error)
            if request is not None and len(codes) > KEY_ITEM and codes[KEY_ITEM] == "ConditionalCheckFailed":
                raise RequestAlreadyRecorded(request.key) from error
            take_codes = zip(order.held_stock(), codes[first_take:], strict=False)
            short = [take.sku for take, code in take_codes if code == "ConditionalCheckFailed"]
            if not short and codes:  # no per-item reasons: name every line
                raise
            raise StockShort(list(dict.fromkeys(short)) or [line.sku for line in order.lines]) from error

    def cancel(
        self, order: Order, announcement: Event[Any], entry: TimelineEntry, status: OrderStatus, at: datetime
    ) -> bool:
        update = self.orders.versioned_update(
            order,
            "SET #status = :status, cancelled_at = :at",
            entry,
            {"#status": "status"},
            {":status": {"S": status.value}, ":at": {"S": at.isoformat()}},
        )
        return transact_if(self.client, [{"Update": update}, self.outbox.queue(announcement)])

    # one table each ------------------------------------------------------------
    def find_request(self, customer_id: str, key: str) -> RecordedRequest | None:
        return self.keys.find(customer_id, key)

    def get_order(self, order_id: str) -> Order | None:
        return self.orders.get_order(order_id)

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        return self.orders.list_customer_orders(customer_id, limit, cursor)

    def list_products(self) -> list[Product]:
        return self.products.list_products()

    def get_products(self, skus: list[str], count_stock: bool = True) -> dict[str, Product]:
        return self.products.get_products(skus, count_stock=count_stock)

    def shard_stocks(self, skus: list[str]) -> dict[str, list[int]]:
        return self.products.shard_stocks(skus)

    def put_product(self, product: Product) -> Product:
        return self.products.put_product(product)

    def set_stock(
        self, sku: str, stock: int, price_cents: int | None, name: str | None, shards: int | None = None
    ) -> Product:
        return self.products.set_stock(sku, stock, price_cents=price_cents, name=name, shards=shards)
