"""Sharded stock: which shard an order takes from, picking again when it is short, the
split line, releases to the shards taken from, and restocks spread over the shards."""

from __future__ import annotations

import random

import pytest

from events.models import OrderCreated
from order_service.domain import stock
from order_service.domain.errors import OutOfStock, StoreBusy
from order_service.domain.model import Product, Reservation
from order_service.domain.orders import apply_event, place_order, set_inventory
from order_service.models.api import MAX_STOCK_SHARDS
from tests import builders
from tests.unit.order_service.fakes import FakeOrderStore
from tests.unit.order_service.test_orders import ADA, request


@pytest.fixture(autouse=True)
def _seeded_picks(monkeypatch):
    monkeypatch.setattr(stock, "choice", random.Random(7))


def sharded(units: int = 16, shards: int = 4) -> FakeOrderStore:
    return FakeOrderStore(
        [
            Product(
                sku="HOT-1", name="Hot", price_cents=500, currency="EUR", stock=units, shards=shards, shard_items=shards
            ),
            Product(sku="MUG-001", name="Coffee mug", price_cents=1299, currency="EUR", stock=10),
        ]
    )


def shards_of(store: FakeOrderStore, sku: str = "HOT-1") -> list[int]:
    return [store.shards[(sku, k)] for k in range(store.products[sku].shard_items)]


def invariant(store: FakeOrderStore, received: int, sku: str = "HOT-1") -> None:
    """Every shard >= 0, and the shards plus what open orders hold is what was received."""
    assert all(units >= 0 for units in shards_of(store, sku))
    held = sum(
        take.quantity
        for order in store.orders.values()
        if not order.stock_released
        for take in order.held_stock()
        if take.sku == sku
    )
    assert sum(shards_of(store, sku)) + held == received


def test_spread_puts_the_total_over_the_shards_and_nothing_above_them():
    assert stock.spread(10, 4, 4) == [3, 3, 2, 2]
    assert stock.spread(2, 4, 4) == [1, 1, 0, 0]
    assert stock.spread(7, 2, 5) == [4, 3, 0, 0, 0]
    assert stock.spread(5, 1, 1) == [5]


def test_repick_takes_one_shard_that_has_it_all_else_splits_over_the_fullest():
    assert stock.repick("S", 3, [1, 3, 0, 5]) in (
        [Reservation(sku="S", shard=1, quantity=3)],
        [Reservation(sku="S", shard=3, quantity=3)],
    )
    assert stock.repick("S", 5, [2, 0, 3, 1]) == [
        Reservation(sku="S", shard=2, quantity=3),
        Reservation(sku="S", shard=0, quantity=2),
    ]
    with pytest.raises(OutOfStock):
        stock.repick("S", 7, [2, 0, 3, 1])


def test_orders_spread_over_the_shards_and_each_records_its_shard():
    store = sharded(units=400, shards=4)

    orders = [place_order(request(("HOT-1", 1)), ADA, store).order for _ in range(40)]

    picked = {order.reservations[0].shard for order in orders}
    assert picked == {0, 1, 2, 3}
    assert all(len(order.reservations) == 1 and order.reservations[0].quantity == 1 for order in orders)
    assert store.shard_reads == []  # no shard was short: no extra read
    invariant(store, 400)


def test_a_short_shard_makes_the_order_read_every_shard_and_take_from_one_that_has_it():
    store = sharded(units=8, shards=4)
    store.shards.update({("HOT-1", 0): 0, ("HOT-1", 1): 0, ("HOT-1", 2): 0, ("HOT-1", 3): 8})

    order = place_order(request(("HOT-1", 3)), ADA, store).order

    assert order.reservations == [Reservation(sku="HOT-1", shard=3, quantity=3)]
    assert shards_of(store) == [0, 0, 0, 5]
    invariant(store, 8)


def test_a_line_no_single_shard_can_serve_is_split_over_shards_in_one_order():
    store = sharded(units=8, shards=4)  # 2 each

    order = place_order(request(("HOT-1", 7), ("MUG-001", 1)), ADA, store).order

    hot = [take for take in order.reservations if take.sku == "HOT-1"]
    assert sum(take.quantity for take in hot) == 7 and len(hot) == 4
    assert len({take.shard for take in hot}) == 4
    assert shards_of(store) == [0, 0, 0, 1]  # the split takes the fullest first, lowest shard first
    assert store.stock("MUG-001") == 9
    invariant(store, 8)


