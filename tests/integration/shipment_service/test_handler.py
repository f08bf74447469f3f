"""shipment_service's PAYMENT_CONFIRMED handler in-process against moto."""

from __future__ import annotations

import io
import json
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from events.models import EventType, PaymentConfirmed, ShipmentError, Shipped
from tests.builders import address, lambda_context, order_created, payment_confirmed, sqs_batch, sqs_record
from tests.integration.conftest import TopicSpy, create_idempotency_table, failed_ids, load_handler

MODULE = "shipment_service.handlers.handle_payment_confirmed"
SHIPMENTS_TABLE = "shipments"


def create_shipments_table() -> None:
    boto3.client("dynamodb").create_table(
        TableName=SHIPMENTS_TABLE,
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def shipment_items() -> dict[str, dict[str, str]]:
    items = boto3.client("dynamodb").scan(TableName=SHIPMENTS_TABLE)["Items"]
    return {item["order_id"]["S"]: {name: value["S"] for name, value in item.items()} for item in items}


def load(monkeypatch: pytest.MonkeyPatch, topic_arn: str, idempotency: bool = True) -> ModuleType:
    env = {"ORDER_EVENTS_TOPIC_ARN": topic_arn, "SHIPMENTS_TABLE": SHIPMENTS_TABLE}
    if idempotency:
        env["IDEMPOTENCY_TABLE"] = create_idempotency_table()
    else:
        monkeypatch.delenv("IDEMPOTENCY_TABLE", raising=False)
    return load_handler(MODULE, env, monkeypatch)


@pytest.fixture
def shipment(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> ModuleType:
    create_shipments_table()
    return load(monkeypatch, topic.topic_arn)


def invoke(module: ModuleType, batch: dict[str, Any]) -> dict[str, Any]:
    return module.handler(batch, lambda_context("shipment-service"))


def test_a_paid_order_is_booked_stored_and_announced(shipment: ModuleType, topic: TopicSpy) -> None:
    event = payment_confirmed()

    response = invoke(shipment, sqs_batch(event))

    assert response == {"batchItemFailures": []}
    item = shipment_items()[event.order_id]
    assert item["status"] == "BOOKED"
    assert item["carrier"] == "SimPost"
    assert item["event_id"] == event.event_id
    assert item["shipment_id"].startswith("shp_")
    assert item["tracking_number"].startswith("SP") and item["tracking_number"].endswith("GB")
    assert "reason" not in item
    assert item["created_at"]

    [published] = topic.published()
    assert isinstance(published, Shipped)
    assert published.order_id == event.order_id
    assert published.causation_id == event.event_id
    assert published.correlation_id == event.correlation_id
    assert published.data.tracking_number == item["tracking_number"]
    assert published.data.shipment_id == item["shipment_id"]
    assert published.data.order == event.data.order


def test_an_undeliverable_address_is_stored_as_failed_and_announced(shipment: ModuleType, topic: TopicSpy) -> None:
    event = payment_confirmed(shipping_address=address(postal_code="00000"))

    response = invoke(shipment, sqs_batch(event))

    assert failed_ids(response) == []
    item = shipment_items()[event.order_id]
    assert item["status"] == "FAILED"
    assert "00000" in item["reason"]
    assert "tracking_number" not in item
    [published] = topic.published()
    assert isinstance(published, ShipmentError)
    assert published.event_type is EventType.SHIPMENT_ERROR
    assert published.data.reason == item["reason"]


def test_a_duplicate_delivery_books_and_publishes_nothing_more(shipment: ModuleType, topic: TopicSpy) -> None:
    event = payment_confirmed()
    invoke(shipment, sqs_batch(event))
    first_item = shipment_items()[event.order_id]
    assert len(topic.published()) == 1

    # SNS delivered the same event again: same event_id, another SQS message id.
    duplicate = {"Records": [sqs_record(event), sqs_record(event)]}
    response = invoke(shipment, duplicate)

    assert failed_ids(response) == []
    assert shipment_items() == {event.order_id: first_item}
    assert topic.published() == []


def test_without_idempotency_a_redelivery_books_nothing_and_repeats_the_same_event(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy
) -> None:
    create_shipments_table()
    module = load(monkeypatch, topic.topic_arn, idempotency=False)
    event = payment_confirmed()

    invoke(module, sqs_batch(event))
    invoke(module, sqs_batch(event))

    [first, again] = topic.published()
    # The store keeps the first booking; the repeat has the same event_id, which
    # every consumer deduplicates.
    assert again.event_id == first.event_id
    assert again.data.tracking_number == first.data.tracking_number
    assert len(shipment_items()) == 1


def test_a_malformed_record_fails_alone(shipment: ModuleType, topic: TopicSpy) -> None:
    good = payment_confirmed()
    batch = sqs_batch("{not json", good, json.dumps({"event_type": "PAYMENT_CONFIRMED", "order_id": "x"}))
    bad_ids = [batch["Records"][0]["messageId"], batch["Records"][2]["messageId"]]

    response = invoke(shipment, batch)

    assert sorted(failed_ids(response)) == sorted(bad_ids)
    assert set(shipment_items()) == {good.order_id}
    assert [event.order_id for event in topic.published()] == [good.order_id]


def test_an_event_type_this_queue_should_not_carry_fails_alone(shipment: ModuleType, topic: TopicSpy) -> None:
    good = payment_confirmed()
    stray = order_created()
    batch = sqs_batch(stray, good)

    response = invoke(shipment, batch)

    assert failed_ids(response) == [batch["Records"][0]["messageId"]]
    assert set(shipment_items()) == {good.order_id}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_publish_failure_fails_the_record_and_the_retry_announces_the_stored_booking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_shipments_table()
    # The topic does not exist yet: SNS refuses the publish.
    topic_arn = "arn:aws:sns:us-east-1:123456789012:order-events"
    module = load(monkeypatch, topic_arn)
    event = payment_confirmed()

    # Its only record failed: Powertools fails the whole invocation, SQS retries it.
    with pytest.raises(BatchProcessingError):
        invoke(module, sqs_batch(event))

    stored = shipment_items()[event.order_id]
    assert stored["status"] == "BOOKED"

    topic = TopicSpy()
    assert topic.topic_arn == topic_arn
    retry = invoke(module, sqs_batch(event))

    assert failed_ids(retry) == []
    assert shipment_items() == {event.order_id: stored}
    [published] = topic.published()
    assert isinstance(published, Shipped)
    assert published.data.tracking_number == stored["tracking_number"]


def test_logs_name_the_order_but_not_the_customer(shipment: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = io.StringIO()
    monkeypatch.setattr(shipment.logger.registered_handler, "stream", logs)
    event = payment_confirmed(customer_email="grace@example.com", shipping_address=address(line1="1 Secret Lane"))

    invoke(shipment, sqs_batch(event))

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    recorded = [line for line in lines if line.get("message") == "shipment recorded"]
    assert recorded and recorded[0]["correlation_id"] == event.order_id
    assert recorded[0]["tracking_number"].startswith("SP")
    assert "grace@example.com" not in logs.getvalue()
    assert "1 Secret Lane" not in logs.getvalue()


def test_the_handler_only_consumes_payment_confirmed(shipment: ModuleType) -> None:
    assert shipment.consumer.handled_event_types == {PaymentConfirmed.TYPE}
