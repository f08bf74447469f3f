"""The edges the order domain needs; DynamoDB and SNS implement them in adapters/,
tests use in-memory fakes."""

from __future__ import annotations

from typing import Any, Protocol

from events.models import Event, OrderLine
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, RecordedRequest, TimelineEntry


class OrderStore(Protocol):
    def list_products(self) -> list[Product]: ...

    def get_products(self, skus: list[str]) -> dict[str, Product]: ...

    def create_order(self, order: Order, announcement: Event[Any], request: RecordedRequest | None) -> None:
        """Atomically: store the order, reserve its stock, put its announcement in the
        outbox, and record the request's Idempotency-Key. Raise OutOfStock, or
        RequestAlreadyRecorded when a concurrent request claimed the key first."""

    def find_request(self, customer_id: str, key: str) -> RecordedRequest | None: ...

    def get_order(self, order_id: str) -> Order | None: ...

    def transition(
        self,
        order_id: str,
        entry: TimelineEntry,
        to: OrderStatus,
        allowed_from: frozenset[OrderStatus],
        release: list[OrderLine] | None,
        facts: dict[str, str],
    ) -> bool:
        """Move the status, set `facts` on the order (and release stock) if the order
        is in `allowed_from` and has not seen entry.event_id; False otherwise."""

    def append_timeline(self, order_id: str, entry: TimelineEntry) -> bool:
        """Record the event without a status change; False if already recorded.
        Raise OrderNotFound for an unknown order."""


class Publisher(Protocol):
    def publish(self, event: Event[Any]) -> str: ...
