"""A customer's cancellation reaches the warehouse: can the parcel still be stopped?

That is this service's to say, and only here is it decided, on the order's shipment row
with conditional writes (the point where a cancellation and a booking exclude each
other), then announced:
- no shipment yet: CANCELLED is recorded, so no later PAYMENT_CONFIRMED ever books it,
  and SHIPMENT_CANCELLED announces it (billing refunds a charge, the order releases its
  stock and ends CANCELLED or REFUNDED);
- a booking in flight (BOOKING): BookingInProgress, SQS delivers the cancellation again
  once the booking is recorded;
- booked or delivered: the carrier has the parcel; CANCELLATION_REJECTED says so (no
  refund, no stock back, the customer is told);
- the carrier refused the parcel (FAILED): nothing to stop; SHIPMENT_ERROR already made
  billing refund and the order release its stock.
Announcements have deterministic ids (uuid5 of the ORDER_CANCELLED), so a retry that
announces again is a duplicate every consumer recognises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from events.claim_call_commit import Done, Step, Write
from events.clock import utcnow
from events.models import (
    CancellationRejected,
    CancellationRejectedData,
    OrderCancelled,
    ShipmentCancelled,
    ShipmentCancelledData,
)
from events.publisher import Publisher
from shipment_service.domain.errors import BookingInProgress
from shipment_service.domain.model import Shipment, ShipmentStatus
from shipment_service.domain.ports import ShipmentStore
from shipment_service.domain.shipments import on_shipment_row

TOO_LATE_REASON = "your order had already left our warehouse with the carrier"


class CancelOutcome(StrEnum):
    # Recorded before any booking: the parcel will never ship.
    STOPPED = "stopped"
    # The carrier has (or delivered) the parcel: the cancellation is refused.
    TOO_LATE = "too_late"
    # The carrier refused the parcel: there is nothing to stop.
    NOTHING_BOOKED = "nothing_booked"


@dataclass(frozen=True)
class CancelResult:
    shipment: Shipment
    outcome: CancelOutcome
    announced: ShipmentCancelled | CancellationRejected | None = None


def cancel_shipment(
    event: OrderCancelled,
    store: ShipmentStore,
    publisher: Publisher,
    now: Callable[[], datetime] = utcnow,
) -> CancelResult:
    """Decide whether the order's parcel can still be stopped, record it, announce it."""
    at = now()
    order = event.data.order

    def decide(shipment: Shipment | None) -> Step[Shipment, CancelResult]:
        if shipment is None:
            # If a PAYMENT_CONFIRMED claims it meanwhile, decide on its claim.
            return Write(
                Shipment(
                    order_id=event.order_id,
                    status=ShipmentStatus.CANCELLED,
                    created_at=at,
                    cancelled_by=event.event_id,
                    cancelled_at=at,
                )
            )
        if shipment.status is ShipmentStatus.BOOKING:
            raise BookingInProgress(event.order_id)
        announcement: ShipmentCancelled | CancellationRejected
        if shipment.status is ShipmentStatus.FAILED:
            return Done(CancelResult(shipment=shipment, outcome=CancelOutcome.NOTHING_BOOKED))
        if shipment.status is ShipmentStatus.CANCELLED:
            # Ours: just now, or by an attempt of this event that crashed before announcing.
            announcement = ShipmentCancelled.caused_by(event, data=ShipmentCancelledData(order=order))
            outcome = CancelOutcome.STOPPED
        else:  # BOOKED or DELIVERED: the carrier has it
            announcement = CancellationRejected.caused_by(
                event,
                data=CancellationRejectedData(
                    order=order,
                    reason=TOO_LATE_REASON,
                    carrier=shipment.carrier,
                    tracking_number=shipment.tracking_number,
                ),
            )
            outcome = CancelOutcome.TOO_LATE
        return Done(CancelResult(shipment=shipment, outcome=outcome, announced=announcement), announce=announcement)

    return on_shipment_row(event.order_id, decide, store, publisher)
