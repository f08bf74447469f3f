"""Every error the invoice domain can raise."""

from __future__ import annotations


class InvoiceError(Exception):
    """An order that cannot be invoiced as it stands; retrying will not help."""


class InconsistentOrder(InvoiceError):
    def __init__(self, order_id: str, lines_total_cents: int, total_cents: int) -> None:
        super().__init__(f"order {order_id}: its lines add up to {lines_total_cents} cents, its total is {total_cents}")
        self.order_id = order_id
