"""In-memory stand-ins for the shipment service's edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.models import Address, Event, OrderLine
from shipment_service.adapters.carrier import SimulatedCarrier
from shipment_service.domain.model import Booking, Shipment


@dataclass
class BookingCall:
    order_id: str
    address: Address
    lines: list[OrderLine]
    idempotency_key: str


class RecordingCarrier:
    """SimPost's answers, with every call recorded; `fail_with` makes it fail."""

    name = "SimPost"

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[BookingCall] = []
        self.fail_with = fail_with
        self._carrier = SimulatedCarrier()

    def book(self, order_id: str, address: Address, lines: list[OrderLine], idempotency_key: str) -> Booking:
        self.calls.append(BookingCall(order_id, address, lines, idempotency_key))
        if self.fail_with is not None:
            raise self.fail_with
        return self._carrier.book(order_id, address, lines, idempotency_key)


@dataclass
class InMemoryShipmentStore:
    shipments: dict[str, Shipment] = field(default_factory=dict)
    # Stored by "someone else" right after our first read: simulates a concurrent delivery.
    stored_concurrently: Shipment | None = None

    def get(self, order_id: str) -> Shipment | None:
        shipment = self.shipments.get(order_id)
        if self.stored_concurrently is not None:
            self.shipments[self.stored_concurrently.order_id] = self.stored_concurrently
            self.stored_concurrently = None
        return shipment

    def add(self, shipment: Shipment) -> bool:
        if shipment.order_id in self.shipments:
            return False
        self.shipments[shipment.order_id] = shipment
        return True


@dataclass
class RecordingPublisher:
    published: list[Event[Any]] = field(default_factory=list)
    fail_with: Exception | None = None

    def publish(self, event: Event[Any]) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.published.append(event)
        return f"msg-{len(self.published)}"
