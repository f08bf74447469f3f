"""The edges the shipment domain needs besides the topic (events.publisher.Publisher);
adapters/ implements them, unit tests fake them."""

from __future__ import annotations

from typing import Protocol

from events.models import Address, OrderLine, Shipped
from shipment_service.domain.model import Booking, Shipment, ShipmentStatus


class Carrier(Protocol):
    name: str

    def book(self, order_id: str, address: Address, lines: list[OrderLine], idempotency_key: str) -> Booking:
        """Book the parcel's pick-up; raise Undeliverable when the carrier refuses it.

        The same idempotency_key must return the same booking, never a second parcel.
        """


class ShipmentStore(Protocol):
    def get(self, order_id: str) -> Shipment | None: ...

    def add(self, shipment: Shipment) -> bool:
        """Store the order's shipment unless it has one already; False if it had."""

    def update(self, shipment: Shipment, *, expected: ShipmentStatus) -> bool:
        """Write `shipment` over the stored one if that still has status `expected` and
        the same event_id; False when it has moved on (read it again)."""


class DeliveryScheduler(Protocol):
    def schedule(self, shipped: Shipped) -> None:
        """Have the carrier report the parcel's delivery later. A duplicate is harmless:
        the report is applied once per shipment."""
