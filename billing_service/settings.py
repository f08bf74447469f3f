from __future__ import annotations

from events.settings import Settings


class BillingSettings(Settings):
    order_events_topic_arn: str
    payments_table: str
