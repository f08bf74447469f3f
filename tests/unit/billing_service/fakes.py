"""In-memory stand-ins for the billing service's edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
from billing_service.domain.model import Charge, Payment
from events.models import Event


@dataclass
class InMemoryPaymentStore:
    rows: dict[str, Payment] = field(default_factory=dict)
    fail_next_add: int = 0  # a throttled or unreachable table
    # Stored just before our own write, as a concurrent delivery would.
    rival: Payment | None = None

    def get(self, order_id: str) -> Payment | None:
        return self.rows.get(order_id)

    def add(self, payment: Payment) -> bool:
        if self.fail_next_add:
            self.fail_next_add -= 1
            raise ConnectionError("dynamodb unavailable")
        if self.rival is not None:
            self.rows[self.rival.order_id], self.rival = self.rival, None
        if payment.order_id in self.rows:
            return False
        self.rows[payment.order_id] = payment
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


@dataclass
class RecordingProvider:
    """The simulated provider, with every call it got."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    provider: SimulatedPaymentProvider = field(default_factory=SimulatedPaymentProvider)

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
        return self.provider.charge(amount_cents, currency, token, idempotency_key, description)
