"""The carrier under the fault switch: FaultyCarrier around SimPost, as the handler
wires it when FAULT_RATE > 0 (that wiring is tested with the handler,
tests/integration/shipment_service/test_handler.py)."""

from __future__ import annotations

import pytest

from events.retries import DependencyTimeout, DependencyUnavailable
from fault_injection.injector import FaultInjector, FaultKind
from shipment_service.adapters.carrier import SimulatedCarrier
from shipment_service.adapters.faulty_carrier import FaultyCarrier
from shipment_service.domain.errors import Undeliverable
from tests.builders import address, snapshot
from tests.unit.events.fakes import ScriptedRandom

LINES = snapshot().lines


def _faulty(faults: FaultInjector) -> FaultyCarrier:
    return FaultyCarrier(SimulatedCarrier(), faults)


def test_it_is_the_carrier_it_wraps() -> None:
    assert _faulty(FaultInjector(0.0)).name == SimulatedCarrier.name


def test_faults_are_retried() -> None:
    carrier = _faulty(FaultInjector(1.0, [FaultKind.UNAVAILABLE]))

    with pytest.raises(DependencyUnavailable):
        carrier.book("order-1", address(), LINES, idempotency_key="evt-1")

    assert carrier.faults.injected == 3  # the first attempt and two retries
    assert carrier.bookings == []  # a 5xx books nothing


def test_a_transient_fault_is_absorbed_by_a_retry() -> None:
    carrier = _faulty(FaultInjector(0.5, [FaultKind.THROTTLE], rng=ScriptedRandom([0.1, 0.1, 0.9])))

    booking = carrier.book("order-1", address(), LINES, idempotency_key="evt-1")

    assert carrier.faults.injected == 2
    assert carrier.bookings == [booking]


def test_a_timeout_can_hide_a_booking_and_the_retry_gets_that_same_parcel() -> None:
    carrier = _faulty(FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0))

    with pytest.raises(DependencyTimeout):
        carrier.book("order-1", address(), LINES, idempotency_key="evt-1")
    [hidden] = carrier.bookings

    carrier.faults = FaultInjector(0.0)  # the carrier recovers; SQS redelivers the record
    booking = carrier.book("order-1", address(), LINES, idempotency_key="evt-1")

    assert booking == hidden
    assert carrier.bookings == [hidden]


def test_an_undeliverable_address_is_an_answer_not_a_fault_and_is_not_retried() -> None:
    # One draw only, no fault: a retry would ask for a second one.
    carrier = _faulty(FaultInjector(0.5, rng=ScriptedRandom([0.9])))
    with pytest.raises(Undeliverable):
        carrier.book("order-1", address(postal_code="00000"), LINES, idempotency_key="evt-1")
    assert carrier.bookings == []
