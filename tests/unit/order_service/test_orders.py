from __future__ import annotations

import pytest

from events.models import EventType, OrderCreated
from order_service.domain.commands import Customer, PlaceOrder
from order_service.domain.errors import OrderNotFound, OutOfStock, UnknownProducts
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Product
from order_service.domain.orders import Applied, apply_event, get_customer_order, place_order
from order_service.handlers.mapping import place_order_command
from order_service.models.api import PlaceOrderRequest
from tests import builders
from tests.unit.order_service.fakes import FakeOrderStore

ADA = Customer(customer_id="cust-ada", email="ada@example.com")


def catalogue() -> FakeOrderStore:
    return FakeOrderStore(
        [
            Product(sku="MUG-001", name="Coffee mug", price_cents=1299, currency="EUR", stock=10),
            Product(sku="TEE-001", name="T-shirt", price_cents=1999, currency="EUR", stock=1),
        ]
    )


def request(*items: tuple[str, int], token: str = "tok_visa") -> PlaceOrder:
    """A POST /orders body (with a client price the API drops), as the handler maps it."""
    body = PlaceOrderRequest.model_validate(
        {
            "items": [{"sku": sku, "quantity": qty, "price": "0.01"} for sku, qty in items],
            "shipping_address": builders.address().model_dump(),
            "payment_token": token,
        }
    )
    return place_order_command(body)


def test_order_is_priced_from_the_catalogue_not_the_client():
    store = catalogue()

    order = place_order(request(("MUG-001", 2), ("TEE-001", 1)), ADA, store).order

    assert [(line.sku, line.unit_price_cents, line.line_total_cents) for line in order.lines] == [
        ("MUG-001", 1299, 2598),
        ("TEE-001", 1999, 1999),
    ]
    assert order.total_cents == 4597
    assert order.status is OrderStatus.CREATED
    assert order.customer_id == "cust-ada"


def test_placing_reserves_stock_stores_and_publishes_order_created():
    store = catalogue()

    order = place_order(request(("MUG-001", 3)), ADA, store).order

    assert store.stock("MUG-001") == 7
    assert store.get_order(order.order_id) is not None
    [event] = store.outbox
    assert isinstance(event, OrderCreated)
    assert event.order_id == order.order_id
    assert event.customer_id == "cust-ada"
    assert event.correlation_id == event.event_id
    assert event.causation_id is None
    assert event.data.order.total_cents == 3897
    assert event.data.payment_token.get_secret_value() == "tok_visa"


def test_the_same_sku_twice_is_one_line():
    order = place_order(request(("MUG-001", 1), ("MUG-001", 2)), ADA, catalogue()).order

    assert [(line.sku, line.quantity) for line in order.lines] == [("MUG-001", 3)]


def test_unknown_skus_are_named_and_nothing_happens():
    store = catalogue()

    with pytest.raises(UnknownProducts) as raised:
        place_order(request(("MUG-001", 1), ("NOPE", 1), ("ALSO-NOPE", 1)), ADA, store)

    assert raised.value.skus == ["ALSO-NOPE", "NOPE"]
    assert store.orders == {} and store.outbox == [] and store.stock("MUG-001") == 10


def test_quantity_above_stock_is_out_of_stock_and_nothing_happens():
    store = catalogue()

    with pytest.raises(OutOfStock) as raised:
        place_order(request(("MUG-001", 1), ("TEE-001", 2)), ADA, store)

    assert raised.value.skus == ["TEE-001"]
    assert store.orders == {} and store.outbox == []
    assert store.stock("MUG-001") == 10 and store.stock("TEE-001") == 1


def test_a_customer_reads_only_their_own_orders():
    store = catalogue()
    order = place_order(request(("MUG-001", 1)), ADA, store).order

    assert get_customer_order(order.order_id, "cust-ada", store).order_id == order.order_id
    with pytest.raises(OrderNotFound):
        get_customer_order(order.order_id, "cust-eve", store)
    with pytest.raises(OrderNotFound):
        get_customer_order("missing", "cust-ada", store)


def _placed(token: str = "tok_visa") -> tuple[FakeOrderStore, OrderCreated]:
    store = catalogue()
    place_order(request(("MUG-001", 2), token=token), ADA, store)
    created = store.outbox[0]
    assert isinstance(created, OrderCreated)
    return store, created


def _status(store: FakeOrderStore, event: OrderCreated) -> OrderStatus:
    return store.orders[event.order_id].status


def test_the_happy_chain_moves_the_order_forward_and_keeps_its_facts():
    store, created = _placed()
    invoiced = builders.invoice_created(created)
    paid = builders.payment_confirmed(invoiced)
    shipped = builders.shipped(paid)

    outcomes = [apply_event(e, store) for e in (created, invoiced, paid, shipped)]

    assert outcomes == [Applied.RECORDED] + [Applied.STATUS_CHANGED] * 3
    order = store.orders[created.order_id]
    assert order.status is OrderStatus.SHIPPED
    assert [e.event_type for e in order.timeline] == [
        t.value
        for t in (EventType.ORDER_CREATED, EventType.INVOICE_CREATED, EventType.PAYMENT_CONFIRMED, EventType.SHIPPED)
    ]
    assert order.invoice_number == invoiced.data.invoice_number
    assert order.tracking_number == "SP123456789GB"


def test_a_duplicate_event_changes_nothing():
    store, created = _placed()
    invoiced = builders.invoice_created(created)
    apply_event(invoiced, store)

    assert apply_event(invoiced, store) is Applied.DUPLICATE
    assert apply_event(created, store) is Applied.RECORDED
    assert apply_event(created, store) is Applied.DUPLICATE
    assert len(store.orders[created.order_id].timeline) == 2


def test_a_late_event_is_recorded_but_never_moves_the_order_backwards():
    store, created = _placed()
    invoiced = builders.invoice_created(created)
    paid = builders.payment_confirmed(invoiced)
    apply_event(paid, store)

    assert apply_event(invoiced, store) is Applied.RECORDED
    assert _status(store, created) is OrderStatus.PAID
    assert [e.event_type for e in store.orders[created.order_id].timeline] == ["PAYMENT_CONFIRMED", "INVOICE_CREATED"]


def test_payment_failure_releases_the_reserved_stock_once():
    store, created = _placed(token="tok_chargeDeclined")
    failed = builders.payment_failed(builders.invoice_created(created))
    assert store.stock("MUG-001") == 8

    assert apply_event(failed, store) is Applied.STATUS_CHANGED
    assert apply_event(failed, store) is Applied.DUPLICATE

    assert _status(store, created) is OrderStatus.PAYMENT_FAILED
    assert store.stock("MUG-001") == 10
    assert store.orders[created.order_id].failure_reason == "Your card was declined."


def test_shipment_error_releases_stock_and_a_late_shipped_cannot_undo_it():
    store, created = _placed()
    paid = builders.payment_confirmed(builders.invoice_created(created))
    apply_event(builders.shipment_error(paid), store)

    assert apply_event(builders.shipped(paid), store) is Applied.RECORDED
    assert _status(store, created) is OrderStatus.SHIPMENT_FAILED
    assert store.stock("MUG-001") == 10


def test_an_event_for_an_unknown_order_is_an_error():
    with pytest.raises(OrderNotFound):
        apply_event(builders.order_created(), catalogue())
