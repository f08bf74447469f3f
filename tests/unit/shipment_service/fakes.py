"""In-memory stand-ins for the shipment service's edges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from events.models import Address, Event, OrderLine, Shipped
from shipment_service.adapters.carrier import SimulatedCarrier
from shipment_service.domain.model import Booking, Shipment, ShipmentStatus


@dataclass
class BookingCall:
    order_id: str
    address: Address
    lines: list[OrderLine]
    idempotency_key: str


class RecordingCarrier:
    """SimPost's answers, with every call recorded; `fail_with` makes it fail.

    `during_booking`, when set, runs inside the booking call (after the claim, before
    the carrier answers): what another event does while the carrier is busy."""

    name = "SimPost"

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[BookingCall] = []
        self.fail_with = fail_with
        self.during_booking: Callable[[], object] | None = None
        self._carrier = SimulatedCarrier()

    def book(self, order_id: str, address: Address, lines: list[OrderLine], idempotency_key: str) -> Booking:
        self.calls.append(BookingCall(order_id, address, lines, idempotency_key))
        if self.during_booking is not None:
            during, self.during_booking = self.during_booking, None
            during()
        if self.fail_with is not None:
            raise self.fail_with
        return self._carrier.book(order_id, address, lines, idempotency_key)


@dataclass
class InMemoryShipmentStore:
    """The shipments table's conditional writes, in a dict."""

    shipments: dict[str, Shipment] = field(default_factory=dict)
    # Stored by "someone else" right after our first read: simulates a concurrent delivery.
    stored_concurrently: Shipment | None = None
    # Runs once, right before the next conditional update is checked (a racing writer).
    before_next_update: Callable[[], None] | None = None
    fail_updates_with: Exception | None = None

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

    def update(self, shipment: Shipment, *, expected: ShipmentStatus) -> bool:
        if self.before_next_update is not None:
            racing, self.before_next_update = self.before_next_update, None
            racing()
        if self.fail_updates_with is not None:
            raise self.fail_updates_with
        stored = self.shipments.get(shipment.order_id)
        if stored is None or stored.status is not expected or stored.event_id != shipment.event_id:
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


@dataclass
class RecordingScheduler:
    scheduled: list[Shipped] = field(default_factory=list)
    fail_with: Exception | None = None

    def schedule(self, shipped: Shipped) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.scheduled.append(shipped)
