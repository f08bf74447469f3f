"""The order lifecycle: an order's status is a function of the set of facts (event
types) that reached it, never of the order they arrived in.

SQS delivers out of order, twice, and to two instances at once, and each service's view
lags the others'; so the status is not moved step by step from where it was, but
recomputed from everything seen so far. The highest fact present decides:

    PAYMENT_REFUNDED      -> REFUNDED         (a charge went back: cancelled, or could not ship)
    PAYMENT_FAILED        -> PAYMENT_FAILED
    SHIPMENT_ERROR        -> SHIPMENT_FAILED
    SHIPMENT_CANCELLED    -> CANCELLED        (shipment stopped it before the parcel was booked)
    DELIVERED             -> DELIVERED
    SHIPPED               -> SHIPPED
    ORDER_CANCELLED       -> CANCELLING       (asked to cancel; shipment's verdict not seen yet)
    PAYMENT_CONFIRMED     -> PAID
    INVOICE_CREATED       -> INVOICED
    (only ORDER_CREATED)  -> CREATED

CANCELLATION_REJECTED changes nothing: the parcel had left, the order goes on.
The stock an order reserved goes back on sale once, when its status first becomes
one where the goods never left (RELEASES_STOCK).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from events.models import EventType


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    INVOICED = "INVOICED"
    PAID = "PAID"
    CANCELLING = "CANCELLING"
    SHIPPED = "SHIPPED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    SHIPMENT_FAILED = "SHIPMENT_FAILED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


_S = OrderStatus
_E = EventType
# Highest first: the first fact an order has seen decides its status.
STATUS_BY_FACT: tuple[tuple[EventType, OrderStatus], ...] = (
    (_E.PAYMENT_REFUNDED, _S.REFUNDED),
    (_E.PAYMENT_FAILED, _S.PAYMENT_FAILED),
    (_E.SHIPMENT_ERROR, _S.SHIPMENT_FAILED),
    (_E.SHIPMENT_CANCELLED, _S.CANCELLED),
    (_E.DELIVERED, _S.DELIVERED),
    (_E.SHIPPED, _S.SHIPPED),
    (_E.ORDER_CANCELLED, _S.CANCELLING),
    (_E.PAYMENT_CONFIRMED, _S.PAID),
    (_E.INVOICE_CREATED, _S.INVOICED),
)
# The goods never left the warehouse: the reservation goes back on sale.
RELEASES_STOCK = frozenset({_S.PAYMENT_FAILED, _S.SHIPMENT_FAILED, _S.CANCELLED, _S.REFUNDED})
# What the customer may still ask to cancel, as far as the order service knows.
CANCELLABLE = frozenset({_S.CREATED, _S.INVOICED, _S.PAID})
SHIPPED_ALREADY = frozenset({_S.SHIPPED, _S.DELIVERED})


def status_of(facts: Iterable[str]) -> OrderStatus:
    """The status a set of facts (event type names) implies."""
    seen = set(facts)
    for fact, status in STATUS_BY_FACT:
        if fact.value in seen:
            return status
    return _S.CREATED
