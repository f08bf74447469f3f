"""SimPost: a built-in carrier that answers like a real one, without a network.

It stands where a real carrier's API client would (same Carrier protocol), so the
rest of the service cannot tell the difference: bookings are idempotent per key,
tracking numbers follow the UPU S10 format (2 letters, 8-digit serial, check digit,
country), and some addresses are refused. Once booked, the parcel is the carrier's:
a cancellation that comes later is refused by the shipment service, not the carrier.

It fails like a real carrier API only when the handler wraps it in FaultyCarrier
(adapters/faulty_carrier.py, when FAULT_RATE > 0); nothing here knows of faults.
"""

from __future__ import annotations

import hashlib

from events.models import Address, OrderLine
from shipment_service.domain.errors import Undeliverable
from shipment_service.domain.model import Booking

UNDELIVERABLE_POSTAL_CODE = "00000"
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    check = 11 - sum(int(digit) * weight for digit, weight in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


class SimulatedCarrier:
    name = "SimPost"
    service_indicator = "SP"

    def __init__(self) -> None:
        self._bookings: dict[str, Booking] = {}

    @property
    def bookings(self) -> list[Booking]:
        """Every parcel this instance booked, as the carrier's account would list them."""
        return list(self._bookings.values())

    def book(self, order_id: str, address: Address, lines: list[OrderLine], idempotency_key: str) -> Booking:
        if address.postal_code.strip() == UNDELIVERABLE_POSTAL_CODE:
            raise Undeliverable(
                f"address undeliverable: {self.name} does not serve postal code {UNDELIVERABLE_POSTAL_CODE}"
            )
        if not lines:
            raise Undeliverable("empty parcel: the order has no lines to ship")
        # Derived from the key alone, as a real carrier replays the stored booking for
        # a key it has seen: a retried booking gets the same parcel, not a second one.
        digest = hashlib.sha256(f"{self.name}/{idempotency_key}".encode()).digest()
        serial = f"{int.from_bytes(digest[:8], 'big') % 10**8:08d}"
        tracking_number = f"{self.service_indicator}{serial}{s10_check_digit(serial)}{address.country.upper()}"
        booking = Booking(shipment_id=f"shp_{digest[8:20].hex()}", carrier=self.name, tracking_number=tracking_number)
        return self._bookings.setdefault(idempotency_key, booking)
