"""The shipment service's two functions in-process against moto, and what they touch."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import boto3
import moto.sqs.models as moto_sqs
import pytest

from events.models import Event, parse_event
from tests.builders import lambda_context, sqs_record
from tests.integration.conftest import load_handler

SHIPMENT_MODULE = "shipment_service.handlers.handle_payments_and_cancellations"
DELIVERY_MODULE = "shipment_service.handlers.handle_carrier_update"
SHIPMENTS_TABLE = "shipments"


def create_shipments_table() -> None:
    boto3.client("dynamodb").create_table(
        TableName=SHIPMENTS_TABLE,
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def shipment_items() -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=SHIPMENTS_TABLE)["Items"]
    return {item["order_id"]["S"]: {name: next(iter(value.values())) for name, value in item.items()} for item in items}


class TrackingQueue:
    """The carrier-tracking queue: what the shipment function scheduled."""

    def __init__(self, name: str = "carrier-tracking") -> None:
        self.sqs = boto3.client("sqs")
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]

    def counts(self) -> tuple[int, int]:
        """(visible, delayed) messages."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesDelayed"])

    def receive(self) -> list[dict[str, Any]]:
        """Every message visible now, deleted from the queue (as Lambda's poller would)."""
        received: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(message)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    @staticmethod
    def as_batch(messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Received messages as the delivery function's SQS event."""
        return {"Records": [sqs_record(message["Body"], message_id=message["MessageId"]) for message in messages]}

    @staticmethod
    def events(messages: list[dict[str, Any]]) -> list[Event[Any]]:
        return [parse_event(message["Body"]) for message in messages]


class SqsClock:
    """Moves moto's SQS clock forward, so a delayed message becomes visible."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset_seconds = 0.0
        real = moto_sqs.unix_time_millis
        monkeypatch.setattr(moto_sqs, "unix_time_millis", lambda *args: real(*args) + self.offset_seconds * 1000)

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds


def load_shipment(
    monkeypatch: pytest.MonkeyPatch,
    topic_arn: str,
    tracking: TrackingQueue,
    *,
    delay_seconds: int | None = None,
) -> ModuleType:
    env = {
        "ORDER_EVENTS_TOPIC_ARN": topic_arn,
        "SHIPMENTS_TABLE": SHIPMENTS_TABLE,
        "CARRIER_TRACKING_QUEUE_URL": tracking.url,
    }
    _optional_env(monkeypatch, env, "DELIVERY_DELAY_SECONDS", None if delay_seconds is None else str(delay_seconds))
    return load_handler(SHIPMENT_MODULE, env, monkeypatch)


def load_delivery(monkeypatch: pytest.MonkeyPatch, topic_arn: str) -> ModuleType:
    env = {"ORDER_EVENTS_TOPIC_ARN": topic_arn, "SHIPMENTS_TABLE": SHIPMENTS_TABLE}
    return load_handler(DELIVERY_MODULE, env, monkeypatch)


def _optional_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], name: str, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv(name, raising=False)
    else:
        env[name] = value


def invoke(module: ModuleType, batch: dict[str, Any], name: str = "shipment-service") -> dict[str, Any]:
    return module.handler(batch, lambda_context(name))


__all__ = [
    "SHIPMENTS_TABLE",
    "SqsClock",
    "TrackingQueue",
    "create_shipments_table",
    "invoke",
    "load_delivery",
    "load_shipment",
    "shipment_items",
]
