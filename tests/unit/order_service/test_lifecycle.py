from __future__ import annotations

import itertools

import pytest

from events.models import EventType
from order_service.domain.lifecycle import CANCELLABLE, TRANSITIONS, OrderStatus
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


def test_every_status_is_reachable_from_created_and_the_lifecycle_has_no_cycle():
    edges = {(source, t.to) for t in TRANSITIONS.values() if t.to for source in t.allowed_from}
    edges |= {(source, OrderStatus.CANCELLED) for source in CANCELLABLE}  # the API's cancel
    assert set(TRANSITIONS) == set(EventType)

    reachable, frontier = {OrderStatus.CREATED}, [OrderStatus.CREATED]
    while frontier:
        here = frontier.pop()
        for source, target in edges:
            if source == here and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(OrderStatus)

    def leads_back(start, here, seen=()):
        return any(
            target == start or (target not in seen and leads_back(start, target, (*seen, target)))
            for source, target in edges
            if source == here
        )

    assert not any(leads_back(status, status) for status in OrderStatus)
