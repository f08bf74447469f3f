"""Every error the billing domain and its payment providers can raise."""

from __future__ import annotations


class PaymentError(Exception):
    """A charge or refund that did not happen."""


class PaymentDeclined(PaymentError):
    """The provider refused the charge: an answer about the customer's card, final for
    this order (the order ends in PAYMENT_FAILED; a retry would be declined again)."""

    def __init__(self, decline_code: str, message: str) -> None:
        super().__init__(f"{decline_code}: {message}")
        self.decline_code = decline_code
        self.message = message


class RefundRefused(PaymentError):
    """The provider refused the refund (no such charge, more than was charged): a bug
    or a dispute for a human, never retried into a second refund. The SQS record
    fails until it lands in the DLQ, where the alarm sees it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class IdempotencyKeyReused(PaymentError):
    """The same idempotency key came with a different request: a bug, never retried
    into a second charge."""

    def __init__(self, idempotency_key: str) -> None:
        super().__init__(f"idempotency key {idempotency_key} was first used with other parameters")
        self.idempotency_key = idempotency_key


class PaymentNotRecorded(PaymentError):
    """The store refused a write as a conflict yet holds no row for the order."""


class ChargeInProgress(PaymentError):
    """A charge of the order is under way (its row is CHARGING): whether there is
    money to refund is not known yet. Retryable: the SQS record fails and comes
    back after the visibility timeout, when the charge has settled."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"a charge of order {order_id} is in progress; retry later")
        self.order_id = order_id


class PaymentContention(PaymentError):
    """The row kept moving under this handler (more conditional writes lost than a
    row has states). Retryable; not expected to happen."""
