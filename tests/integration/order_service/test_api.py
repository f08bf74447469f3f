"""The REST handler in-process against moto: DynamoDB transactions, SNS publish."""

from __future__ import annotations

import json

import pytest

from events.models import OrderCreated
from tests import builders
from tests.integration.conftest import json_body, load_handler
from tests.integration.order_service.tables import (
    create_order_tables,
    order_count,
    outbox_size,
    outbox_stream_event,
    stock_of,
)

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")
EVE = builders.customer_claims(sub="cust-eve", email="eve@example.com")


@pytest.fixture
def env(topic):
    return {**create_order_tables({"LAMP-001": 3}), "ORDER_EVENTS_TOPIC_ARN": topic.topic_arn}


@pytest.fixture
def api(env, monkeypatch):
    return load_handler("order_service.handlers.api", env, monkeypatch)


@pytest.fixture
def relay(env, monkeypatch):
    module = load_handler("order_service.handlers.relay_outbox", env, monkeypatch)
    return lambda: module.handler(outbox_stream_event(), builders.lambda_context("outbox-relay"))


def call(api, method, path, body=None, claims=ADA, **kwargs):
    event = builders.api_event(method, path, body, claims=claims, **kwargs)
    return api.handler(event, builders.lambda_context("order-api"))


def place(api, body, claims=ADA):
    return call(api, "POST", "/orders", body, claims=claims)


def body(*items, token="tok_visa", **address):
    return {
        "items": [{"sku": sku, "quantity": qty} for sku, qty in items],
        "shipping_address": builders.address(**address).model_dump(exclude_none=True),
        "payment_token": token,
    }


def test_products_list_the_catalogue_with_stock(api):
    response = call(api, "GET", "/products", claims=None)

    assert response["statusCode"] == 200
    products = {p["sku"]: p for p in json_body(response)["products"]}
    assert products["LAMP-001"] == {
        "sku": "LAMP-001",
        "name": "Desk lamp",
        "price": "49.99",
        "currency": "EUR",
        "stock": 3,
    }


def test_placing_an_order_stores_it_reserves_stock_and_publishes_through_the_outbox(api, relay, topic):
    response = place(api, body(("LAMP-001", 2), ("MUG-001", 1)))
    assert topic.published() == []  # not yet: the relay publishes
    assert outbox_size() == 1
    assert relay()["batchItemFailures"] == []

    assert response["statusCode"] == 201
    order = json_body(response)
    assert order["status"] == "CREATED"
    assert order["total"] == "112.97"
    assert stock_of("LAMP-001") == 1
    assert stock_of("MUG-001") == 99
    [event] = topic.published()
    assert isinstance(event, OrderCreated)
    assert event.order_id == order["order_id"]
    assert event.customer_id == "cust-ada"
    assert event.data.order.customer_email == "ada@example.com"
    assert event.data.payment_token.get_secret_value() == "tok_visa"
    assert outbox_size() == 0


def test_quantity_above_stock_is_409_and_nothing_is_written(api, topic):
    response = place(api, body(("MUG-001", 1), ("LAMP-001", 4)))

    assert response["statusCode"] == 409
    error = json_body(response)["error"]
    assert error["code"] == "OUT_OF_STOCK"
    assert [d["sku"] for d in error["details"]] == ["LAMP-001"]
    assert stock_of("MUG-001") == 100 and stock_of("LAMP-001") == 3
    assert order_count() == 0
    assert outbox_size() == 0


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ('{"items": [', 400, "MALFORMED_JSON"),
        ("", 422, "VALIDATION_ERROR"),
        ("[]", 422, "VALIDATION_ERROR"),
        ("null", 422, "VALIDATION_ERROR"),
        ('{"items": []}', 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", 0))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", -1))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", 1.5))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", 10**9))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("NOPE", 1))), 422, "UNKNOWN_SKU"),
        (
            json.dumps({"items": [{"sku": "MUG-001", "quantity": 1}], "payment_token": "tok_visa"}),
            422,
            "VALIDATION_ERROR",
        ),
        (json.dumps(body(("MUG-001", 1), token="4242424242424242")), 422, "VALIDATION_ERROR"),
    ],
)
def test_bad_input_is_a_clear_4xx_that_writes_nothing(api, topic, raw, status, code):
    response = call(api, "POST", "/orders", raw_body=raw)

    assert response["statusCode"] == status, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == code
    assert error["message"]
    assert order_count() == 0
    assert outbox_size() == 0
    assert stock_of("MUG-001") == 100


def test_validation_errors_say_which_field(api):
    response = place(api, body(("MUG-001", 0)))

    fields = [d["field"] for d in json_body(response)["error"]["details"]]
    assert fields == ["items.0.quantity"]


def test_a_customer_reads_their_order_and_nobody_elses(api):
    order_id = json_body(place(api, body(("MUG-001", 1))))["order_id"]

    mine = call(
        api, "GET", f"/orders/{order_id}", resource="/orders/{order_id}", path_parameters={"order_id": order_id}
    )
    theirs = call(
        api,
        "GET",
        f"/orders/{order_id}",
        claims=EVE,
        resource="/orders/{order_id}",
        path_parameters={"order_id": order_id},
    )

    assert mine["statusCode"] == 200
    assert json_body(mine)["order_id"] == order_id
    assert theirs["statusCode"] == 404
    assert json_body(theirs)["error"]["code"] == "ORDER_NOT_FOUND"


def test_no_identity_claims_is_401(api):
    response = place(api, body(("MUG-001", 1)), claims=None)

    assert response["statusCode"] == 401
    assert order_count() == 0


def test_unknown_route_is_a_json_404(api):
    response = call(api, "GET", "/nothing-here")

    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "NOT_FOUND"


def test_an_idempotency_key_makes_a_retry_return_the_same_order(api):
    headers = {"Idempotency-Key": "retry-me-123"}
    first = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)
    again = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)

    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(again)["order_id"] == json_body(first)["order_id"]
    assert again["multiValueHeaders"]["Idempotent-Replayed"] == ["true"]
    assert "Idempotent-Replayed" not in first["multiValueHeaders"]
    assert order_count() == 1 and outbox_size() == 1
    assert stock_of("LAMP-001") == 1


def test_an_idempotency_key_reused_with_another_body_is_409(api):
    headers = {"Idempotency-Key": "retry-me-123"}
    call(api, "POST", "/orders", body(("LAMP-001", 1)), headers=headers)

    response = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)

    assert response["statusCode"] == 409
    assert json_body(response)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert order_count() == 1 and stock_of("LAMP-001") == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
def test_a_malformed_idempotency_key_is_422(api, key):
    response = call(api, "POST", "/orders", body(("LAMP-001", 1)), headers={"Idempotency-Key": key})

    assert response["statusCode"] == 422
    assert order_count() == 0


def test_a_failed_publish_keeps_the_event_in_the_outbox_until_it_goes_through(api, env, topic, monkeypatch):
    order_id = json_body(place(api, body(("MUG-001", 1))))["order_id"]
    broken = load_handler(
        "order_service.handlers.relay_outbox",
        {**env, "ORDER_EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"},
        monkeypatch,
    )

    stream = outbox_stream_event()
    with pytest.raises(Exception, match="All records failed"):
        broken.handler(stream, builders.lambda_context("outbox-relay"))
    assert outbox_size() == 1 and topic.published() == []

    fixed = load_handler("order_service.handlers.relay_outbox", env, monkeypatch)
    assert fixed.handler(stream, builders.lambda_context("outbox-relay"))["batchItemFailures"] == []
    [event] = topic.published()
    assert event.order_id == order_id
    assert outbox_size() == 0
