"""Every error the billing domain and its payment providers can raise."""

from __future__ import annotations


class PaymentError(Exception):
    """A charge that did not happen."""


class PaymentDeclined(PaymentError):
    """The provider refused the charge: an answer about the customer's card, final for
    this order (the order ends in PAYMENT_FAILED; a retry would be declined again)."""

    def __init__(self, decline_code: str, message: str) -> None:
        super().__init__(f"{decline_code}: {message}")
        self.decline_code = decline_code
        self.message = message


class IdempotencyKeyReused(PaymentError):
    """The same idempotency key came with a different request: a bug, never retried
    into a second charge."""

    def __init__(self, idempotency_key: str) -> None:
        super().__init__(f"idempotency key {idempotency_key} was first used with other parameters")
        self.idempotency_key = idempotency_key


class PaymentNotRecorded(PaymentError):
    """The store refused the payment as a duplicate yet holds none for the order."""
