from __future__ import annotations

import itertools

import pytest

from events.models import EventType, OrderCreated
from order_service.domain.lifecycle import RELEASES_STOCK, STATUS_BY_FACT, OrderStatus, status_of
from order_service.domain.orders import apply_event, place_order
from tests import builders
from tests.unit.order_service.test_orders import ADA, catalogue, request


def _chain(final: str):
    store = catalogue()
    place_order(request(("MUG-001", 2)), ADA, store)
    created = store.outbox[0]
    assert isinstance(created, OrderCreated)
    invoiced = builders.invoice_created(created)
    if final == "PAYMENT_FAILED":
        return store, [created, invoiced, builders.payment_failed(invoiced)]
    paid = builders.payment_confirmed(invoiced)
    last = builders.shipped(paid) if final == "SHIPPED" else builders.shipment_error(paid)
    return store, [created, invoiced, paid, last]


@pytest.mark.parametrize(
    ("final", "status"),
    [
        ("SHIPPED", OrderStatus.SHIPPED),
        ("PAYMENT_FAILED", OrderStatus.PAYMENT_FAILED),
        ("SHIPMENT_ERROR", OrderStatus.SHIPMENT_FAILED),
    ],
)
def test_every_arrival_order_and_duplication_ends_in_the_same_state(final, status):
    """Whatever order SQS delivers a chain in, and however often, the order ends the
    same: right status, every event once in the timeline, stock released at most once."""
    for permutation in itertools.permutations(range(len(_chain(final)[1]))):
        store, events = _chain(final)
        order_id = events[0].order_id
        for index in permutation:
            apply_event(events[index], store)
            apply_event(events[index], store)  # every message may arrive twice

        order = store.orders[order_id]
        assert order.status is status, permutation
        assert sorted(e.event_id for e in order.timeline) == sorted(e.event_id for e in events)
        assert store.stock("MUG-001") == (10 if final != "SHIPPED" else 8)


def test_every_fact_but_the_first_and_the_rejection_decides_a_status():
    decided = {fact for fact, _ in STATUS_BY_FACT}
    assert decided == set(EventType) - {EventType.ORDER_CREATED, EventType.CANCELLATION_REJECTED}
    assert {status for _, status in STATUS_BY_FACT} | {OrderStatus.CREATED} == set(OrderStatus)


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({"ORDER_CREATED"}, OrderStatus.CREATED),
        ({"ORDER_CREATED", "PAYMENT_CONFIRMED"}, OrderStatus.PAID),  # before INVOICE_CREATED reached us
        ({"PAYMENT_CONFIRMED", "ORDER_CANCELLED"}, OrderStatus.CANCELLING),
        ({"PAYMENT_CONFIRMED", "ORDER_CANCELLED", "SHIPMENT_CANCELLED"}, OrderStatus.CANCELLED),
        ({"PAYMENT_CONFIRMED", "ORDER_CANCELLED", "SHIPMENT_CANCELLED", "PAYMENT_REFUNDED"}, OrderStatus.REFUNDED),
        ({"PAYMENT_CONFIRMED", "SHIPPED", "ORDER_CANCELLED", "CANCELLATION_REJECTED"}, OrderStatus.SHIPPED),
        ({"PAYMENT_CONFIRMED", "PAYMENT_REFUNDED", "SHIPMENT_ERROR"}, OrderStatus.REFUNDED),  # refund overtook
        ({"PAYMENT_FAILED", "ORDER_CANCELLED", "SHIPMENT_CANCELLED"}, OrderStatus.PAYMENT_FAILED),
        ({"SHIPPED", "DELIVERED"}, OrderStatus.DELIVERED),
    ],
)
def test_the_status_is_a_function_of_the_facts(facts, status):
    assert status_of(facts) is status
    assert (status in RELEASES_STOCK) == bool(facts & {"PAYMENT_FAILED", "SHIPMENT_ERROR", "SHIPMENT_CANCELLED"})
