from __future__ import annotations

import re

import pytest

from shipment_service.adapters.carrier import SimulatedCarrier, s10_check_digit
from shipment_service.domain.errors import Undeliverable
from tests.builders import address, snapshot

LINES = snapshot().lines
TRACKING = re.compile(r"^SP(?P<serial>\d{8})(?P<check>\d)(?P<country>[A-Z]{2})$")


def test_postal_code_00000_is_undeliverable() -> None:
    with pytest.raises(Undeliverable) as raised:
        SimulatedCarrier().book("order-1", address(postal_code="00000"), LINES, idempotency_key="evt-1")

    assert "00000" in raised.value.reason
    assert "undeliverable" in raised.value.reason


def test_postal_code_00000_with_stray_spaces_is_still_undeliverable() -> None:
    with pytest.raises(Undeliverable):
        SimulatedCarrier().book("order-1", address(postal_code=" 00000 "), LINES, idempotency_key="evt-1")


@pytest.mark.parametrize("postal_code", ["N1 9GU", "10115", "000000", "0000"])
def test_other_postal_codes_are_booked(postal_code: str) -> None:
    booking = SimulatedCarrier().book("order-1", address(postal_code=postal_code), LINES, idempotency_key="evt-1")

    assert booking.carrier == "SimPost"
    assert booking.shipment_id.startswith("shp_")


def test_tracking_number_has_the_s10_shape_with_a_valid_check_digit() -> None:
    booking = SimulatedCarrier().book("order-1", address(country="DE"), LINES, idempotency_key="evt-1")

    match = TRACKING.match(booking.tracking_number)
    assert match, booking.tracking_number
    assert match["country"] == "DE"
    assert int(match["check"]) == s10_check_digit(match["serial"])


def test_s10_check_digit_matches_the_upu_example() -> None:
    # RA 47312482 9 CH is the worked example of the UPU S10 standard.
    assert s10_check_digit("47312482") == 9


def test_the_same_idempotency_key_returns_the_same_booking() -> None:
    first = SimulatedCarrier().book("order-1", address(), LINES, idempotency_key="evt-1")
    again = SimulatedCarrier().book("order-1", address(), LINES, idempotency_key="evt-1")

    assert again == first


def test_different_idempotency_keys_get_different_parcels() -> None:
    carrier = SimulatedCarrier()
    bookings = [carrier.book("order-1", address(), LINES, idempotency_key=f"evt-{i}") for i in range(200)]

    assert len({booking.tracking_number for booking in bookings}) == 200
    assert len({booking.shipment_id for booking in bookings}) == 200


# ---------------------------------------------------------------- cancellations
