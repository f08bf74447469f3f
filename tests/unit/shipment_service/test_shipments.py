from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.models import EventType, ShipmentError, Shipped
from shipment_service.domain.model import Shipment, ShipmentStatus
from shipment_service.domain.shipments import ship_order
from tests.builders import address, payment_confirmed
from tests.unit.shipment_service.fakes import (
    InMemoryShipmentStore,
    RecordingCarrier,
    RecordingPublisher,
    RecordingScheduler,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def test_a_paid_order_is_booked_stored_and_announced_as_shipped() -> None:
    event = payment_confirmed()
    carrier, store, publisher = RecordingCarrier(), InMemoryShipmentStore(), RecordingPublisher()

    result = ship_order(event, carrier, store, publisher, RecordingScheduler(), now=_clock)

    [call] = carrier.calls
    assert call.order_id == event.order_id
    assert call.idempotency_key == event.event_id
    assert call.address == event.data.order.shipping_address
    assert call.lines == event.data.order.lines

    stored = store.shipments[event.order_id]
    assert stored.status is ShipmentStatus.BOOKED
    assert stored.carrier == "SimPost"
    assert stored.tracking_number and stored.tracking_number.startswith("SP")
    assert stored.tracking_number.endswith("GB")
    assert stored.event_id == event.event_id
    assert stored.created_at == NOW
    assert stored.reason is None

    [announced] = publisher.published
    assert isinstance(announced, Shipped)
    assert announced is result.announced
    assert announced.event_type is EventType.SHIPPED
    assert announced.order_id == event.order_id
    assert announced.correlation_id == event.correlation_id
    assert announced.causation_id == event.event_id
    assert announced.data.shipment_id == stored.shipment_id
    assert announced.data.tracking_number == stored.tracking_number
    assert announced.data.carrier == "SimPost"
    assert announced.data.order == event.data.order


def test_an_undeliverable_address_is_stored_as_failed_and_announced_as_shipment_error() -> None:
    event = payment_confirmed(shipping_address=address(postal_code="00000"))
    store, publisher = InMemoryShipmentStore(), RecordingPublisher()

    result = ship_order(event, RecordingCarrier(), store, publisher, RecordingScheduler(), now=_clock)

    stored = store.shipments[event.order_id]
    assert stored.status is ShipmentStatus.FAILED
    assert stored.carrier == "SimPost"
    assert stored.tracking_number is None
    assert stored.shipment_id is None
    assert stored.reason and "00000" in stored.reason

    [announced] = publisher.published
    assert isinstance(announced, ShipmentError)
    assert announced is result.announced
    assert announced.causation_id == event.event_id
    assert announced.data.reason == stored.reason
    assert announced.data.order == event.data.order


def test_a_retry_after_the_shipment_was_stored_books_nothing_and_republishes_the_same_event() -> None:
    event = payment_confirmed()
    carrier, store = RecordingCarrier(), InMemoryShipmentStore()
    first = RecordingPublisher(fail_with=ConnectionError("SNS unreachable"))

    with pytest.raises(ConnectionError):
        ship_order(event, carrier, store, first, RecordingScheduler(), now=_clock)
    stored = store.shipments[event.order_id]

    publisher = RecordingPublisher()
    result = ship_order(event, carrier, store, publisher, RecordingScheduler(), now=_clock)

    assert len(carrier.calls) == 1
    assert store.shipments[event.order_id] == stored
    [announced] = publisher.published
    assert announced is result.announced
    assert isinstance(announced, Shipped)
    assert announced.data.tracking_number == stored.tracking_number
    # Same id as the announcement the first attempt tried to make: consumers dedupe.
    assert announced.event_id == Shipped.caused_by(event, data=announced.data).event_id


def test_a_retry_after_booking_but_before_storing_gets_the_same_booking_from_the_carrier() -> None:
    event = payment_confirmed()
    store = InMemoryShipmentStore(fail_updates_with=TimeoutError("DynamoDB timed out"))

    first_carrier = RecordingCarrier()
    with pytest.raises(TimeoutError):
        ship_order(event, first_carrier, store, RecordingPublisher(), RecordingScheduler(), now=_clock)
    assert store.shipments[event.order_id].status is ShipmentStatus.BOOKING  # the claim stays

    store.fail_updates_with = None
    publisher = RecordingPublisher()
    ship_order(event, RecordingCarrier(), store, publisher, RecordingScheduler(), now=_clock)

    [first_call] = first_carrier.calls
    assert first_call.idempotency_key == event.event_id
    expected = first_carrier._carrier.book(event.order_id, first_call.address, first_call.lines, event.event_id)
    assert store.shipments[event.order_id].status is ShipmentStatus.BOOKED
    assert store.shipments[event.order_id].tracking_number == expected.tracking_number
    assert len(publisher.published) == 1


def test_another_payment_event_for_an_order_already_shipped_books_and_publishes_nothing() -> None:
    earlier = payment_confirmed()
    later = payment_confirmed(cause=None)
    later = later.model_copy(update={"order_id": earlier.order_id})
    carrier, store, publisher = RecordingCarrier(), InMemoryShipmentStore(), RecordingPublisher()
    ship_order(earlier, carrier, store, publisher, RecordingScheduler(), now=_clock)
    stored = store.shipments[earlier.order_id]

    result = ship_order(later, carrier, store, publisher, RecordingScheduler(), now=_clock)

    assert result.announced is None
    assert result.shipment == stored
    assert len(carrier.calls) == 1
    assert len(publisher.published) == 1
    assert store.shipments[earlier.order_id] == stored


def test_when_a_concurrent_delivery_stores_first_its_shipment_stands() -> None:
    event = payment_confirmed()
    theirs = Shipment(
        order_id=event.order_id,
        status=ShipmentStatus.BOOKED,
        carrier="SimPost",
        event_id="another-event",
        created_at=NOW,
        shipment_id="shp_theirs",
        tracking_number="SP000000005GB",
    )
    store, publisher = InMemoryShipmentStore(stored_concurrently=theirs), RecordingPublisher()

    result = ship_order(event, RecordingCarrier(), store, publisher, RecordingScheduler(), now=_clock)

    assert result.shipment == theirs
    assert result.announced is None
    assert publisher.published == []
    assert store.shipments[event.order_id] == theirs


def test_a_carrier_outage_fails_the_event_leaving_only_its_claim_and_the_retry_books() -> None:
    event = payment_confirmed()
    store, publisher, scheduler = InMemoryShipmentStore(), RecordingPublisher(), RecordingScheduler()

    with pytest.raises(ConnectionError):
        ship_order(event, RecordingCarrier(fail_with=ConnectionError("carrier API down")), store, publisher, scheduler)

    claim = store.shipments[event.order_id]
    assert claim.status is ShipmentStatus.BOOKING
    assert claim.event_id == event.event_id
    assert claim.shipment_id is None
    assert publisher.published == []
    assert scheduler.scheduled == []

    # SQS redelivers the event once the carrier is back: the claim is ours, it books.
    result = ship_order(event, RecordingCarrier(), store, publisher, scheduler, now=_clock)

    assert store.shipments[event.order_id].status is ShipmentStatus.BOOKED
    assert [type(announced) for announced in publisher.published] == [Shipped]
    assert result.delivery_scheduled


def test_a_booked_shipment_needs_a_tracking_number_and_a_failed_one_a_reason() -> None:
    with pytest.raises(ValueError, match="tracking_number"):
        Shipment(
            order_id="o",
            status=ShipmentStatus.BOOKED,
            carrier="SimPost",
            event_id="e",
            created_at=NOW,
            shipment_id="shp_1",
        )
    with pytest.raises(ValueError, match="reason"):
        Shipment(order_id="o", status=ShipmentStatus.FAILED, carrier="SimPost", event_id="e", created_at=NOW)


# ---------------------------------------------------------------- delivery scheduling


def test_after_shipped_the_carriers_delivery_report_is_scheduled_with_that_event() -> None:
    event = payment_confirmed()
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()

    result = ship_order(event, RecordingCarrier(), InMemoryShipmentStore(), publisher, scheduler, now=_clock)

    [announced] = publisher.published
    assert scheduler.scheduled == [announced]
    assert result.delivery_scheduled


def test_a_shipment_error_schedules_no_delivery() -> None:
    event = payment_confirmed(shipping_address=address(postal_code="00000"))
    scheduler = RecordingScheduler()

    result = ship_order(event, RecordingCarrier(), InMemoryShipmentStore(), RecordingPublisher(), scheduler)

    assert isinstance(result.announced, ShipmentError)
    assert scheduler.scheduled == []
    assert not result.delivery_scheduled


def test_when_the_publish_fails_nothing_is_scheduled_and_the_retry_schedules_it() -> None:
    event = payment_confirmed()
    store, scheduler = InMemoryShipmentStore(), RecordingScheduler()

    with pytest.raises(ConnectionError):
        ship_order(event, RecordingCarrier(), store, RecordingPublisher(fail_with=ConnectionError("SNS")), scheduler)
    assert scheduler.scheduled == []

    publisher = RecordingPublisher()
    ship_order(event, RecordingCarrier(), store, publisher, scheduler)

    assert scheduler.scheduled == publisher.published


def test_when_scheduling_fails_the_event_fails_and_its_retry_announces_and_schedules_again() -> None:
    event = payment_confirmed()
    store, publisher = InMemoryShipmentStore(), RecordingPublisher()

    with pytest.raises(ConnectionError):
        ship_order(event, RecordingCarrier(), store, publisher, RecordingScheduler(fail_with=ConnectionError("SQS")))

    scheduler = RecordingScheduler()
    ship_order(event, RecordingCarrier(), store, publisher, scheduler)

    first, again = publisher.published
    assert again.event_id == first.event_id  # the same SHIPPED, which consumers deduplicate
    assert [scheduled.event_id for scheduled in scheduler.scheduled] == [first.event_id]


def test_a_late_retry_of_the_payment_after_delivery_announces_and_schedules_nothing() -> None:
    event = payment_confirmed()
    carrier, store, scheduler = RecordingCarrier(), InMemoryShipmentStore(), RecordingScheduler()
    ship_order(event, carrier, store, RecordingPublisher(), scheduler, now=_clock)
    store.shipments[event.order_id] = store.shipments[event.order_id].moved_to(
        ShipmentStatus.DELIVERED, delivered_at=NOW
    )
    publisher = RecordingPublisher()

    result = ship_order(event, carrier, store, publisher, scheduler, now=_clock)

    assert result.announced is None
    assert publisher.published == []
    assert len(scheduler.scheduled) == 1
    assert len(carrier.calls) == 1


def test_a_concurrent_duplicate_that_records_the_booking_first_leaves_one_booking() -> None:
    event = payment_confirmed()
    carrier, store = RecordingCarrier(), InMemoryShipmentStore()
    publisher, scheduler = RecordingPublisher(), RecordingScheduler()
    # While this delivery waits for the carrier, another delivery of the same event
    # (SNS duplicate) books with the same key and records BOOKED first.
    carrier.during_booking = lambda: ship_order(event, carrier, store, publisher, scheduler, now=_clock)

    ship_order(event, carrier, store, publisher, scheduler, now=_clock)

    assert {call.idempotency_key for call in carrier.calls} == {event.event_id}
    assert len(carrier._carrier.bookings) == 1
    first, again = publisher.published
    assert first.event_id == again.event_id
    assert first.data.tracking_number == again.data.tracking_number == store.shipments[event.order_id].tracking_number
