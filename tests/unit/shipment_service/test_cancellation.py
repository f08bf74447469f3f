"""ORDER_CANCELLED against the shipment: before, during and after the booking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.models import OrderCancelled, PaymentConfirmed, Shipped
from shipment_service.domain.cancellation import CancelOutcome, CancelResult, cancel_shipment
from shipment_service.domain.delivery import DeliveryResult, report_delivery
from shipment_service.domain.errors import BookingInProgress
from shipment_service.domain.model import Shipment, ShipmentStatus
from shipment_service.domain.shipments import ShipmentResult, ship_order
from tests.builders import address, payment_confirmed
from tests.unit.shipment_service.builders import order_cancelled
from tests.unit.shipment_service.fakes import (
    InMemoryShipmentStore,
    RecordingCarrier,
    RecordingPublisher,
    RecordingScheduler,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = datetime(2026, 1, 2, 3, 9, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


class Service:
    """The shipment service's edges, shared by the events of one test."""

    def __init__(self) -> None:
        self.carrier = RecordingCarrier()
        self.store = InMemoryShipmentStore()
        self.publisher = RecordingPublisher()
        self.scheduler = RecordingScheduler()

    def pay(self, event: PaymentConfirmed) -> ShipmentResult:
        return ship_order(event, self.carrier, self.store, self.publisher, self.scheduler, now=_clock)

    def cancel(self, event: OrderCancelled) -> CancelResult:
        return cancel_shipment(event, self.carrier, self.store, now=_clock)

    def deliver(self, shipped: Shipped) -> DeliveryResult:
        return report_delivery(shipped, self.store, self.publisher, now=lambda: LATER)


@pytest.fixture
def service() -> Service:
    return Service()


def test_a_cancellation_first_is_recorded_and_the_later_payment_books_nothing(service: Service) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)

    cancel = service.cancel(cancelled)

    assert cancel.outcome is CancelOutcome.BEFORE_BOOKING
    stored = service.store.shipments[paid.order_id]
    assert stored.status is ShipmentStatus.CANCELLED
    assert stored.cancelled_by == cancelled.event_id
    assert stored.cancelled_at == NOW
    assert stored.event_id is None and stored.shipment_id is None

    result = service.pay(paid)

    assert result.cancelled
    assert result.announced is None
    assert service.carrier.calls == []
    assert service.publisher.published == []
    assert service.scheduler.scheduled == []
    assert service.store.shipments[paid.order_id] == stored


def test_a_payment_racing_a_first_cancellation_loses_the_claim_and_books_nothing(service: Service) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)
    record = Shipment(
        order_id=paid.order_id, status=ShipmentStatus.CANCELLED, created_at=NOW,
        cancelled_by=cancelled.event_id, cancelled_at=NOW,
    )  # fmt: skip
    # The cancellation is stored between the payment's read (nothing) and its claim.
    service.store.stored_concurrently = record

    result = service.pay(paid)

    assert result.cancelled
    assert service.carrier.calls == []
    assert service.publisher.published == []
    assert service.scheduler.scheduled == []


def test_a_cancellation_after_the_booking_cancels_the_parcel_and_no_delivery_is_ever_reported(
    service: Service,
) -> None:
    paid = payment_confirmed()
    service.pay(paid)
    [shipped] = service.publisher.published
    [scheduled] = service.scheduler.scheduled
    booked = service.store.shipments[paid.order_id]
    cancelled = order_cancelled(paid)

    result = service.cancel(cancelled)

    assert result.outcome is CancelOutcome.BOOKING_CANCELLED
    [call] = service.carrier.cancel_calls
    assert call.shipment_id == booked.shipment_id
    assert call.idempotency_key == cancelled.event_id
    assert service.carrier.cancelled_shipment_ids == {booked.shipment_id}
    assert result.carrier_cancellation is not None
    assert result.carrier_cancellation.shipment_id == booked.shipment_id
    stored = service.store.shipments[paid.order_id]
    assert stored.status is ShipmentStatus.CANCELLED
    assert stored.shipment_id == booked.shipment_id  # kept: which parcel was cancelled
    assert stored.cancelled_by == cancelled.event_id
    assert service.publisher.published == [shipped]  # the cancellation publishes nothing

    # The carrier's delivery report, scheduled at shipping, arrives later.
    delivery = service.deliver(scheduled)

    assert delivery.announced is None
    assert service.publisher.published == [shipped]
    assert service.store.shipments[paid.order_id] == stored


def test_a_late_retry_of_the_payment_after_the_cancellation_announces_nothing(service: Service) -> None:
    paid = payment_confirmed()
    service.pay(paid)
    service.cancel(order_cancelled(paid))
    service.publisher.published.clear()

    result = service.pay(paid)

    assert result.cancelled
    assert service.publisher.published == []
    assert len(service.scheduler.scheduled) == 1  # the one from the first run only
    assert len(service.carrier.calls) == 1


