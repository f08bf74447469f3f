from __future__ import annotations

import re

import pytest

from events.faults import DependencyTimeout, DependencyUnavailable, FaultInjector, FaultKind
from shipment_service.adapters.carrier import SimulatedCarrier, s10_check_digit
from shipment_service.domain.errors import Undeliverable
from tests.builders import address, snapshot
from tests.unit.events.fakes import ScriptedRandom

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


# ---------------------------------------------------------------- under the fault switch


def test_faults_are_off_when_the_environment_does_not_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAULT_RATE", raising=False)
    carrier = SimulatedCarrier()
    assert not carrier.faults.enabled
    assert carrier.book("order-1", address(), LINES, idempotency_key="evt-1") == carrier.bookings[0]


def test_the_switch_is_read_from_the_environment_and_faults_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_RATE", "1")
    monkeypatch.setenv("FAULT_KINDS", "unavailable")
    carrier = SimulatedCarrier()

    with pytest.raises(DependencyUnavailable):
        carrier.book("order-1", address(), LINES, idempotency_key="evt-1")

    assert carrier.faults.injected == 3  # the first attempt and two retries
    assert carrier.bookings == []  # a 5xx books nothing


def test_a_transient_fault_is_absorbed_by_a_retry() -> None:
    carrier = SimulatedCarrier(FaultInjector(0.5, [FaultKind.THROTTLE], rng=ScriptedRandom([0.1, 0.1, 0.9])))

    booking = carrier.book("order-1", address(), LINES, idempotency_key="evt-1")

    assert carrier.faults.injected == 2
    assert carrier.bookings == [booking]


def test_a_timeout_can_hide_a_booking_and_the_retry_gets_that_same_parcel() -> None:
    carrier = SimulatedCarrier(FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0))

    with pytest.raises(DependencyTimeout):
        carrier.book("order-1", address(), LINES, idempotency_key="evt-1")
    [hidden] = carrier.bookings

    carrier.faults = FaultInjector(0.0)  # the carrier recovers; SQS redelivers the record
    booking = carrier.book("order-1", address(), LINES, idempotency_key="evt-1")

    assert booking == hidden
    assert carrier.bookings == [hidden]


def test_an_undeliverable_address_is_an_answer_not_a_fault_and_is_not_retried() -> None:
    # One draw only, no fault: a retry would ask for a second one.
    carrier = SimulatedCarrier(FaultInjector(0.5, rng=ScriptedRandom([0.9])))
    with pytest.raises(Undeliverable):
        carrier.book("order-1", address(postal_code="00000"), LINES, idempotency_key="evt-1")
    assert carrier.bookings == []


# ---------------------------------------------------------------- cancellations
