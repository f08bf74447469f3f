"""The carrier reports a parcel delivered: record it once, announce DELIVERED once.

The report is the SHIPPED event itself, sent back to the service through the
carrier-tracking queue with an SQS delay (see adapters/tracking.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from events.claim_call_commit import Done, Step, Write
from events.clock import utcnow
from events.models import Delivered, DeliveredData, Shipped
from events.publisher import Publisher
from shipment_service.domain.errors import ShipmentNotFound
from shipment_service.domain.model import Shipment, ShipmentStatus
from shipment_service.domain.ports import ShipmentStore
from shipment_service.domain.shipments import on_shipment_row


@dataclass(frozen=True)
class DeliveryResult:
    shipment: Shipment
    # None when nothing was announced: the shipment was cancelled, the report is not
    # about the stored parcel, or DELIVERED was announced already (a duplicate report).
    announced: Delivered | None


def report_delivery(
    shipped: Shipped,
    store: ShipmentStore,
    publisher: Publisher,
    now: Callable[[], datetime] = utcnow,
) -> DeliveryResult:
    """Move a BOOKED shipment to DELIVERED (conditional write), then publish DELIVERED.

    A shipment cancelled before its booking has no parcel, so no report. A duplicate
    report finds DELIVERED with the announcement made and does nothing; a
    retry after a failed publish finds it not yet made and publishes it again, with the
    same event id (deterministic from the SHIPPED) and the same delivered_at.
    """

    def decide(shipment: Shipment | None) -> Step[Shipment, DeliveryResult]:
        if shipment is None:
            raise ShipmentNotFound(shipped.order_id)
        if shipment.shipment_id != shipped.data.shipment_id:
            return Done(DeliveryResult(shipment=shipment, announced=None))  # not the parcel the order has
        if shipment.status is ShipmentStatus.BOOKED:
            # If it was cancelled, or delivered by a concurrent duplicate, look again.
            return Write(shipment.moved_to(ShipmentStatus.DELIVERED, delivered_at=now()))
        if shipment.status is not ShipmentStatus.DELIVERED or shipment.delivery_announced:
            return Done(DeliveryResult(shipment=shipment, announced=None))
        assert shipment.delivered_at and shipment.carrier and shipment.tracking_number  # guaranteed when DELIVERED
        announcement = Delivered.caused_by(
            shipped,
            data=DeliveredData(
                order=shipped.data.order,
                shipment_id=shipped.data.shipment_id,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                delivered_at=shipment.delivered_at,
            ),
        )
        return Done(DeliveryResult(shipment=shipment, announced=announcement), announce=announcement)

    result = on_shipment_row(shipped.order_id, decide, store, publisher)
    if result.announced is None:
        return result
    announced = result.shipment.moved_to(ShipmentStatus.DELIVERED, delivery_announced=True)
    # False only if the item changed under us, which nothing does after DELIVERED; the
    # worst case is one more publish of the same event by a later duplicate.
    store.update(announced, expected=ShipmentStatus.DELIVERED)
    return DeliveryResult(shipment=announced, announced=result.announced)
