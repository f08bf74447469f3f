"""FaultyDependency, the base of the services' faulty decorators."""

from __future__ import annotations

import copy

import pytest

from events.retries import DependencyThrottled, DependencyTimeout
from fault_injection.decorator import FaultyDependency
from fault_injection.injector import FaultInjector, FaultKind
from tests.unit.events.fakes import ScriptedRandom


class Counter:
    """A dependency that counts the calls that reached it."""

    label = "the wrapped one"

    def __init__(self) -> None:
        self.calls = 0

    def call(self) -> int:
        self.calls += 1
        return self.calls


class FaultyCounter(FaultyDependency[Counter]):
    def idempotent(self) -> int:
        return self._idempotent("counter.idempotent", self.wrapped.call)

    def before_call(self) -> int:
        return self._before_call("counter.before_call", self.wrapped.call)


def test_what_the_decorator_does_not_define_is_the_wrapped_adapters() -> None:
    counter = Counter()
    faulty = FaultyCounter(counter, FaultInjector(0.0))

    assert faulty.label == "the wrapped one"
    assert faulty.call() == 1
    assert counter.calls == 1
    with pytest.raises(AttributeError):
        _ = faulty.missing


def test_a_copy_does_not_recurse_before_its_attributes_are_set() -> None:
    faulty = FaultyCounter(Counter(), FaultInjector(0.0))
    assert copy.copy(faulty).wrapped is faulty.wrapped


def test_without_faults_each_call_reaches_the_dependency_once() -> None:
    faulty = FaultyCounter(Counter(), FaultInjector(0.0))
    assert (faulty.idempotent(), faulty.before_call()) == (1, 2)


def test_faults_are_retried_twice_and_the_third_fault_propagates() -> None:
    faulty = FaultyCounter(Counter(), FaultInjector(1.0, [FaultKind.THROTTLE]))

    with pytest.raises(DependencyThrottled):
        faulty.before_call()

    assert faulty.faults.injected == 3
    assert faulty.wrapped.calls == 0


def test_a_fault_then_success_answers_after_one_retry() -> None:
    faulty = FaultyCounter(Counter(), FaultInjector(0.5, [FaultKind.THROTTLE], rng=ScriptedRandom([0.1, 0.9])))
    assert faulty.before_call() == 1
    assert faulty.faults.injected == 1


def test_a_before_call_dependency_never_sees_a_timeout_after_its_effect() -> None:
    faulty = FaultyCounter(Counter(), FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0))

    with pytest.raises(DependencyTimeout):
        faulty.before_call()

    assert faulty.wrapped.calls == 0


def test_an_idempotent_call_may_take_effect_behind_a_timeout() -> None:
    faulty = FaultyCounter(Counter(), FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0))

    with pytest.raises(DependencyTimeout):
        faulty.idempotent()

    assert faulty.wrapped.calls == 3  # every attempt took effect; its answer was lost


def test_the_faults_can_be_replaced_when_the_dependency_recovers() -> None:
    faulty = FaultyCounter(Counter(), FaultInjector(1.0, [FaultKind.THROTTLE]))
    faulty.faults = FaultInjector(0.0)
    assert faulty.idempotent() == 1
