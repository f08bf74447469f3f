"""The simulated carrier's delivery report, scheduled as a delayed SQS message.

After SHIPPED, the service sends that SHIPPED event to the carrier-tracking queue with
`DelaySeconds`: SQS holds it back for the delay (0 to 900 s), then the delivery
function receives it as the carrier's "parcel delivered" report. No Lambda sleeps, and
the wait survives restarts; a duplicate message is harmless (the delivery is recorded
once per shipment, with a conditional write).

IAM: sqs:SendMessage on the carrier-tracking queue.
"""

from __future__ import annotations

from typing import Any

from events.models import Shipped
from events.publisher import message_attributes

# SQS's bounds for a message's DelaySeconds.
MAX_DELAY_SECONDS = 900


class SqsDeliveryScheduler:
    def __init__(self, queue_url: str, delay_seconds: int, client: Any = None) -> None:
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be between 0 and {MAX_DELAY_SECONDS}, got {delay_seconds}")
        self.queue_url = queue_url
        self.delay_seconds = delay_seconds
        if client is None:
            from events.aws import client as make_client

            client = make_client("sqs")
        self.client = client

    def schedule(self, shipped: Shipped) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=shipped.model_dump_json(),
            DelaySeconds=self.delay_seconds,
            # The same attributes as on the topic: event_type, event_version, order_id
            # (what the runbook filters a DLQ on).
            MessageAttributes=message_attributes(shipped),
        )
