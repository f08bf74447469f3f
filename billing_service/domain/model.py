"""Charges, refunds and payments as the billing domain sees them.

Nothing here holds the payment token: it is read from the event at the moment of
the charge and goes nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Charge:
    """What the provider answers for a successful charge."""

    charge_id: str
    amount_cents: int
    currency: str
    card_brand: str | None = None


@dataclass(frozen=True)
class Refund:
    """What the provider answers for a successful refund."""

    refund_id: str
    amount_cents: int
    currency: str


class PaymentStatus(StrEnum):
    """Where an order's payment stands. A row only ever moves forward:

        (no row) -> CHARGING -> CONFIRMED -> REFUNDING -> REFUNDED
                             -> FAILED
        (no row) -> CANCELLED            (cancelled before any charge: never charged)

    Every status is entered at most once per order, so "the row is still in the
    status (and owned by the event) I read" is an exact compare-and-swap.
    """

    # Claimed by one INVOICE_CREATED (invoice_event_id) that is calling the provider.
    CHARGING = "CHARGING"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    # The order was cancelled before it was charged; no charge will ever be made.
    CANCELLED = "CANCELLED"
    # Claimed by one ORDER_CANCELLED or SHIPMENT_ERROR (refund_event_id) that is refunding.
    REFUNDING = "REFUNDING"
    REFUNDED = "REFUNDED"


class Payment(BaseModel):
    """The row kept per order in the payments table (key `order_id`)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: PaymentStatus
    amount_cents: int
    currency: str
    charge_id: str | None = None
    card_brand: str | None = None
    decline_code: str | None = None
    reason: str | None = None
    # The INVOICE_CREATED event that was billed; also the charge's idempotency key.
    # None on a row written by a cancellation that came before any invoice.
    invoice_number: str | None = None
    invoice_event_id: str | None = None
    created_at: datetime
    # The ORDER_CANCELLED that came before any charge (status CANCELLED).
    cancel_event_id: str | None = None
    cancelled_at: datetime | None = None
    # The ORDER_CANCELLED or SHIPMENT_ERROR that refunds the charge; also the
    # refund's idempotency key.
    refund_event_id: str | None = None
    refund_reason: str | None = None
    refund_id: str | None = None
    refunded_cents: int | None = None
    refunded_at: datetime | None = None

    def version(self) -> dict[str, str | None]:
        """What identifies the row's state: a write conditioned on these values lands
        only if nobody moved the row since it was read (see PaymentStatus)."""
        return {
            "status": self.status.value,
            "invoice_event_id": self.invoice_event_id,
            "cancel_event_id": self.cancel_event_id,
            "refund_event_id": self.refund_event_id,
        }
