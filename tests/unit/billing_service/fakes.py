"""In-memory stand-ins for the billing service's edges."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from billing_service.adapters.faulty_provider import FaultyPaymentProvider
from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
from billing_service.domain.model import Charge, Payment, Refund
from events.models import Event


@dataclass
class InMemoryPaymentStore:
    """The payments table: one row per order, conditional writes, atomic (a lock
    stands in for DynamoDB's per-item serialisation), so threads can race on it."""

    rows: dict[str, Payment] = field(default_factory=dict)
    fail_next_add: int = 0  # a throttled or unreachable table
    fail_next_replace: int = 0
    # Fail the next write of a row in this status (a crash just before that write).
    fail_write_of: str | None = None
    # Stored just before our own first write, as a concurrent delivery would.
    rival: Payment | None = None
    writes: list[Payment] = field(default_factory=list)  # every row that was written, in order
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, order_id: str) -> Payment | None:
        with self._lock:
            return self.rows.get(order_id)

    def add(self, payment: Payment) -> bool:
        if self.fail_next_add:
            self.fail_next_add -= 1
            raise ConnectionError("dynamodb unavailable")
        with self._lock:
            self._let_the_rival_in()
            if payment.order_id in self.rows:
                return False
            return self._write(payment)

    def replace(self, current: Payment, new: Payment) -> bool:
        assert current.order_id == new.order_id
        if self.fail_next_replace:
            self.fail_next_replace -= 1
            raise ConnectionError("dynamodb unavailable")
        if self.fail_write_of is not None and new.status == self.fail_write_of:
            self.fail_write_of = None
            raise ConnectionError("dynamodb unavailable")
        with self._lock:
            self._let_the_rival_in()
            stored = self.rows.get(current.order_id)
            if stored is None or stored.version() != current.version():
                return False
            return self._write(new)

    def _let_the_rival_in(self) -> None:
        if self.rival is not None:
            self.rows[self.rival.order_id], self.rival = self.rival, None

    def _write(self, payment: Payment) -> bool:
        self.rows[payment.order_id] = payment
        self.writes.append(payment)
        return True


@dataclass
class RecordingPublisher:
    events: list[Event[Any]] = field(default_factory=list)
    fail_next: int = 0

    def publish(self, event: Event[Any]) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("sns unavailable")
        self.events.append(event)
        return f"msg-{len(self.events)}"

    def of_type(self, event_type: str) -> list[Event[Any]]:
        return [event for event in self.events if event.event_type == event_type]


@dataclass
class RecordingProvider:
    """The simulated provider, with every call it got.

    `during_charge` runs inside a charge, after the provider took it and before it
    answers: what another Lambda instance does meanwhile."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    refund_calls: list[dict[str, Any]] = field(default_factory=list)
    # the simulated provider, or the same behind the fault switch's decorator
    provider: SimulatedPaymentProvider | FaultyPaymentProvider = field(default_factory=SimulatedPaymentProvider)
    during_charge: Callable[[], None] | None = None

    def charge(self, amount_cents: int, currency: str, token: str, idempotency_key: str, description: str) -> Charge:
        self.calls.append(
            {
                "amount_cents": amount_cents,
                "currency": currency,
                "token": token,
                "idempotency_key": idempotency_key,
                "description": description,
            }
        )
        charge = self.provider.charge(amount_cents, currency, token, idempotency_key, description)
        if self.during_charge is not None:
            hook, self.during_charge = self.during_charge, None
            hook()
        return charge

    def refund(self, charge_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Refund:
        self.refund_calls.append(
            {
                "charge_id": charge_id,
                "amount_cents": amount_cents,
                "currency": currency,
                "idempotency_key": idempotency_key,
            }
        )
        return self.provider.refund(charge_id, amount_cents, currency, idempotency_key)

    @property
    def charges(self) -> list[Charge]:
        return self.provider.charges

    @property
    def refunds(self) -> list[Refund]:
        return self.provider.refunds
