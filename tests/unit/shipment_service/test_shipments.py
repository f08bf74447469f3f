from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.models import EventType, ShipmentError, Shipped
from shipment_service.domain.model import Shipment, ShipmentStatus
from shipment_service.domain.shipments import ship_order
from tests.builders import address, payment_confirmed
from tests.unit.shipment_service.fakes import InMemoryShipmentStore, RecordingCarrier, RecordingPublisher

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def test_a_paid_order_is_booked_stored_and_announced_as_shipped() -> None:
    event = payment_confirmed()
    carrier, store, publisher = RecordingCarrier(), InMemoryShipmentStore(), RecordingPublisher()

    result = ship_order(event, carrier, store, publisher, now=_clock)

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

    result = ship_order(event, RecordingCarrier(), store, publisher, now=_clock)

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
        ship_order(event, carrier, store, first, now=_clock)
    stored = store.shipments[event.order_id]

    publisher = RecordingPublisher()
    result = ship_order(event, carrier, store, publisher, now=_clock)

    assert len(carrier.calls) == 1
    assert store.shipments[event.order_id] == stored
    [announced] = publisher.published
    assert announced is result.announced
    assert announced.data.tracking_number == stored.tracking_number
    # Same id as the announcement the first attempt tried to make: consumers dedupe.
    assert announced.event_id == Shipped.caused_by(event, data=announced.data).event_id


def test_a_retry_after_booking_but_before_storing_gets_the_same_booking_from_the_carrier() -> None:
    event = payment_confirmed()

    class LostWriteStore(InMemoryShipmentStore):
        def add(self, shipment: Shipment) -> bool:
            raise TimeoutError("DynamoDB timed out")

    first_carrier = RecordingCarrier()
    with pytest.raises(TimeoutError):
        ship_order(event, first_carrier, LostWriteStore(), RecordingPublisher(), now=_clock)

    store, publisher = InMemoryShipmentStore(), RecordingPublisher()
    ship_order(event, RecordingCarrier(), store, publisher, now=_clock)

    [first_call] = first_carrier.calls
    assert first_call.idempotency_key == event.event_id
    expected = first_carrier._carrier.book(event.order_id, first_call.address, first_call.lines, event.event_id)
    assert store.shipments[event.order_id].tracking_number == expected.tracking_number
    assert len(publisher.published) == 1


def test_another_payment_event_for_an_order_already_shipped_books_and_publishes_nothing() -> None:
    earlier = payment_confirmed()
    later = payment_confirmed(cause=None)
    later = later.model_copy(update={"order_id": earlier.order_id})
    carrier, store, publisher = RecordingCarrier(), InMemoryShipmentStore(), RecordingPublisher()
    ship_order(earlier, carrier, store, publisher, now=_clock)
    stored = store.shipments[earlier.order_id]

    result = ship_order(later, carrier, store, publisher, now=_clock)

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

    result = ship_order(event, RecordingCarrier(), store, publisher, now=_clock)

    assert result.shipment == theirs
    assert result.announced is None
    assert publisher.published == []
    assert store.shipments[event.order_id] == theirs


def test_a_carrier_outage_fails_the_event_without_storing_or_publishing() -> None:
    event = payment_confirmed()
    store, publisher = InMemoryShipmentStore(), RecordingPublisher()

    with pytest.raises(ConnectionError):
        ship_order(event, RecordingCarrier(fail_with=ConnectionError("carrier API down")), store, publisher)

    assert store.shipments == {}
    assert publisher.published == []


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
