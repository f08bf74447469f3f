"""Cancelling, listing, payment view and inventory, on in-memory fakes."""

from __future__ import annotations

import pytest

from events.models import (
    CancellationRejected,
    CancellationRejectedData,
    OrderCancelled,
    ShipmentCancelled,
    ShipmentCancelledData,
)
from order_service.domain.errors import OrderNotCancellable, OrderNotFound, ProductNotFound
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.orders import apply_event, cancel_order, list_customer_orders, place_order, set_inventory
from order_service.handlers.errors import http_status
from order_service.handlers.mapping import payment_view
from order_service.models.api import PaymentState
from tests import builders
from tests.unit.order_service.test_orders import ADA, catalogue, request


def _placed(store, token="tok_visa"):
    order = place_order(request(("MUG-001", 3), token=token), ADA, store).order
    return order, store.outbox[-1]


def _stopped(cancellation: OrderCancelled) -> ShipmentCancelled:
    return ShipmentCancelled.caused_by(cancellation, data=ShipmentCancelledData(order=cancellation.data.order))


@pytest.mark.parametrize("moves", [0, 1, 2])  # CREATED, INVOICED, PAID
def test_an_order_that_has_not_shipped_is_asked_to_cancel_and_its_stock_waits_for_shipment(moves):
    store = catalogue()
    order, created = _placed(store)
    invoiced = builders.invoice_created(created)
    for event in [invoiced, builders.payment_confirmed(invoiced)][:moves]:
        apply_event(event, store)

    cancellation = cancel_order(order.order_id, "cust-ada", store)

    assert cancellation.order.status is OrderStatus.CANCELLING and not cancellation.already
    assert store.stock("MUG-001") == 7  # the parcel may have left: shipment decides
    announcement = store.outbox[-1]
    assert isinstance(announcement, OrderCancelled)
    assert announcement.correlation_id == created.correlation_id
    assert announcement.data.previous_status == ["CREATED", "INVOICED", "PAID"][moves]

    apply_event(announcement, store)  # its own announcement comes back: nothing new
    apply_event(_stopped(announcement), store)

    assert store.orders[order.order_id].status is OrderStatus.CANCELLED
    assert store.stock("MUG-001") == 10


def test_a_cancellation_shipment_rejects_leaves_the_order_shipped_and_the_stock_sold():
    store = catalogue()
    order, created = _placed(store)
    paid = builders.payment_confirmed(builders.invoice_created(created))
    apply_event(paid, store)
    cancel_order(order.order_id, "cust-ada", store)
    request_ = store.outbox[-1]

    apply_event(builders.shipped(paid), store)
    apply_event(
        CancellationRejected.caused_by(
            request_, data=CancellationRejectedData(order=request_.data.order, reason="it had left")
        ),
        store,
    )

    assert store.orders[order.order_id].status is OrderStatus.SHIPPED
    assert store.stock("MUG-001") == 7


def test_cancelling_twice_is_harmless():
    store = catalogue()
    order, _ = _placed(store)
    cancel_order(order.order_id, "cust-ada", store)

    again = cancel_order(order.order_id, "cust-ada", store)

    assert again.already and again.order.status is OrderStatus.CANCELLING
    assert store.stock("MUG-001") == 7 and len(store.outbox) == 2


def test_a_shipped_order_cannot_be_cancelled():
    store = catalogue()
    order, created = _placed(store)
    apply_event(builders.shipped(builders.payment_confirmed(builders.invoice_created(created))), store)

    with pytest.raises(OrderNotCancellable) as raised:
        cancel_order(order.order_id, "cust-ada", store)

    assert raised.value.code == "ORDER_ALREADY_SHIPPED" and http_status(raised.value) == 409
    assert store.stock("MUG-001") == 7


def test_nobody_cancels_another_customers_order():
    store = catalogue()
    order, _ = _placed(store)

    with pytest.raises(OrderNotFound):
        cancel_order(order.order_id, "cust-eve", store)


def test_a_payment_confirmed_after_the_stop_cannot_revive_the_order_but_shows():
    store = catalogue()
    order, created = _placed(store)
    invoiced = builders.invoice_created(created)
    cancel_order(order.order_id, "cust-ada", store)
    apply_event(_stopped(store.outbox[-1]), store)

    apply_event(builders.payment_confirmed(invoiced), store)
    assert store.orders[order.order_id].status is OrderStatus.CANCELLED
    assert payment_view(store.orders[order.order_id]).state is PaymentState.CONFIRMED
    assert store.stock("MUG-001") == 10  # released once


def test_payment_view_follows_the_events_and_never_shows_the_token():
    store = catalogue()
    order, created = _placed(store)
    assert payment_view(store.orders[order.order_id]).state is PaymentState.PENDING
    paid = builders.payment_confirmed(builders.invoice_created(created))
    apply_event(paid, store)

    view = payment_view(store.orders[order.order_id])

    assert view.state is PaymentState.CONFIRMED and view.charge_id == "ch_test_123"
    assert "tok_" not in view.model_dump_json()


def test_orders_list_newest_first_in_pages():
    store = catalogue()
    placed = [place_order(request(("MUG-001", 1)), ADA, store).order for _ in range(5)]

    first, cursor = list_customer_orders("cust-ada", store, 2, None)
    second, cursor2 = list_customer_orders("cust-ada", store, 2, cursor)
    third, end = list_customer_orders("cust-ada", store, 2, cursor2)

    newest_first = [o.order_id for o in sorted(placed, key=lambda o: o.created_at, reverse=True)]
    assert [o.order_id for o in first + second + third] == newest_first
    assert end is None
    assert list_customer_orders("cust-eve", store, 2, None) == ([], None)


def test_inventory_sets_stock_and_price_and_a_new_sku_needs_both():
    store = catalogue()

    product = set_inventory("MUG-001", store, 42, price_cents=1500)
    assert (product.stock, product.price_cents) == (42, 1500)
    with pytest.raises(ProductNotFound):
        set_inventory("NEW-1", store, 5)
    assert set_inventory("NEW-1", store, 5, price_cents=100, name="New").stock == 5
