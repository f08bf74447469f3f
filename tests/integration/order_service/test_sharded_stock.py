"""Sharded stock through the REST handler and the order-status consumer, against moto:
the products table's items as template.yaml shapes them."""

from __future__ import annotations

import random

import boto3
import pytest

from order_service.domain import stock
from tests import builders
from tests.integration.conftest import json_body, load_handler
from tests.integration.order_service.tables import order_count, stock_of

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")
ADMIN = {**builders.customer_claims(sub="cust-root", email="root@example.com"), "cognito:groups": "[admin]"}


class FirstShard(random.Random):
    """Picks shard 0 first and the first shard of those that have enough: the test decides
    which shard is short."""

    def randrange(self, *_args, **_kwargs):
        return 0

    def choice(self, seq):
        return seq[0]


@pytest.fixture(autouse=True)
def _first_shard(monkeypatch):
    monkeypatch.setattr(stock, "choice", FirstShard())


@pytest.fixture
def consumer(env, monkeypatch):
    return load_handler("order_service.handlers.handle_order_events", env, monkeypatch)


def call(api, method, path, body=None, claims=ADA, **kwargs):
    return api.handler(builders.api_event(method, path, body, claims=claims, **kwargs), builders.lambda_context())


def put_inventory(api, sku, body, claims=ADMIN):
    return call(
        api, "PUT", f"/inventory/{sku}", body, claims=claims, resource="/inventory/{sku}", path_parameters={"sku": sku}
    )


def order(api, *items):
    body = {
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items],
        "shipping_address": builders.address().model_dump(exclude_none=True),
        "payment_token": "tok_visa",
    }
    return call(api, "POST", "/orders", body)


def shards(sku: str, count: int) -> list[int]:
    return [stock_of(sku if k == 0 else f"{sku}#{k}") for k in range(count)]


def set_shards(sku: str, units: list[int]) -> None:
    ddb = boto3.client("dynamodb")
    for k, value in enumerate(units):
        ddb.update_item(
            TableName="products",
            Key={"sku": {"S": sku if k == 0 else f"{sku}#{k}"}},
            UpdateExpression="SET stock = :s",
            ExpressionAttributeValues={":s": {"N": str(value)}},
        )


def stored_reservations(order_id: str) -> list[tuple[str, int, int]]:
    item = boto3.client("dynamodb").get_item(TableName="orders", Key={"order_id": {"S": order_id}})["Item"]
    return [
        (r["M"]["sku"]["S"], int(r["M"]["shard"]["N"]), int(r["M"]["quantity"]["N"]))
        for r in item.get("reservations", {}).get("L", [])
    ]


def listed_stock(api, sku: str) -> int:
    products = json_body(call(api, "GET", "/products", claims=None))["products"]
    return next(p["stock"] for p in products if p["sku"] == sku)


def one_product(api, sku: str):
    return call(api, "GET", f"/products/{sku}", claims=None, resource="/products/{sku}", path_parameters={"sku": sku})


@pytest.fixture
def hot(api):
    """A new product whose 8 units are spread over 4 shards."""
    created = put_inventory(api, "HOT-1", {"stock": 8, "shards": 4, "name": "Hot item", "price": "5.00"})
    assert created["statusCode"] == 200, created
    return "HOT-1"


def test_a_restock_spreads_the_total_over_the_shards_and_reads_show_the_sum(api, hot):
    assert shards(hot, 4) == [2, 2, 2, 2]
    assert listed_stock(api, hot) == 8
    assert json_body(one_product(api, hot)) == {
        "sku": hot,
        "name": "Hot item",
        "price": "5.00",
        "currency": "EUR",
        "stock": 8,
    }
    listed = [p["sku"] for p in json_body(call(api, "GET", "/products", claims=None))["products"]]
    assert not any("#" in sku for sku in listed)  # shard items are no products

    again = put_inventory(api, hot, {"stock": 11})  # the shard count is kept
    assert json_body(again)["stock"] == 11 and shards(hot, 4) == [3, 3, 3, 2]


def test_an_order_on_a_short_shard_reads_them_all_and_takes_from_one_that_has_it(api, hot):
    set_shards(hot, [0, 1, 5, 2])

    placed = order(api, (hot, 3))

    assert placed["statusCode"] == 201, placed
    assert stored_reservations(json_body(placed)["order_id"]) == [(hot, 2, 3)]
    assert shards(hot, 4) == [0, 1, 2, 2]


def test_a_line_no_shard_can_serve_alone_is_split_and_a_short_sum_is_out_of_stock(api, hot):
    refused = order(api, (hot, 9))
    assert refused["statusCode"] == 409 and json_body(refused)["error"]["code"] == "OUT_OF_STOCK"
    assert order_count() == 0 and shards(hot, 4) == [2, 2, 2, 2]

    placed = order(api, (hot, 7), ("MUG-001", 1))

    assert placed["statusCode"] == 201, placed
    taken = stored_reservations(json_body(placed)["order_id"])
    assert sorted(taken) == [(hot, 0, 2), (hot, 1, 2), (hot, 2, 2), (hot, 3, 1), ("MUG-001", 0, 1)]
    assert shards(hot, 4) == [0, 0, 0, 1] and listed_stock(api, hot) == 1


