"""Charges and payments as the billing domain sees them.

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


class PaymentStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"


class Payment(BaseModel):
    """The row kept per order in the payments table."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: PaymentStatus
    amount_cents: int
    currency: str
    charge_id: str | None = None
    card_brand: str | None = None
    decline_code: str | None = None
    reason: str | None = None
    invoice_number: str
    # The INVOICE_CREATED event that was billed; also the charge's idempotency key.
    invoice_event_id: str
    created_at: datetime
