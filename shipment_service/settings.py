from __future__ import annotations

from pydantic import Field

from events.settings import Settings


class ShipmentSettings(Settings):
    """ShipmentFunction (PAYMENT_CONFIRMED, ORDER_CANCELLED)."""

    order_events_topic_arn: str
    shipments_table: str
    # Where the carrier's delivery report is scheduled, and after how long (SQS
    # DelaySeconds: 0 to 900).
    carrier_tracking_queue_url: str
    delivery_delay_seconds: int = Field(default=60, ge=0, le=900)


class DeliverySettings(Settings):
    """DeliveryFunction (the carrier's delivery reports on the carrier-tracking queue)."""

    order_events_topic_arn: str
    shipments_table: str