def test_a_release_puts_the_units_back_on_the_shards_they_came_from(api, relay, topic, consumer, hot):
    set_shards(hot, [0, 3, 1, 4])
    placed = order(api, (hot, 5))
    assert placed["statusCode"] == 201, placed
    assert sorted(stored_reservations(json_body(placed)["order_id"])) == [(hot, 1, 1), (hot, 3, 4)]
    assert shards(hot, 4) == [0, 2, 1, 0]
    relay()
    created = topic.published()[0]

    failed = builders.payment_failed(builders.invoice_created(created))
    consumer.handler(builders.sqs_batch(failed), builders.lambda_context("order-status"))

    assert shards(hot, 4) == [0, 3, 1, 4]


def test_fewer_shards_keep_the_items_above_counted_for_the_units_orders_hold(api, relay, topic, consumer, hot):
    set_shards(hot, [0, 0, 0, 8])
    placed = order(api, (hot, 2))
    assert stored_reservations(json_body(placed)["order_id"]) == [(hot, 3, 2)]

    assert json_body(put_inventory(api, hot, {"stock": 4, "shards": 2}))["stock"] == 4
    assert shards(hot, 4) == [2, 2, 0, 0]
    relay()
    failed = builders.payment_failed(builders.invoice_created(topic.published()[0]))
    consumer.handler(builders.sqs_batch(failed), builders.lambda_context("order-status"))

    assert shards(hot, 4) == [2, 2, 0, 2]
    assert listed_stock(api, hot) == 6 and json_body(one_product(api, hot))["stock"] == 6


def test_a_product_stored_before_shards_is_one_shard_and_its_old_orders_release_to_it(api, relay, topic, consumer):
    placed = order(api, ("LAMP-001", 2))  # LAMP-001 has no `shards`: seeded as before
    assert placed["statusCode"] == 201
    order_id = json_body(placed)["order_id"]
    assert stored_reservations(order_id) == [("LAMP-001", 0, 2)]
    assert stock_of("LAMP-001") == 1
    boto3.client("dynamodb").update_item(  # as an order placed before shards was stored
        TableName="orders", Key={"order_id": {"S": order_id}}, UpdateExpression="REMOVE reservations"
    )
    relay()
    failed = builders.payment_failed(builders.invoice_created(topic.published()[0]))
    consumer.handler(builders.sqs_batch(failed), builders.lambda_context("order-status"))

    assert stock_of("LAMP-001") == 3
    assert order(api, ("LAMP-001", 4))["statusCode"] == 409
    assert put_inventory(api, "LAMP-001", {"stock": 6})["statusCode"] == 200 and stock_of("LAMP-001") == 6


def test_a_shard_key_is_no_product_and_no_shard_overwrites_a_product(api, hot):
    # No route takes a `#` in its path (Powertools' path parameters): 404 before any store.
    assert one_product(api, f"{hot}#1")["statusCode"] == 404
    assert put_inventory(api, f"{hot}#1", {"stock": 5, "name": "Sneaky", "price": "1.00"})["statusCode"] == 404
    assert json_body(order(api, (f"{hot}#1", 1)))["error"]["code"] == "UNKNOWN_SKU"
    assert shards(hot, 4) == [2, 2, 2, 2]

    # A product seeded straight into the table may be named like another one's shard.
    assert put_inventory(api, "PLAIN", {"stock": 4, "name": "Plain", "price": "1.00"})["statusCode"] == 200
    boto3.client("dynamodb").put_item(
        TableName="products",
        Item={
            "sku": {"S": "PLAIN#1"},
            "name": {"S": "Also a product"},
            "price_cents": {"N": "100"},
            "currency": {"S": "EUR"},
            "stock": {"N": "7"},
        },
    )
    clash = put_inventory(api, "PLAIN", {"stock": 4, "shards": 2})
    assert clash["statusCode"] == 409, clash
    assert json_body(clash)["error"]["code"] == "SKU_RESERVED"
    assert stock_of("PLAIN") == 4 and stock_of("PLAIN#1") == 7 and listed_stock(api, "PLAIN#1") == 7


@pytest.mark.parametrize("shards_asked", [0, 101, "4", 2.5])
def test_a_shard_count_outside_1_to_100_is_422(api, shards_asked):
    answer = put_inventory(api, "MUG-001", {"stock": 4, "shards": shards_asked})
    assert answer["statusCode"] == 422 and json_body(answer)["error"]["code"] == "VALIDATION_ERROR"
