from __future__ import annotations

from events.settings import Settings


class OrderSettings(Settings):
    orders_table: str
    products_table: str
    order_events_topic_arn: str
    idempotency_table: str | None = None
