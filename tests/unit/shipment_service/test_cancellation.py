"""ORDER_CANCELLED against the shipment: whether the parcel can still be stopped is
decided here, once, by a conditional write, and announced either way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.models import CancellationRejected, OrderCancelled, PaymentConfirmed, ShipmentCancelled, Shipped
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
        return cancel_shipment(event, self.store, self.publisher, now=_clock)

    def deliver(self, shipped: Shipped) -> DeliveryResult:
        return report_delivery(shipped, self.store, self.publisher, now=lambda: LATER)


@pytest.fixture
def service() -> Service:
    return Service()


def test_a_cancellation_first_stops_the_parcel_announces_it_and_the_later_payment_books_nothing(
    service: Service,
) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)

    cancel = service.cancel(cancelled)

    assert cancel.outcome is CancelOutcome.STOPPED
    stored = service.store.shipments[paid.order_id]
    assert stored.status is ShipmentStatus.CANCELLED
    assert stored.cancelled_by == cancelled.event_id and stored.cancelled_at == NOW
    [announced] = service.publisher.published
    assert isinstance(announced, ShipmentCancelled)
    assert announced.causation_id == cancelled.event_id and announced.correlation_id == cancelled.correlation_id

    result = service.pay(paid)

    assert result.cancelled and result.announced is None
    assert service.carrier.calls == [] and service.scheduler.scheduled == []
    assert service.publisher.published == [announced]


def test_a_payment_racing_a_first_cancellation_loses_the_claim_and_books_nothing(service: Service) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)
    record = Shipment(
        order_id=paid.order_id, status=ShipmentStatus.CANCELLED, created_at=NOW,
        cancelled_by=cancelled.event_id, cancelled_at=NOW,
    )  # fmt: skip
    service.store.stored_concurrently = record  # stored between the payment's read and its claim

    result = service.pay(paid)

    assert result.cancelled
    assert service.carrier.calls == [] and service.publisher.published == []


def test_a_cancellation_after_the_booking_is_too_late_and_says_so(service: Service) -> None:
    paid = payment_confirmed()
    shipped = service.pay(paid).announced
    assert isinstance(shipped, Shipped)
    cancelled = order_cancelled(paid)

    cancel = service.cancel(cancelled)

    assert cancel.outcome is CancelOutcome.TOO_LATE
    assert service.store.shipments[paid.order_id].status is ShipmentStatus.BOOKED  # nothing changed
    rejected = service.publisher.published[-1]
    assert isinstance(rejected, CancellationRejected)
    assert rejected.data.tracking_number == shipped.data.tracking_number
    # ... and the parcel is delivered as booked
    assert service.deliver(shipped).announced is not None


def test_a_cancellation_after_the_delivery_is_too_late(service: Service) -> None:
    paid = payment_confirmed()
    shipped = service.pay(paid).announced
    assert isinstance(shipped, Shipped)
    service.deliver(shipped)

    assert service.cancel(order_cancelled(paid)).outcome is CancelOutcome.TOO_LATE
    assert isinstance(service.publisher.published[-1], CancellationRejected)


def test_a_cancellation_during_the_booking_is_retried_and_then_decided(service: Service) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)
    raised: list[BaseException] = []

    def cancel_while_booking() -> None:
        with pytest.raises(BookingInProgress) as info:
            service.cancel(cancelled)
        raised.append(info.value)

    service.carrier.during_booking = cancel_while_booking
    service.pay(paid)

    assert len(raised) == 1  # the record failed: SQS delivers it again
    assert service.cancel(cancelled).outcome is CancelOutcome.TOO_LATE


def test_a_cancellation_after_a_refused_parcel_has_nothing_to_stop_and_announces_nothing(service: Service) -> None:
    paid = payment_confirmed(shipping_address=address(postal_code="00000"))
    service.pay(paid)
    before = list(service.publisher.published)

    cancel = service.cancel(order_cancelled(paid))

    assert cancel.outcome is CancelOutcome.NOTHING_BOOKED and cancel.announced is None
    assert service.publisher.published == before


def test_a_redelivered_cancellation_announces_the_same_event_again_and_changes_nothing(service: Service) -> None:
    paid = payment_confirmed()
    cancelled = order_cancelled(paid)

    first = service.cancel(cancelled)
    again = service.cancel(cancelled)

    assert first.announced is not None and again.announced is not None
    assert again.announced.event_id == first.announced.event_id  # consumers drop the duplicate
    assert service.store.shipments[paid.order_id] == first.shipment
