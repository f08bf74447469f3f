"""Cancelling an order's shipment: before its booking, or by cancelling the parcel.

Nothing is published: the order is CANCELLED already (order_service announced it),
and billing refunds the payment on the same ORDER_CANCELLED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from events.models import OrderCancelled
from shipment_service.domain.errors import BookingInProgress, ShipmentContention
from shipment_service.domain.model import Cancellation, Shipment, ShipmentStatus
from shipment_service.domain.ports import Carrier, ShipmentStore
from shipment_service.domain.shipments import MAX_ROUNDS


class CancelOutcome(StrEnum):
    # Stored before any PAYMENT_CONFIRMED: none will ever book the order.
    BEFORE_BOOKING = "before_booking"
    # The parcel was booked: cancelled with the carrier, never reported delivered.
    BOOKING_CANCELLED = "booking_cancelled"
    # Another ORDER_CANCELLED did it first.
    ALREADY_CANCELLED = "already_cancelled"
    # The carrier refused the parcel: there is nothing to cancel.
    NOTHING_BOOKED = "nothing_booked"
    # The carrier had already reported the parcel delivered.
    TOO_LATE = "too_late"


@dataclass(frozen=True)
class CancelResult:
    shipment: Shipment
    outcome: CancelOutcome
    carrier_cancellation: Cancellation | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def cancel_shipment(
    event: OrderCancelled,
    carrier: Carrier,
    store: ShipmentStore,
    now: Callable[[], datetime] = _utcnow,
) -> CancelResult:
    """Record the cancellation so no later PAYMENT_CONFIRMED books the order, and cancel
    a parcel already booked, with the carrier.

    The record comes first (a conditional write: the point where cancellation and
    delivery exclude each other), the carrier's cancellation second; a retry finds the
    record and cancels with the carrier again, which the carrier answers idempotently.
    A booking still in flight (BOOKING) raises BookingInProgress: SQS retries later.
    """
    at = now()
    for _ in range(MAX_ROUNDS):
        shipment = store.get(event.order_id)
        if shipment is None:
            record = Shipment(
                order_id=event.order_id,
                status=ShipmentStatus.CANCELLED,
                created_at=at,
                cancelled_by=event.event_id,
                cancelled_at=at,
            )
            if store.add(record):
                return CancelResult(shipment=record, outcome=CancelOutcome.BEFORE_BOOKING)
            continue  # a PAYMENT_CONFIRMED claimed it meanwhile: decide on its claim
        status = shipment.status
        if status is ShipmentStatus.BOOKING:
            raise BookingInProgress(event.order_id)
        if status is ShipmentStatus.FAILED:
            return CancelResult(shipment=shipment, outcome=CancelOutcome.NOTHING_BOOKED)
        if status is ShipmentStatus.DELIVERED:
            return CancelResult(shipment=shipment, outcome=CancelOutcome.TOO_LATE)
        if status is ShipmentStatus.BOOKED:
            cancelled = shipment.moved_to(ShipmentStatus.CANCELLED, cancelled_by=event.event_id, cancelled_at=at)
            if not store.update(cancelled, expected=ShipmentStatus.BOOKED):
                continue  # delivered or cancelled meanwhile
            shipment = cancelled
        break
    else:
        raise ShipmentContention(event.order_id)

    # CANCELLED, by this event or another one.
    ours = shipment.cancelled_by == event.event_id
    if not shipment.is_booked_with_carrier:
        outcome = CancelOutcome.BEFORE_BOOKING if ours else CancelOutcome.ALREADY_CANCELLED
        return CancelResult(shipment=shipment, outcome=outcome)
    assert shipment.shipment_id and shipment.cancelled_by  # the model guarantees both here
    # Again on every retry and duplicate: the one way to be sure the carrier heard it.
    cancellation = carrier.cancel(shipment.shipment_id, idempotency_key=shipment.cancelled_by)
    outcome = CancelOutcome.BOOKING_CANCELLED if ours else CancelOutcome.ALREADY_CANCELLED
    return CancelResult(shipment=shipment, outcome=outcome, carrier_cancellation=cancellation)
