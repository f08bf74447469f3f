"""Scheduling the carrier's delivery report: one delayed SQS message (stubbed client)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from events.models import parse_event
from shipment_service.adapters.tracking import SqsDeliveryScheduler
from shipment_service.settings import DeliverySettings, ShipmentSettings
from tests.builders import shipped

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/carrier-tracking"


class StubSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(kwargs)
        return {"MessageId": f"msg-{len(self.sent)}"}


def test_the_shipped_event_is_sent_to_the_tracking_queue_with_the_configured_delay() -> None:
    sqs = StubSqs()
    event = shipped()

    SqsDeliveryScheduler(QUEUE_URL, 45, client=sqs).schedule(event)

    [message] = sqs.sent
    assert message["QueueUrl"] == QUEUE_URL
    assert message["DelaySeconds"] == 45
    assert parse_event(message["MessageBody"]) == event
    attributes = message["MessageAttributes"]
    assert attributes["event_type"] == {"DataType": "String", "StringValue": "SHIPPED"}
    assert attributes["order_id"] == {"DataType": "String", "StringValue": event.order_id}


@pytest.mark.parametrize("delay", [0, 900])
def test_the_delay_may_be_anything_sqs_allows(delay: int) -> None:
    sqs = StubSqs()
    SqsDeliveryScheduler(QUEUE_URL, delay, client=sqs).schedule(shipped())
    assert sqs.sent[0]["DelaySeconds"] == delay


@pytest.mark.parametrize("delay", [-1, 901])
def test_a_delay_sqs_refuses_is_refused_at_construction(delay: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 900"):
        SqsDeliveryScheduler(QUEUE_URL, delay, client=StubSqs())


def _shipment_env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    monkeypatch.setenv("ORDER_EVENTS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:order-events")
    monkeypatch.setenv("SHIPMENTS_TABLE", "shipments")
    monkeypatch.setenv("CARRIER_TRACKING_QUEUE_URL", QUEUE_URL)
    monkeypatch.delenv("DELIVERY_DELAY_SECONDS", raising=False)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def test_the_delivery_delay_defaults_to_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    _shipment_env(monkeypatch)

    settings = ShipmentSettings.from_env()

    assert settings.delivery_delay_seconds == 60
    assert settings.carrier_tracking_queue_url == QUEUE_URL


def test_the_delivery_delay_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _shipment_env(monkeypatch, DELIVERY_DELAY_SECONDS="5")
    assert ShipmentSettings.from_env().delivery_delay_seconds == 5


@pytest.mark.parametrize("value", ["901", "-1", "soon"])
def test_a_bad_delivery_delay_fails_at_cold_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    _shipment_env(monkeypatch, DELIVERY_DELAY_SECONDS=value)
    with pytest.raises(ValidationError):
        ShipmentSettings.from_env()


def test_the_tracking_queue_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    _shipment_env(monkeypatch)
    monkeypatch.delenv("CARRIER_TRACKING_QUEUE_URL")
    with pytest.raises(ValidationError, match="carrier_tracking_queue_url"):
        ShipmentSettings.from_env()


def test_the_delivery_function_needs_the_topic_and_the_shipments_table(monkeypatch: pytest.MonkeyPatch) -> None:
    _shipment_env(monkeypatch)

    settings = DeliverySettings.from_env()

    assert settings.shipments_table == "shipments"
    monkeypatch.delenv("SHIPMENTS_TABLE")
    with pytest.raises(ValidationError, match="shipments_table"):
        DeliverySettings.from_env()
