"""The edges the billing domain needs: a payment provider, the payments table (and the
topic: events.publisher.Publisher). Adapters implement them; tests use in-memory fakes."""

from __future__ import annotations

from typing import Protocol

from billing_service.domain.model import Charge, Payment, Refund


class PaymentProvider(Protocol):
    def charge(self, amount_cents: int, currency: str, token: str, idempotency_key: str, description: str) -> Charge:
        """Charge the card behind `token`. The same idempotency key returns the same
        result without charging again. Raise PaymentDeclined when the card is refused."""

    def refund(self, charge_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Refund:
        """Give back `amount_cents` of the charge. The same idempotency key returns the
        same refund without refunding again. Raise RefundRefused when the provider
        refuses it (unknown charge, more than was charged)."""


class PaymentStore(Protocol):
    """One row per order; every write is conditional, so the table is the single
    point where concurrent deliveries of different events agree."""

    def get(self, order_id: str) -> Payment | None:
        """The row as it is now (a strongly consistent read)."""

    def add(self, payment: Payment) -> bool:
        """Store the order's first row; False (and nothing written) when it has one."""

    def replace(self, current: Payment, new: Payment) -> bool:
        """Write `new` over the row only if it is still in `current`'s state
        (Payment.version); False (and nothing written) when it moved on."""
