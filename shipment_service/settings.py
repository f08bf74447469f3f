from __future__ import annotations

from events.settings import Settings


class ShipmentSettings(Settings):
    order_events_topic_arn: str
    shipments_table: str
    # None turns idempotency off (tests of the handler without a table).
    idempotency_table: str | None = None
