"""The payment provider under the fault switch: FaultyPaymentProvider around the
simulated provider, as the handler wires it when FAULT_RATE > 0 (that wiring is
tested with the handler, tests/integration/billing_service/test_handler.py)."""

from __future__ import annotations

import pytest

from billing_service.adapters.faulty_provider import FaultyPaymentProvider
from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
from billing_service.domain.errors import PaymentDeclined, RefundRefused
from billing_service.domain.model import Charge, Refund
from billing_service.domain.ports import PaymentProvider
from events.retries import DependencyThrottled, DependencyTimeout
from fault_injection.injector import FaultInjector, FaultKind
from tests.unit.events.fakes import ScriptedRandom


def _faulty(faults: FaultInjector) -> FaultyPaymentProvider:
    return FaultyPaymentProvider(SimulatedPaymentProvider(), faults)


def _charge(provider: PaymentProvider, card: str = "tok_visa", key: str = "key-1") -> Charge:
    return provider.charge(amount_cents=4597, currency="EUR", token=card, idempotency_key=key, description="Invoice")


def _refund(provider: PaymentProvider, charge_id: str, key: str = "cancel-1", amount: int = 4597) -> Refund:
    return provider.refund(charge_id=charge_id, amount_cents=amount, currency="EUR", idempotency_key=key)


def test_faults_are_retried() -> None:
    provider = _faulty(FaultInjector(1.0, [FaultKind.THROTTLE]))

    with pytest.raises(DependencyThrottled):
        _charge(provider)

    assert provider.faults.injected == 3  # the first attempt and two retries
    assert provider.charges == []  # a throttle refuses before charging


def test_a_transient_fault_is_absorbed_by_a_retry() -> None:
    # A fault on the first attempt, none on the second.
    provider = _faulty(FaultInjector(0.5, [FaultKind.UNAVAILABLE], rng=ScriptedRandom([0.1, 0.9])))

    charge = _charge(provider)

    assert provider.faults.injected == 1
    assert provider.charges == [charge]


def test_a_timeout_can_hide_a_charge_and_the_retry_gets_that_same_charge() -> None:
    faults = FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0)
    provider = _faulty(faults)

    with pytest.raises(DependencyTimeout):
        _charge(provider, key="evt-1")
    [hidden] = provider.charges  # charged on the first attempt; the retries replayed it

    provider.faults = FaultInjector(0.0)  # the provider recovers; SQS redelivers the record
    charge = _charge(provider, key="evt-1")

    assert charge == hidden
    assert provider.charges == [hidden]


def test_a_decline_is_an_answer_not_a_fault_and_is_not_retried() -> None:
    # One draw only, no fault: a retry would ask for a second one.
    provider = _faulty(FaultInjector(0.5, rng=ScriptedRandom([0.9])))
    with pytest.raises(PaymentDeclined):
        _charge(provider, card="tok_chargeDeclined")


def test_refund_faults_are_retried_and_a_throttle_refunds_nothing() -> None:
    provider = _faulty(FaultInjector(0.0))
    charge = _charge(provider)
    provider.faults = FaultInjector(1.0, [FaultKind.THROTTLE])

    with pytest.raises(DependencyThrottled) as throttled:
        _refund(provider, charge.charge_id)

    assert throttled.value.operation == "payment_provider.refund"
    assert provider.faults.injected == 3  # the first attempt and two retries
    assert provider.refunds == []


def test_a_timeout_can_hide_a_refund_and_the_retry_gets_that_same_refund() -> None:
    provider = _faulty(FaultInjector(0.0))
    charge = _charge(provider)
    provider.faults = FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0)

    with pytest.raises(DependencyTimeout):
        _refund(provider, charge.charge_id)
    [hidden] = provider.refunds

    provider.faults = FaultInjector(0.0)
    assert _refund(provider, charge.charge_id) == hidden
    assert provider.refunds == [hidden]


def test_a_refusal_is_an_answer_not_a_fault_and_is_not_retried() -> None:
    provider = _faulty(FaultInjector(0.0))
    charge = _charge(provider)
    provider.faults = FaultInjector(0.5, rng=ScriptedRandom([0.9]))  # one draw only, no fault
    with pytest.raises(RefundRefused):
        _refund(provider, charge.charge_id, amount=10_000)
