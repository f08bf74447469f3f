"""The payment provider over a flaky network, for the fault switch (FAULT_RATE).

The handler wraps the provider in this when FAULT_RATE > 0: throttles and 5xx strike
before the charge, timeouts before it or after it was recorded, the way a real timeout
can hide a success. The client side retries them a couple of times with the same
idempotency key, as Stripe's client does, so a hidden success is answered by the first
charge, never charged twice. Refunds the same.
"""

from __future__ import annotations

from billing_service.domain.model import Charge, Refund
from billing_service.domain.ports import PaymentProvider
from fault_injection.decorator import FaultyDependency


class FaultyPaymentProvider(FaultyDependency[PaymentProvider]):
    OPERATION = "payment_provider.charge"
    REFUND_OPERATION = "payment_provider.refund"

    def charge(self, amount_cents: int, currency: str, token: str, idempotency_key: str, description: str) -> Charge:
        return self._idempotent(
            self.OPERATION, lambda: self.wrapped.charge(amount_cents, currency, token, idempotency_key, description)
        )

    def refund(self, charge_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Refund:
        return self._idempotent(
            self.REFUND_OPERATION, lambda: self.wrapped.refund(charge_id, amount_cents, currency, idempotency_key)
        )
