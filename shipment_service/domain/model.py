"""The shipment as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator


@dataclass(frozen=True)
class Booking:
    """What a carrier gives back for an accepted parcel."""

    shipment_id: str
    carrier: str
    tracking_number: str


class ShipmentStatus(StrEnum):
    BOOKED = "BOOKED"
    FAILED = "FAILED"


class Shipment(BaseModel):
    """One per order: the outcome of booking its parcel."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: ShipmentStatus
    carrier: str
    # The PAYMENT_CONFIRMED that led to this shipment: tells a retry of that event
    # (publish again) from another event for an order that is already handled.
    event_id: str
    created_at: datetime
    shipment_id: str | None = None
    tracking_number: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _outcome_is_complete(self) -> Shipment:
        if self.status is ShipmentStatus.BOOKED and not (self.shipment_id and self.tracking_number):
            raise ValueError("a booked shipment has a shipment_id and a tracking_number")
        if self.status is ShipmentStatus.FAILED and not self.reason:
            raise ValueError("a failed shipment has a reason")
        return self
