"""POST /orders with an Idempotency-Key: client retries are safe."""

from __future__ import annotations

import pytest

from order_service.domain.commands import Customer
from order_service.domain.errors import IdempotencyKeyReused, RequestAlreadyRecorded
from order_service.domain.orders import place_order
from tests.unit.order_service.fakes import FakeOrderStore
from tests.unit.order_service.test_orders import ADA, catalogue, request

EVE = Customer(customer_id="cust-eve", email="eve@example.com")


def test_a_retry_with_the_same_key_and_body_returns_the_same_order_once():
    store = catalogue()

    first = place_order(request(("MUG-001", 2)), ADA, store, idempotency_key="key-1")
    again = place_order(request(("MUG-001", 2)), ADA, store, idempotency_key="key-1")

    assert not first.replayed and again.replayed
    assert again.order.order_id == first.order.order_id
    assert len(store.orders) == 1 and len(store.outbox) == 1
    assert store.stock("MUG-001") == 8


def test_a_retry_still_answers_when_stock_ran_out_since():
    store = catalogue()
    first = place_order(request(("TEE-001", 1)), ADA, store, idempotency_key="key-1")
    assert store.stock("TEE-001") == 0

    again = place_order(request(("TEE-001", 1)), ADA, store, idempotency_key="key-1")

    assert again.order.order_id == first.order.order_id


def test_the_same_key_with_another_body_is_refused_and_writes_nothing():
    store = catalogue()
    place_order(request(("MUG-001", 2)), ADA, store, idempotency_key="key-1")

    with pytest.raises(IdempotencyKeyReused):
        place_order(request(("MUG-001", 3)), ADA, store, idempotency_key="key-1")

    assert len(store.orders) == 1 and store.stock("MUG-001") == 8


def test_keys_belong_to_one_customer():
    store = catalogue()

    mine = place_order(request(("MUG-001", 1)), ADA, store, idempotency_key="key-1")
    theirs = place_order(request(("MUG-001", 1)), EVE, store, idempotency_key="key-1")

    assert mine.order.order_id != theirs.order.order_id
    assert not theirs.replayed


def test_without_a_key_every_request_is_a_new_order():
    store = catalogue()

    place_order(request(("MUG-001", 1)), ADA, store)
    place_order(request(("MUG-001", 1)), ADA, store)

    assert len(store.orders) == 2


class RacingStore(FakeOrderStore):
    """A concurrent request with the same key commits between our lookup and our write."""

    def __init__(self) -> None:
        super().__init__(catalogue().list_products())
        self.raced = False

    def create_order(self, order, announcement, request):
        if request is not None and not self.raced:
            self.raced = True
            winner = order.model_copy(update={"order_id": "winner-order"})
            super().create_order(winner, announcement, request.model_copy(update={"order_id": "winner-order"}))
            raise RequestAlreadyRecorded(request.key)
        return super().create_order(order, announcement, request)


def test_losing_a_race_on_the_key_returns_the_winners_order():
    store = RacingStore()

    placed = place_order(request(("MUG-001", 2)), ADA, store, idempotency_key="key-1")

    assert placed.replayed
    assert placed.order.order_id == "winner-order"
    assert len(store.orders) == 1 and store.stock("MUG-001") == 8
