"""ORDER_CANCELLED and the carrier's delayed delivery report, in-process against moto:
the shipment function (shipment queue) and the delivery function (carrier-tracking
queue) on one shipments table, one topic and one real delayed SQS queue."""

from __future__ import annotations

import json
from types import ModuleType

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from events.models import Delivered, EventType, Shipped
from shipment_service.domain.model import Shipment, ShipmentStatus
from tests.builders import address, payment_confirmed, sqs_batch, sqs_record
from tests.builders import shipped as shipped_event
from tests.integration.conftest import TopicSpy, failed_ids
from tests.integration.shipment_service.support import (
    SqsClock,
    TrackingQueue,
    create_shipments_table,
    invoke,
    load_delivery,
    load_shipment,
    shipment_items,
)
from tests.unit.shipment_service.builders import order_cancelled

DELAY = 60


@pytest.fixture
def tracking() -> TrackingQueue:
    return TrackingQueue()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SqsClock:
    return SqsClock(monkeypatch)


@pytest.fixture
def shipment(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, tracking: TrackingQueue) -> ModuleType:
    create_shipments_table()
    return load_shipment(monkeypatch, topic.topic_arn, tracking, delay_seconds=DELAY)


@pytest.fixture
def delivery(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, shipment: ModuleType) -> ModuleType:
    return load_delivery(monkeypatch, topic.topic_arn)


def report_deliveries(delivery: ModuleType, tracking: TrackingQueue, clock: SqsClock) -> int:
    """Let the delay pass, hand what the queue releases to the delivery function; how many."""
    clock.advance(DELAY + 1)
    messages = tracking.receive()
    if messages:
        assert invoke(delivery, tracking.as_batch(messages), "delivery") == {"batchItemFailures": []}
    return len(messages)


# ---------------------------------------------------------------- the normal path


def test_shipped_schedules_one_delayed_report_and_the_report_delivers_the_order(
    shipment: ModuleType, delivery: ModuleType, topic: TopicSpy, tracking: TrackingQueue, clock: SqsClock
) -> None:
    paid = payment_confirmed()

    assert invoke(shipment, sqs_batch(paid)) == {"batchItemFailures": []}

    [shipped] = topic.published()
    assert isinstance(shipped, Shipped)
    # One message, held back by SQS for the delay: nothing to receive yet.
    assert tracking.counts() == (0, 1)
    clock.advance(DELAY - 1)
    assert tracking.receive() == []

    clock.advance(2)
    messages = tracking.receive()
    assert TrackingQueue.events(messages) == [shipped]
    assert messages[0]["MessageAttributes"]["order_id"]["StringValue"] == paid.order_id

    assert invoke(delivery, tracking.as_batch(messages), "delivery") == {"batchItemFailures": []}

    [delivered] = topic.published()
    assert isinstance(delivered, Delivered)
    assert delivered.event_type is EventType.DELIVERED
    assert delivered.causation_id == shipped.event_id
    assert delivered.correlation_id == paid.correlation_id
    assert delivered.data.shipment_id == shipped.data.shipment_id
    assert delivered.data.tracking_number == shipped.data.tracking_number
    assert delivered.data.carrier == "SimPost"
    item = shipment_items()[paid.order_id]
    assert item["status"] == "DELIVERED"
    assert item["delivery_announced"] is True
    assert delivered.data.delivered_at == Shipment.model_validate(item).delivered_at


def test_the_delivery_delay_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, tracking: TrackingQueue, clock: SqsClock
) -> None:
    create_shipments_table()
    module = load_shipment(monkeypatch, topic.topic_arn, tracking, delay_seconds=5)

    invoke(module, sqs_batch(payment_confirmed()))

    clock.advance(4)
    assert tracking.counts() == (0, 1)
    clock.advance(2)
    assert tracking.counts() == (1, 0)


def test_a_refused_parcel_schedules_no_report(shipment: ModuleType, topic: TopicSpy, tracking: TrackingQueue) -> None:
    invoke(shipment, sqs_batch(payment_confirmed(shipping_address=address(postal_code="00000"))))

    assert [event.event_type for event in topic.published()] == [EventType.SHIPMENT_ERROR]
    assert tracking.counts() == (0, 0)


