"""Shipping a paid order: claim it, book the parcel once, record the outcome, announce it
(the loop around these steps is events.claim_call_commit's)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from events.claim_call_commit import Call, Done, Step, Write, claim_call_commit
from events.clock import utcnow
from events.models import PaymentConfirmed, ShipmentError, ShipmentErrorData, Shipped, ShippedData
from events.publisher import Publisher
from shipment_service.domain.errors import ShipmentContention, Undeliverable
from shipment_service.domain.model import Shipment, ShipmentStatus
from shipment_service.domain.ports import Carrier, DeliveryScheduler, ShipmentStore

# Conditional writes that lose a race re-read the item and decide again; a handful
# of rounds is plenty (each state has at most two ways out).
MAX_ROUNDS = 5

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class ShipmentResult:
    shipment: Shipment
    # None when nothing was announced: the order was cancelled, or its shipment came
    # from another PAYMENT_CONFIRMED (that event announced it; announcing it again
    # would tell the customer twice), or it was delivered already.
    announced: Shipped | ShipmentError | None
    # Whether the carrier's delivery report was scheduled (only after SHIPPED).
    delivery_scheduled: bool = False

    @property
    def cancelled(self) -> bool:
        return self.shipment.status is ShipmentStatus.CANCELLED


def ship_order(
    event: PaymentConfirmed,
    carrier: Carrier,
    store: ShipmentStore,
    publisher: Publisher,
    scheduler: DeliveryScheduler,
    now: Callable[[], datetime] = utcnow,
) -> ShipmentResult:
    """Book the paid order's parcel, publish SHIPPED or SHIPMENT_ERROR, and schedule
    the carrier's delivery report after SHIPPED.

    The event first claims the order's shipment (BOOKING, a conditional put), so an
    ORDER_CANCELLED stored before it wins and nothing is booked, and one processed
    during the booking waits (it retries) until the booking is recorded.

    Safe to run again for the same event (a retry after a crash): the booking uses the
    event id as the carrier's idempotency key, every write is conditional on the state
    read, and the announcement has a deterministic event id that consumers deduplicate.
    """

    def decide(shipment: Shipment | None) -> Step[Shipment, ShipmentResult]:
        if shipment is None:
            # The claim. If someone stores the order's shipment first (a cancellation,
            # another payment event, a duplicate of this one), theirs decides.
            return Write(
                Shipment(
                    order_id=event.order_id,
                    status=ShipmentStatus.BOOKING,
                    carrier=carrier.name,
                    event_id=event.event_id,
                    created_at=now(),
                )
            )
        if shipment.status is ShipmentStatus.CANCELLED or shipment.event_id != event.event_id:
            return Done(ShipmentResult(shipment=shipment, announced=None))
        if shipment.status is ShipmentStatus.BOOKING:
            # If a concurrent delivery of this same event records the booking first, look again.
            return Call(lambda: _book(event, carrier, shipment))
        if shipment.status is ShipmentStatus.DELIVERED:
            # A very late retry: SHIPPED was announced long ago, and the parcel has arrived.
            return Done(ShipmentResult(shipment=shipment, announced=None))
        announcement = _announcement(event, shipment)
        return Done(ShipmentResult(shipment=shipment, announced=announcement), announce=announcement)

    result = on_shipment_row(event.order_id, decide, store, publisher)
    if not isinstance(result.announced, Shipped):
        return result
    # After the publish: a retry (publish or schedule failed) publishes the same SHIPPED
    # again and schedules again; the second report finds the parcel delivered already.
    scheduler.schedule(result.announced)
    return replace(result, delivery_scheduled=True)


def on_shipment_row(
    order_id: str,
    decide: Callable[[Shipment | None], Step[Shipment, ResultT]],
    store: ShipmentStore,
    publisher: Publisher,
) -> ResultT:
    """Run `decide`'s steps on the order's shipment (events.claim_call_commit): a write
    creates it where there is none, else moves it on from the status (and claim) read."""
    return claim_call_commit(
        read=lambda: store.get(order_id),
        write=lambda current, new: store.add(new) if current is None else store.update(new, expected=current.status),
        decide=decide,
        publisher=publisher,
        rounds=MAX_ROUNDS,
        contention=lambda: ShipmentContention(order_id),
    )


def _book(event: PaymentConfirmed, carrier: Carrier, claim: Shipment) -> Shipment:
    order = event.data.order
    try:
        booking = carrier.book(event.order_id, order.shipping_address, order.lines, idempotency_key=event.event_id)
    except Undeliverable as error:
        return claim.moved_to(ShipmentStatus.FAILED, carrier=carrier.name, reason=error.reason)
    return claim.moved_to(
        ShipmentStatus.BOOKED,
        carrier=booking.carrier,
        shipment_id=booking.shipment_id,
        tracking_number=booking.tracking_number,
    )


def _announcement(event: PaymentConfirmed, shipment: Shipment) -> Shipped | ShipmentError:
    order = event.data.order
    if shipment.status is ShipmentStatus.BOOKED:
        # The model guarantees all three when BOOKED.
        assert shipment.shipment_id and shipment.tracking_number and shipment.carrier
        return Shipped.caused_by(
            event,
            data=ShippedData(
                order=order,
                shipment_id=shipment.shipment_id,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
            ),
        )
    if shipment.status is ShipmentStatus.FAILED:
        return ShipmentError.caused_by(event, data=ShipmentErrorData(order=order, reason=str(shipment.reason)))
    raise AssertionError(f"no announcement for a {shipment.status.value} shipment")  # pragma: no cover
