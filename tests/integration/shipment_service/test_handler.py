"""shipment_service's PAYMENT_CONFIRMED handler in-process against moto (ORDER_CANCELLED and
the delivery report: test_cancel_and_delivery.py)."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from types import ModuleType

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from events.models import EventType, OrderCancelled, PaymentConfirmed, ShipmentError, Shipped
from events.observability import logger
from events.retries import DependencyUnavailable
from fault_injection.injector import FaultInjector, FaultKind
from shipment_service.adapters.carrier import SimulatedCarrier
from shipment_service.adapters.faulty_carrier import FaultyCarrier
from tests.builders import address, order_created, payment_confirmed, sqs_batch, sqs_record
from tests.integration.conftest import TopicSpy, failed_ids, fault_lines
from tests.integration.shipment_service.support import (
    TrackingQueue,
    create_shipments_table,
    invoke,
    load_shipment,
    shipment_items,
)
from tests.unit.events.fakes import redeliver_until_settled


@pytest.fixture
def tracking() -> TrackingQueue:
    return TrackingQueue()


def load(monkeypatch: pytest.MonkeyPatch, topic_arn: str, tracking: TrackingQueue) -> ModuleType:
    return load_shipment(monkeypatch, topic_arn, tracking)


@pytest.fixture
def shipment(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, tracking: TrackingQueue) -> ModuleType:
    create_shipments_table()
    return load(monkeypatch, topic.topic_arn, tracking)


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


def test_a_redelivery_books_nothing_and_repeats_the_same_event(
    shipment: ModuleType, topic: TopicSpy, tracking: TrackingQueue
) -> None:
    event = payment_confirmed()
    invoke(shipment, sqs_batch(event))
    first_item = shipment_items()[event.order_id]

    # SNS delivered the same event again, alone and then twice in one batch: the same
    # event_id under other SQS message ids.
    assert failed_ids(invoke(shipment, sqs_batch(event))) == []
    assert failed_ids(invoke(shipment, {"Records": [sqs_record(event), sqs_record(event)]})) == []

    # The store keeps the first booking; every repeat announces it again with the same
    # event_id, which every consumer deduplicates.
    assert shipment_items() == {event.order_id: first_item}
    first, *again = topic.published()
    assert len(again) == 3
    assert {(e.event_id, e.data.tracking_number) for e in again} == {(first.event_id, first.data.tracking_number)}
    # A delivery report scheduled per SHIPPED announced, all for the same parcel: the
    # delivery function applies one (tests/integration/shipment_service/test_cancel_and_delivery.py).
    assert tracking.counts() == (0, 4)


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
    monkeypatch: pytest.MonkeyPatch, tracking: TrackingQueue
) -> None:
    create_shipments_table()
    # The topic does not exist yet: SNS refuses the publish.
    topic_arn = "arn:aws:sns:us-east-1:123456789012:order-events"
    module = load(monkeypatch, topic_arn, tracking)
    event = payment_confirmed()

    # Its only record failed: Powertools fails the whole invocation, SQS retries it.
    with pytest.raises(BatchProcessingError):
        invoke(module, sqs_batch(event))

    stored = shipment_items()[event.order_id]
    assert stored["status"] == "BOOKED"
    assert tracking.counts() == (0, 0)  # no delivery report for a parcel never announced

    topic = TopicSpy()
    assert topic.topic_arn == topic_arn
    retry = invoke(module, sqs_batch(event))

    assert failed_ids(retry) == []
    assert shipment_items() == {event.order_id: stored}
    [published] = topic.published()
    assert isinstance(published, Shipped)
    assert published.data.tracking_number == stored["tracking_number"]
    assert tracking.counts() == (0, 1)


def test_logs_name_the_order_but_not_the_customer(shipment: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = io.StringIO()
    monkeypatch.setattr(shipment.logger.registered_handler, "stream", logs)
    event = payment_confirmed(customer_email="grace@example.com", shipping_address=address(line1="1 Secret Lane"))

    invoke(shipment, sqs_batch(event))

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    recorded = [line for line in lines if line.get("message") == "shipment recorded"]
    assert recorded and (recorded[0]["order_id"], recorded[0]["correlation_id"]) == (
        event.order_id,
        event.correlation_id,
    )
    assert recorded[0]["tracking_number"].startswith("SP")
    assert "grace@example.com" not in logs.getvalue()
    assert "1 Secret Lane" not in logs.getvalue()


def test_the_handler_consumes_payment_confirmed_and_order_cancelled(shipment: ModuleType) -> None:
    assert shipment.consumer.handled_event_types == {PaymentConfirmed.TYPE, OrderCancelled.TYPE}


# ---------------------------------------------------------------- under the fault switch


def capture_logs(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    logs = io.StringIO()
    monkeypatch.setattr(module.logger.registered_handler, "stream", logs)
    return logs


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_with_every_booking_faulty_the_records_fail_and_the_retry_after_recovery_books_once(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, tracking: TrackingQueue
) -> None:
    create_shipments_table()
    monkeypatch.setenv("FAULT_RATE", "1")
    monkeypatch.delenv("FAULT_KINDS", raising=False)
    module = load(monkeypatch, topic.topic_arn, tracking)
    logs = capture_logs(module, monkeypatch)
    events = [payment_confirmed(customer_email="grace@example.com"), payment_confirmed()]
    batch = sqs_batch(*events)

    # Both records failed: Powertools fails the whole invocation, SQS retries both.
    with pytest.raises(BatchProcessingError):
        invoke(module, batch)

    # Only the claims are stored: BOOKING, with no parcel, until a retry books.
    claims = shipment_items()
    assert {order_id: item["status"] for order_id, item in claims.items()} == {e.order_id: "BOOKING" for e in events}
    assert not any("tracking_number" in item for item in claims.values())
    assert topic.published() == []
    faults = fault_lines(logs)
    assert len(faults) == module.carrier.faults.injected == 6  # 2 records x (1 attempt + 2 retries)
    assert {line["operation"] for line in faults} == {"carrier.book"}
    assert "grace@example.com" not in logs.getvalue()
    assert events[0].data.order.shipping_address.line1 not in logs.getvalue()
    hidden = {booking.tracking_number for booking in module.carrier.bookings}  # timeouts may hide bookings

    module.carrier.faults = FaultInjector(0.0)  # the carrier recovers
    assert invoke(module, batch) == {"batchItemFailures": []}

    items = shipment_items()
    assert set(items) == {event.order_id for event in events}
    tracking_numbers = {item["tracking_number"] for item in items.values()}
    assert {booking.tracking_number for booking in module.carrier.bookings} == tracking_numbers
    assert hidden <= tracking_numbers
    published = topic.published()
    assert sorted(str(event.causation_id) for event in published) == sorted(event.event_id for event in events)
    assert all(isinstance(event, Shipped) for event in published)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_booking_hidden_by_a_timeout_is_the_one_recorded_and_announced(
    shipment: ModuleType, topic: TopicSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        shipment,
        "carrier",
        FaultyCarrier(shipment.carrier, FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0, log=logger)),
    )
    event = payment_confirmed()

    with pytest.raises(BatchProcessingError):
        invoke(shipment, sqs_batch(event))
    [hidden] = shipment.carrier.bookings  # the carrier booked; the service never heard
    assert shipment_items()[event.order_id]["status"] == "BOOKING"
    assert topic.published() == []

    shipment.carrier.faults = FaultInjector(0.0)
    assert invoke(shipment, sqs_batch(event)) == {"batchItemFailures": []}

    assert shipment.carrier.bookings == [hidden]
    assert shipment_items()[event.order_id]["tracking_number"] == hidden.tracking_number
    [published] = topic.published()
    assert isinstance(published, Shipped)
    assert published.data.tracking_number == hidden.tracking_number


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_under_a_moderate_fault_rate_sqs_redelivery_ships_every_order_exactly_once(
    shipment: ModuleType, topic: TopicSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = capture_logs(shipment, monkeypatch)
    monkeypatch.setattr(
        shipment,
        "carrier",
        FaultyCarrier(shipment.carrier, FaultInjector(0.5, rng=random.Random(20261121), log=logger)),
    )
    events = [payment_confirmed() for _ in range(12)]
    events += [payment_confirmed(shipping_address=address(postal_code="00000")) for _ in range(4)]

    failed_per_receive = redeliver_until_settled(lambda batch: invoke(shipment, batch), events)

    # Some records failed even after the in-process retries, never all of them at once,
    # and SQS redelivery finished the job before any reached the DLQ.
    assert len(failed_per_receive) > 1
    assert 0 < failed_per_receive[0] < len(events)
    phases = Counter(line["fault_phase"] for line in fault_lines(logs))
    assert phases["after_effect"] > 0  # some bookings were hidden by timeouts
    assert sum(phases.values()) == shipment.carrier.faults.injected

    items = shipment_items()
    assert set(items) == {event.order_id for event in events}
    booked = [item["tracking_number"] for item in items.values() if item["status"] == "BOOKED"]
    assert len(booked) == 12
    assert sorted(booking.tracking_number for booking in shipment.carrier.bookings) == sorted(booked)
    published = topic.published()
    assert Counter(event.causation_id for event in published) == Counter(event.event_id for event in events)
    assert Counter(type(event).__name__ for event in published) == {"Shipped": 12, "ShipmentError": 4}


# ---------------------------------------------------------------- the fault switch's wiring


def test_faults_are_off_when_the_environment_does_not_set_them(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, tracking: TrackingQueue
) -> None:
    monkeypatch.delenv("FAULT_RATE", raising=False)
    module = load(monkeypatch, topic.topic_arn, tracking)
    carrier = module.carrier
    assert isinstance(carrier, SimulatedCarrier)  # no faulty decorator
    assert carrier.book("order-1", address(), order_created().data.order.lines, "evt-1") == carrier.bookings[0]


def test_the_switch_is_read_from_the_environment_and_faults_are_retried(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, tracking: TrackingQueue
) -> None:
    monkeypatch.setenv("FAULT_RATE", "1")
    monkeypatch.setenv("FAULT_KINDS", "unavailable")
    carrier = load(monkeypatch, topic.topic_arn, tracking).carrier

    with pytest.raises(DependencyUnavailable):
        carrier.book("order-1", address(), order_created().data.order.lines, idempotency_key="evt-1")

    assert carrier.faults.injected == 3  # the first attempt and two retries
    assert carrier.bookings == []  # a 5xx books nothing


def test_a_bad_fault_setting_fails_the_cold_start(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, tracking: TrackingQueue
) -> None:
    monkeypatch.setenv("FAULT_KINDS", "earthquake")
    with pytest.raises(ValueError, match="FAULT_KINDS"):
        load(monkeypatch, topic.topic_arn, tracking)
