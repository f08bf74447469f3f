"""The invoice as the domain sees it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from events.models import Address, OrderLine


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Seller(_Model):
    name: str
    address: str
    vat_id: str


class TaxBreakdown(_Model):
    subtotal_cents: int
    tax_cents: int
    total_cents: int


class Invoice(_Model):
    invoice_number: str
    order_id: str
    issued_on: date
    seller: Seller
    # The order carries one address; it is both where the goods go and who pays.
    bill_to: Address
    ship_to: Address
    lines: list[OrderLine]
    currency: str
    tax_rate: Decimal
    subtotal_cents: int
    tax_cents: int
    total_cents: int

    @property
    def key(self) -> str:
        """Where the invoice as HTML lives in the bucket."""
        return f"invoices/{self.order_id}/{self.invoice_number}.html"

    @property
    def pdf_key(self) -> str:
        """Where the invoice as PDF lives in the bucket (the same for every retry)."""
        return f"invoices/{self.order_id}/{self.invoice_number}.pdf"
