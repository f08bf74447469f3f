from __future__ import annotations

import itertools

import pytest

from events.models import EventType
from order_service.domain.lifecycle import TRANSITIONS, OrderStatus
from order_service.domain.orders import apply_event, place_order
from tests import builders
from tests.unit.order_service.test_orders import ADA, catalogue, request


def _chain(final: str):
    store = catalogue()
    place_order(request(("MUG-001", 2)), ADA, store)
    created = store.outbox[0]
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


def test_every_event_type_has_a_transition_and_targets_are_reachable():
    assert set(TRANSITIONS) == set(EventType)
    for transition in TRANSITIONS.values():
        if transition.to is not None:
            assert transition.to not in transition.allowed_from  # no self-loops: a status is entered once
            assert OrderStatus.CREATED in transition.allowed_from
