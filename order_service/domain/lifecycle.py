"""The order lifecycle: which event moves an order to which status, from where.

Statuses only move forward: CREATED -> INVOICED -> PAID -> SHIPPED -> DELIVERED, with
PAYMENT_FAILED, CANCELLED and REFUNDED as the other ends (SHIPMENT_FAILED and
CANCELLED become REFUNDED when billing gives the money back). The customer cancels
through the API, which moves the order to CANCELLED itself (releasing its stock in
the same transaction) and announces ORDER_CANCELLED. An event that arrives late or
out of order (PAYMENT_CONFIRMED before INVOICE_CREATED reached us) is recorded in the
timeline but never moves the order backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from events.models import EventType


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    INVOICED = "INVOICED"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    SHIPMENT_FAILED = "SHIPMENT_FAILED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


@dataclass(frozen=True)
class Transition:
    to: OrderStatus | None
    allowed_from: frozenset[OrderStatus] = frozenset()
    releases_stock: bool = False


_S = OrderStatus
# What the customer may still cancel: nothing has left the warehouse.
CANCELLABLE = frozenset({_S.CREATED, _S.INVOICED, _S.PAID})
TRANSITIONS: dict[EventType, Transition] = {
    # The order is stored as CREATED before ORDER_CREATED is published; its arrival
    # only adds the timeline entry.
    EventType.ORDER_CREATED: Transition(to=None),
    EventType.INVOICE_CREATED: Transition(_S.INVOICED, frozenset({_S.CREATED})),
    EventType.PAYMENT_CONFIRMED: Transition(_S.PAID, frozenset({_S.CREATED, _S.INVOICED})),
    EventType.PAYMENT_FAILED: Transition(_S.PAYMENT_FAILED, frozenset({_S.CREATED, _S.INVOICED}), releases_stock=True),
    EventType.SHIPPED: Transition(_S.SHIPPED, frozenset({_S.CREATED, _S.INVOICED, _S.PAID})),
    EventType.SHIPMENT_ERROR: Transition(
        _S.SHIPMENT_FAILED, frozenset({_S.CREATED, _S.INVOICED, _S.PAID}), releases_stock=True
    ),
    # The API already moved the order to CANCELLED when it announced this.
    EventType.ORDER_CANCELLED: Transition(to=None),
    EventType.PAYMENT_REFUNDED: Transition(_S.REFUNDED, frozenset({_S.CANCELLED, _S.SHIPMENT_FAILED})),
    EventType.DELIVERED: Transition(_S.DELIVERED, frozenset({_S.CREATED, _S.INVOICED, _S.PAID, _S.SHIPPED})),
}
