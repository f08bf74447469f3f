"""The specification the simulation checks the choreography against, written apart
from the code it checks: which status a set of facts implies, whatever order they
arrived in, and which statuses give the reserved stock back."""

from __future__ import annotations

# Highest first: the first fact present decides the status.
PRIORITY: tuple[tuple[str, str], ...] = (
    ("PAYMENT_REFUNDED", "REFUNDED"),  # money went back: stopped in time, or could not ship
    ("PAYMENT_FAILED", "PAYMENT_FAILED"),
    ("SHIPMENT_ERROR", "SHIPMENT_FAILED"),
    ("SHIPMENT_CANCELLED", "CANCELLED"),  # shipment stopped it before the booking
    ("DELIVERED", "DELIVERED"),
    ("SHIPPED", "SHIPPED"),
    ("ORDER_CANCELLED", "CANCELLING"),  # asked; shipment has not answered yet
    ("PAYMENT_CONFIRMED", "PAID"),
    ("INVOICE_CREATED", "INVOICED"),
)
# Where every order ends once every event is processed: a charge made is kept only for
# goods delivered (SHIPMENT_FAILED and CANCELLING are never final).
FINAL = frozenset({"DELIVERED", "PAYMENT_FAILED", "CANCELLED", "REFUNDED"})
# The goods never left: the reservation goes back on sale.
RELEASING = frozenset({"REFUNDED", "CANCELLED", "PAYMENT_FAILED", "SHIPMENT_FAILED"})


def expected_status(facts: set[str]) -> str:
    for fact, status in PRIORITY:
        if fact in facts:
            return status
    return "CREATED"
