"""The carrier over a flaky network, for the fault switch (FAULT_RATE).

The handler wraps the carrier in this when FAULT_RATE > 0: throttles and 5xx strike
before booking, timeouts before or after the booking was made. The client side retries
them a couple of times with the same idempotency key, which replays the booking made,
never books a second parcel.
"""

from __future__ import annotations

from events.models import Address, OrderLine
from fault_injection.decorator import FaultyDependency
from fault_injection.injector import FaultInjector
from shipment_service.domain.model import Booking
from shipment_service.domain.ports import Carrier


class FaultyCarrier(FaultyDependency[Carrier]):
    OPERATION = "carrier.book"

    def __init__(self, wrapped: Carrier, faults: FaultInjector) -> None:
        super().__init__(wrapped, faults)
        self.name = wrapped.name

    def book(self, order_id: str, address: Address, lines: list[OrderLine], idempotency_key: str) -> Booking:
        return self._idempotent(self.OPERATION, lambda: self.wrapped.book(order_id, address, lines, idempotency_key))