# ---------------------------------------------------------------- cancellations


def test_cancelled_first_then_paid_stops_the_parcel_announces_it_and_books_nothing(
    shipment: ModuleType, topic: TopicSpy, tracking: TrackingQueue
) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)

    assert invoke(shipment, sqs_batch(cancelled)) == {"batchItemFailures": []}
    assert invoke(shipment, sqs_batch(paid)) == {"batchItemFailures": []}

    item = shipment_items()[paid.order_id]
    assert item["status"] == "CANCELLED"
    assert item["cancelled_by"] == cancelled.event_id
    assert "shipment_id" not in item
    assert shipment.carrier.bookings == []
    [stopped] = topic.published()
    assert stopped.event_type is EventType.SHIPMENT_CANCELLED and stopped.causation_id == cancelled.event_id
    assert tracking.counts() == (0, 0)


def test_cancelled_and_paid_in_one_batch_in_that_order_books_nothing(
    shipment: ModuleType, topic: TopicSpy, tracking: TrackingQueue
) -> None:
    paid = payment_confirmed()

    assert invoke(shipment, sqs_batch(order_cancelled(paid), paid)) == {"batchItemFailures": []}

    assert shipment.carrier.bookings == []
    assert [event.event_type for event in topic.published()] == [EventType.SHIPMENT_CANCELLED]
    assert tracking.counts() == (0, 0)


def test_paid_then_cancelled_is_too_late_the_parcel_is_delivered_and_the_customer_told(
    shipment: ModuleType, delivery: ModuleType, topic: TopicSpy, tracking: TrackingQueue, clock: SqsClock
) -> None:
    paid = payment_confirmed()
    invoke(shipment, sqs_batch(paid))
    [shipped] = topic.published()
    cancelled = order_cancelled(paid)

    assert invoke(shipment, sqs_batch(cancelled)) == {"batchItemFailures": []}

    [rejected] = topic.published()
    assert rejected.event_type is EventType.CANCELLATION_REJECTED
    assert rejected.data.tracking_number == shipped.data.tracking_number
    assert shipment_items()[paid.order_id]["status"] == "BOOKED"

    # The delivery report scheduled at shipping comes due: the parcel arrives.
    assert report_deliveries(delivery, tracking, clock) == 1
    assert [event.event_type for event in topic.published()] == [EventType.DELIVERED]


def test_a_cancellation_during_the_booking_fails_alone_and_its_retry_is_decided(
    shipment: ModuleType, topic: TopicSpy
) -> None:
    paid = payment_confirmed()
    other = payment_confirmed()
    # A PAYMENT_CONFIRMED has claimed the order and is waiting for the carrier.
    shipment.store.add(
        Shipment(order_id=paid.order_id, status=ShipmentStatus.BOOKING, carrier="SimPost", event_id=paid.event_id,
                 created_at=paid.occurred_at)
    )  # fmt: skip
    cancelled = order_cancelled(paid)
    batch = sqs_batch(cancelled, other)

    response = invoke(shipment, batch)

    assert failed_ids(response) == [batch["Records"][0]["messageId"]]  # retryable; its neighbour shipped
    assert shipment_items()[paid.order_id]["status"] == "BOOKING"
    assert [event.order_id for event in topic.published()] == [other.order_id]

    invoke(shipment, sqs_batch(paid))  # the booking completes
    assert invoke(shipment, sqs_batch(cancelled)) == {"batchItemFailures": []}  # SQS redelivers

    assert shipment_items()[paid.order_id]["status"] == "BOOKED"
    assert [event.event_type for event in topic.published()] == [EventType.SHIPPED, EventType.CANCELLATION_REJECTED]


