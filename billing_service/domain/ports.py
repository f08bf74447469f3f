"""The edges the billing domain needs: a payment provider, the payments table, the
topic. Adapters implement them; tests use in-memory fakes."""

from __future__ import annotations

from typing import Any, Protocol

from billing_service.domain.model import Charge, Payment
from events.models import Event


class PaymentProvider(Protocol):
    def charge(self, amount_cents: int, currency: str, token: str, idempotency_key: str, description: str) -> Charge:
        """Charge the card behind `token`. The same idempotency key returns the same
        result without charging again. Raise PaymentDeclined when the card is refused."""


class PaymentStore(Protocol):
    def get(self, order_id: str) -> Payment | None: ...

    def add(self, payment: Payment) -> bool:
        """Store the order's payment; False (and nothing written) when it has one."""


class Publisher(Protocol):
    def publish(self, event: Event[Any]) -> str: ...
