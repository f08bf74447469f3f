"""The shipment as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


@dataclass(frozen=True)
class Booking:
    """What a carrier gives back for an accepted parcel."""

    shipment_id: str
    carrier: str
    tracking_number: str


class ShipmentStatus(StrEnum):
    """Where the order's shipment stands. Each move is a conditional write:

        (none) -> BOOKING -> BOOKED -> DELIVERED
                         \\-> FAILED
        (none) -> CANCELLED             (cancelled before any booking: it never ships)

    BOOKING is the claim a PAYMENT_CONFIRMED takes before calling the carrier, so a
    cancellation can never slip in between the carrier's answer and its record.
    """

    BOOKING = "BOOKING"
    BOOKED = "BOOKED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    DELIVERED = "DELIVERED"


class Shipment(BaseModel):
    """One per order: the booking of its parcel and what became of it."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: ShipmentStatus
    created_at: datetime
    # The PAYMENT_CONFIRMED that claimed the booking: tells a retry of that event
    # (carry on, publish again) from another event for an order already handled.
    # None only for an order cancelled before any payment reached the service.
    event_id: str | None = None
    carrier: str | None = None
    shipment_id: str | None = None
    tracking_number: str | None = None
    reason: str | None = None
    # The ORDER_CANCELLED that cancelled it, and when.
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    # When the carrier reported the parcel delivered, and whether DELIVERED was published.
    delivered_at: datetime | None = None
    delivery_announced: bool = False

    @model_validator(mode="after")
    def _state_is_complete(self) -> Shipment:
        status = self.status
        if status is not ShipmentStatus.CANCELLED and not (self.event_id and self.carrier):
            raise ValueError(f"a {status.value} shipment has the event_id that claimed it and a carrier")
        if status in (ShipmentStatus.BOOKED, ShipmentStatus.DELIVERED) and not (
            self.shipment_id and self.tracking_number
        ):
            raise ValueError(f"a {status.value} shipment has a shipment_id and a tracking_number")
        if status is ShipmentStatus.FAILED and not self.reason:
            raise ValueError("a failed shipment has a reason")
        if status is ShipmentStatus.CANCELLED and not (self.cancelled_by and self.cancelled_at):
            raise ValueError("a cancelled shipment has the event that cancelled it and when")
        if status is ShipmentStatus.DELIVERED and not self.delivered_at:
            raise ValueError("a delivered shipment has its delivered_at")
        return self

    @property
    def is_booked_with_carrier(self) -> bool:
        """The carrier holds a parcel for it (it may since have been cancelled or delivered)."""
        return self.shipment_id is not None

    def moved_to(self, status: ShipmentStatus, **changes: Any) -> Shipment:
        """This shipment in its next state, validated (model_copy would skip validation)."""
        return Shipment.model_validate({**self.model_dump(), **changes, "status": status})