def test_a_duplicate_cancellation_has_no_second_effect(shipment: ModuleType, topic: TopicSpy) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)

    invoke(shipment, {"Records": [sqs_record(cancelled), sqs_record(cancelled)]})
    item = shipment_items()[paid.order_id]
    invoke(shipment, sqs_batch(cancelled))

    assert shipment_items()[paid.order_id] == item
    published = topic.published()
    assert {event.event_id for event in published} == {published[0].event_id}  # one verdict, maybe repeated


# ---------------------------------------------------------------- the delivery function


def test_a_report_arriving_twice_publishes_one_delivered(
    shipment: ModuleType, delivery: ModuleType, topic: TopicSpy, tracking: TrackingQueue, clock: SqsClock
) -> None:
    paid = payment_confirmed()
    invoke(shipment, sqs_batch(paid))
    [shipped] = topic.published()
    # A retry of the PAYMENT_CONFIRMED after a crash scheduled the report a second time.
    shipment.scheduler.schedule(shipped)
    assert tracking.counts() == (0, 2)

    clock.advance(DELAY + 1)
    messages = tracking.receive()
    assert len(messages) == 2
    # Both in one batch, then again each in a batch of its own (SQS redelivery).
    assert invoke(delivery, tracking.as_batch(messages), "delivery") == {"batchItemFailures": []}
    for message in messages:
        assert invoke(delivery, tracking.as_batch([message]), "delivery") == {"batchItemFailures": []}

    [delivered] = topic.published()
    assert isinstance(delivered, Delivered)
    assert shipment_items()[paid.order_id]["status"] == "DELIVERED"


def test_a_malformed_tracking_message_fails_alone(
    shipment: ModuleType, delivery: ModuleType, topic: TopicSpy, tracking: TrackingQueue, clock: SqsClock
) -> None:
    paid = payment_confirmed()
    invoke(shipment, sqs_batch(paid))
    [shipped] = topic.published()
    clock.advance(DELAY + 1)
    [message] = tracking.receive()
    batch = {
        "Records": [
            sqs_record("{not json"),
            sqs_record(message["Body"]),
            sqs_record(json.dumps({"event_type": "SHIPPED", "order_id": paid.order_id})),
            sqs_record(paid),  # an event type the carrier never reports
        ]
    }

    response = invoke(delivery, batch, "delivery")

    records = batch["Records"]
    assert sorted(failed_ids(response)) == sorted(records[i]["messageId"] for i in (0, 2, 3))
    [delivered] = topic.published()
    assert delivered.causation_id == shipped.event_id


def test_a_report_for_an_order_the_table_does_not_know_fails_alone(delivery: ModuleType, topic: TopicSpy) -> None:
    unknown = shipped_event()

    with pytest.raises(BatchProcessingError):  # its only record failed: the whole invocation fails
        invoke(delivery, sqs_batch(unknown), "delivery")

    assert topic.published() == []


def test_a_failed_publish_of_delivered_is_retried_with_the_same_event(
    shipment: ModuleType, delivery: ModuleType, topic: TopicSpy, tracking: TrackingQueue, clock: SqsClock
) -> None:
    paid = payment_confirmed()
    invoke(shipment, sqs_batch(paid))
    topic.published()
    clock.advance(DELAY + 1)
    messages = tracking.receive()
    real_publish = delivery.publisher.client.publish

    def sns_down(**kwargs: object) -> None:
        raise ConnectionError("SNS unreachable")

    delivery.publisher.client.publish = sns_down
    try:
        with pytest.raises(BatchProcessingError):
            invoke(delivery, tracking.as_batch(messages), "delivery")
    finally:
        delivery.publisher.client.publish = real_publish
    stored = shipment_items()[paid.order_id]
    assert stored["status"] == "DELIVERED"
    assert stored["delivery_announced"] is False

    assert invoke(delivery, tracking.as_batch(messages), "delivery") == {"batchItemFailures": []}

    [delivered] = topic.published()
    assert delivered.data.delivered_at == Shipment.model_validate(stored).delivered_at
    assert shipment_items()[paid.order_id]["delivery_announced"] is True


def test_the_delivery_function_consumes_only_the_carriers_reports(delivery: ModuleType) -> None:
    assert delivery.consumer.handled_event_types == {EventType.SHIPPED}
