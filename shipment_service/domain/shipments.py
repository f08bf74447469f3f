"""Shipping a paid order: book the parcel once, record the outcome, announce it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from events.models import PaymentConfirmed, ShipmentError, ShipmentErrorData, Shipped, ShippedData
from shipment_service.domain.errors import Undeliverable
from shipment_service.domain.model import Shipment, ShipmentStatus
from shipment_service.domain.ports import Carrier, Publisher, ShipmentStore


@dataclass(frozen=True)
class ShipmentResult:
    shipment: Shipment
    # None when the order's shipment came from another PAYMENT_CONFIRMED: that
    # event announced it, announcing it again would tell the customer twice.
    announced: Shipped | ShipmentError | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def ship_order(
    event: PaymentConfirmed,
    carrier: Carrier,
    store: ShipmentStore,
    publisher: Publisher,
    now: Callable[[], datetime] = _utcnow,
) -> ShipmentResult:
    """Book the paid order's parcel and publish SHIPPED or SHIPMENT_ERROR.

    Safe to run again for the same event (a retry after a crash): the booking uses the
    event id as the carrier's idempotency key, the store keeps the first shipment, and
    the announcement has a deterministic event id that consumers deduplicate.
    """
    shipment = store.get(event.order_id)
    if shipment is None:
        shipment = _book(event, carrier, now())
        if not store.add(shipment):
            # Another delivery stored the order's shipment between our read and write;
            # the stored one is the shipment the world hears about.
            stored = store.get(event.order_id)
            if stored is None:
                raise RuntimeError(f"shipment of order {event.order_id} neither stored nor found")
            shipment = stored

    if shipment.event_id != event.event_id:
        return ShipmentResult(shipment=shipment, announced=None)

    announcement = _announcement(event, shipment)
    publisher.publish(announcement)
    return ShipmentResult(shipment=shipment, announced=announcement)


def _book(event: PaymentConfirmed, carrier: Carrier, at: datetime) -> Shipment:
    order = event.data.order
    try:
        booking = carrier.book(event.order_id, order.shipping_address, order.lines, idempotency_key=event.event_id)
    except Undeliverable as error:
        return Shipment(
            order_id=event.order_id,
            status=ShipmentStatus.FAILED,
            carrier=carrier.name,
            event_id=event.event_id,
            created_at=at,
            reason=error.reason,
        )
    return Shipment(
        order_id=event.order_id,
        status=ShipmentStatus.BOOKED,
        carrier=booking.carrier,
        event_id=event.event_id,
        created_at=at,
        shipment_id=booking.shipment_id,
        tracking_number=booking.tracking_number,
    )


def _announcement(event: PaymentConfirmed, shipment: Shipment) -> Shipped | ShipmentError:
    order = event.data.order
    if shipment.status is ShipmentStatus.BOOKED:
        assert shipment.shipment_id and shipment.tracking_number  # the model guarantees both when BOOKED
        return Shipped.caused_by(
            event,
            data=ShippedData(
                order=order,
                shipment_id=shipment.shipment_id,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
            ),
        )
    return ShipmentError.caused_by(event, data=ShipmentErrorData(order=order, reason=str(shipment.reason)))
