"""The base of the services' faulty decorators (billing_service/adapters/faulty_provider.py,
shipment_service/adapters/faulty_carrier.py, email_service/adapters/faulty_mailer.py).

A decorator stands where the adapter stood: it injects the faults below the client's
retries (events.retries.call_with_retries, a couple of attempts with the same
idempotency key, as the dependency's real client would make), so the domain sees only
what a real flaky dependency would show it. Whatever a decorator does not define is the
wrapped adapter's (its books, its AWS client).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from events.retries import call_with_retries
from fault_injection.injector import FaultInjector

AdapterT = TypeVar("AdapterT")
T = TypeVar("T")


class FaultyDependency(Generic[AdapterT]):
    def __init__(self, wrapped: AdapterT, faults: FaultInjector) -> None:
        self.wrapped = wrapped
        # Replaceable: a test makes the dependency recover with FaultInjector(0.0).
        self.faults = faults

    def __getattr__(self, name: str) -> Any:
        # Only for what the decorator itself does not have.
        if name in ("wrapped", "faults"):  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    def _idempotent(self, operation: str, call: Callable[[], T]) -> T:
        """A call with an idempotency key: faults before it, or (timeouts) after its effect."""
        return call_with_retries(lambda: self.faults.call_idempotent(operation, call))

    def _before_call(self, operation: str, call: Callable[[], T]) -> T:
        """A call without an idempotency key: faults strike before it only, so a retry
        never repeats an effect."""

        def attempt() -> T:
            self.faults.maybe_fail(operation)
            return call()

        return call_with_retries(attempt)