def test_a_cancellation_during_the_booking_is_retried_and_then_cancels_the_parcel(service: Service) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)
    raised: list[Exception] = []

    def cancel_now() -> None:
        with pytest.raises(BookingInProgress) as error:
            service.cancel(cancelled)
        raised.append(error.value)

    service.carrier.during_booking = cancel_now

    service.pay(paid)

    assert len(raised) == 1  # the cancellation found BOOKING and failed, to be retried
    assert service.store.shipments[paid.order_id].status is ShipmentStatus.BOOKED
    assert service.carrier.cancel_calls == []

    # SQS delivers the cancellation again after the visibility timeout.
    result = service.cancel(cancelled)

    assert result.outcome is CancelOutcome.BOOKING_CANCELLED
    assert service.store.shipments[paid.order_id].status is ShipmentStatus.CANCELLED
    assert service.carrier.cancelled_shipment_ids == {service.store.shipments[paid.order_id].shipment_id}


def test_a_cancellation_that_finds_only_the_claim_raises_a_retryable_error(service: Service) -> None:
    paid = payment_confirmed()
    service.store.add(
        Shipment(order_id=paid.order_id, status=ShipmentStatus.BOOKING, carrier="SimPost", event_id=paid.event_id,
                 created_at=NOW)
    )  # fmt: skip

    with pytest.raises(BookingInProgress):
        service.cancel(order_cancelled(paid))

    assert service.store.shipments[paid.order_id].status is ShipmentStatus.BOOKING
    assert service.carrier.cancel_calls == []


def test_when_the_carrier_cancel_fails_the_retry_cancels_with_the_carrier_again(service: Service) -> None:
    paid = payment_confirmed()
    service.pay(paid)
    cancelled = order_cancelled(paid)
    service.carrier.cancel_fails_with = ConnectionError("carrier API down")

    with pytest.raises(ConnectionError):
        service.cancel(cancelled)
    # Recorded first: from now on, no delivery can be reported for it.
    assert service.store.shipments[paid.order_id].status is ShipmentStatus.CANCELLED

    service.carrier.cancel_fails_with = None
    result = service.cancel(cancelled)

    assert result.outcome is CancelOutcome.BOOKING_CANCELLED
    assert [call.idempotency_key for call in service.carrier.cancel_calls] == [cancelled.event_id] * 2
    assert len(service.carrier.cancelled_shipment_ids) == 1


def test_a_second_cancellation_event_cancels_nothing_more(service: Service) -> None:
    paid = payment_confirmed()
    service.pay(paid)
    first = order_cancelled(paid)
    service.cancel(first)
    stored = service.store.shipments[paid.order_id]

    result = service.cancel(order_cancelled(paid))

    assert result.outcome is CancelOutcome.ALREADY_CANCELLED
    assert service.store.shipments[paid.order_id] == stored
    # Asked again with the first cancellation's key; the carrier answers with that one.
    assert {call.idempotency_key for call in service.carrier.cancel_calls} == {first.event_id}
    assert len(service.carrier.cancelled_shipment_ids) == 1


def test_a_cancellation_after_a_refused_parcel_has_nothing_to_cancel(service: Service) -> None:
    paid = payment_confirmed(shipping_address=address(postal_code="00000"))
    service.pay(paid)
    failed = service.store.shipments[paid.order_id]

    result = service.cancel(order_cancelled(paid, previous_status="SHIPMENT_FAILED"))

    assert result.outcome is CancelOutcome.NOTHING_BOOKED
    assert service.store.shipments[paid.order_id] == failed
    assert service.carrier.cancel_calls == []


def test_a_cancellation_after_the_delivery_is_too_late(service: Service) -> None:
    paid = payment_confirmed()
    service.pay(paid)
    service.deliver(service.scheduler.scheduled[0])
    delivered = service.store.shipments[paid.order_id]

    result = service.cancel(order_cancelled(paid))

    assert result.outcome is CancelOutcome.TOO_LATE
    assert service.store.shipments[paid.order_id] == delivered
    assert service.carrier.cancel_calls == []


def test_a_cancellation_racing_the_delivery_report_loses_and_cancels_nothing(service: Service) -> None:
    paid = payment_confirmed()
    service.pay(paid)
    [scheduled] = service.scheduler.scheduled
    # The delivery is recorded between the cancellation's read (BOOKED) and its write.
    service.store.before_next_update = lambda: service.deliver(scheduled)

    result = service.cancel(order_cancelled(paid))

    assert result.outcome is CancelOutcome.TOO_LATE
    assert service.store.shipments[paid.order_id].status is ShipmentStatus.DELIVERED
    assert service.carrier.cancel_calls == []


def test_the_delivery_report_racing_a_cancellation_loses_and_announces_nothing(service: Service) -> None:
    paid = payment_confirmed()
    service.pay(paid)
    [shipped] = service.publisher.published
    cancelled = order_cancelled(paid)
    # The cancellation is recorded between the delivery report's read (BOOKED) and its write.
    service.store.before_next_update = lambda: service.cancel(cancelled)

    result = service.deliver(shipped)

    assert result.announced is None
    assert result.shipment.status is ShipmentStatus.CANCELLED
    assert service.publisher.published == [shipped]
    assert len(service.carrier.cancelled_shipment_ids) == 1