def test_the_sum_of_the_shards_short_is_out_of_stock_and_nothing_is_taken():
    store = sharded(units=8, shards=4)

    with pytest.raises(OutOfStock) as refused:
        place_order(request(("HOT-1", 9), ("MUG-001", 1)), ADA, store)

    assert refused.value.skus == ["HOT-1"]
    assert store.orders == {} and shards_of(store) == [2, 2, 2, 2] and store.stock("MUG-001") == 10


def test_shards_that_change_after_every_read_end_in_store_busy_never_an_oversell():
    store = sharded(units=8, shards=4)
    store.shards.update({("HOT-1", 0): 0, ("HOT-1", 1): 0, ("HOT-1", 2): 0, ("HOT-1", 3): 8})
    reads = 0
    real = store.shard_stocks

    def read_then_restock(skus):
        """Between each read and the write, the stock moves to the next shard (another
        order takes it and a restock puts it elsewhere): the shard picked is always short."""
        nonlocal reads
        reads += 1
        seen = real(skus)
        units = shards_of(store)
        for k in range(4):
            store.shards[("HOT-1", k)] = units[(k - 1) % 4]
        return seen

    store.shard_stocks = read_then_restock

    with pytest.raises(StoreBusy):
        place_order(request(("HOT-1", 7)), ADA, store)
    assert reads == 4 and store.orders == {}
    assert sorted(shards_of(store)) == [0, 0, 0, 8]


def test_a_release_goes_back_to_exactly_the_shards_the_order_took():
    store = sharded(units=8, shards=4)
    placed = place_order(request(("HOT-1", 7)), ADA, store).order
    before = shards_of(store)
    created = store.outbox[0]
    assert isinstance(created, OrderCreated)

    apply_event(builders.payment_failed(builders.invoice_created(created)), store)

    after = shards_of(store)
    for take in placed.reservations:
        assert after[take.shard] - before[take.shard] == take.quantity
    assert after == [2, 2, 2, 2]
    invariant(store, 8)


def test_an_order_placed_before_shards_releases_to_the_product_item():
    store = sharded(units=8, shards=4)
    placed = place_order(request(("HOT-1", 1)), ADA, store).order
    legacy = store.orders[placed.order_id].model_copy(update={"reservations": []})  # as stored before shards
    store.orders[placed.order_id] = legacy
    assert legacy.held_stock() == [Reservation(sku="HOT-1", shard=0, quantity=1)]
    created = store.outbox[0]
    assert isinstance(created, OrderCreated)
    before = shards_of(store)

    apply_event(builders.payment_failed(builders.invoice_created(created)), store)

    assert shards_of(store)[0] == before[0] + 1


def test_restock_spreads_the_total_and_fewer_shards_keep_the_items_above_counted():
    store = sharded(units=8, shards=4)
    placed = place_order(request(("HOT-1", 2)), ADA, store).order
    taken_from = placed.reservations[0].shard

    product = set_inventory("HOT-1", store, 10, shards=2)

    assert product.shards == 2 and product.shard_items == 4 and product.stock == 10
    assert shards_of(store) == [5, 5, 0, 0]
    created = store.outbox[0]
    assert isinstance(created, OrderCreated)
    apply_event(builders.payment_failed(builders.invoice_created(created)), store)
    assert shards_of(store)[taken_from] == (5 if taken_from < 2 else 0) + 2
    assert store.get_products(["HOT-1"])["HOT-1"].stock == 12


def test_a_new_product_takes_its_shards_and_an_existing_one_keeps_them_when_not_given():
    store = sharded()

    assert set_inventory("NEW-1", store, 9, price_cents=100, name="New", shards=3).shards == 3
    assert shards_of(store, "NEW-1") == [3, 3, 3]
    assert set_inventory("NEW-1", store, 4).shards == 3
    assert shards_of(store, "NEW-1") == [2, 1, 1]
    assert set_inventory("MUG-001", store, 4).shards == 1


def test_the_api_allows_as_many_shards_as_one_restock_transaction_can_write():
    assert MAX_STOCK_SHARDS == stock.MAX_SHARDS == 100
