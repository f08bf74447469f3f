"""Bad input, missing identity and other customers' orders: clear 4xx answers that
store nothing, reserve nothing and publish nothing."""

from __future__ import annotations

import time

import pytest

from tests.e2e.flows import new_product, order_body, stock_of


def _without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


BAD_BODIES = {
    "malformed JSON": ('{"items": [', 400, "MALFORMED_JSON"),
    "empty body": ("", 422, "VALIDATION_ERROR"),
    "JSON array": ("[1, 2]", 422, "VALIDATION_ERROR"),
    "JSON string": ('"order"', 422, "VALIDATION_ERROR"),
    "no items": ({"items": []}, 422, "VALIDATION_ERROR"),
    "items missing": ("without-items", 422, "VALIDATION_ERROR"),
    "zero quantity": ({"quantity": 0}, 422, "VALIDATION_ERROR"),
    "negative quantity": ({"quantity": -2}, 422, "VALIDATION_ERROR"),
    "fractional quantity": ({"quantity": 1.5}, 422, "VALIDATION_ERROR"),
    "quantity as string": ({"quantity": "2"}, 422, "VALIDATION_ERROR"),
    "huge quantity": ({"quantity": 10**12}, 422, "VALIDATION_ERROR"),
    "unknown sku": ({"sku": "NOPE-404"}, 409, "UNKNOWN_SKU"),
    "missing address": ("without-address", 422, "VALIDATION_ERROR"),
    "address without city": ("address-without-city", 422, "VALIDATION_ERROR"),
    "missing payment token": ("without-token", 422, "VALIDATION_ERROR"),
}


def _request_body(spec: str | dict, sku: str) -> dict | str:
    body = order_body(sku, quantity=1)
    if isinstance(spec, str) and spec.startswith("without-"):
        key = {"without-items": "items", "without-address": "shipping_address", "without-token": "payment_token"}
        return _without(body, key[spec])
    if spec == "address-without-city":
        body["shipping_address"].pop("city")
        return body
    if isinstance(spec, dict) and "items" in spec:
        return {**body, **spec}
    if isinstance(spec, dict):
        body["items"][0].update(spec)
        return body
    return spec  # a raw body


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_order_is_a_clear_4xx_and_changes_nothing(stack, customer, case):
    spec, status, code = BAD_BODIES[case]
    sku = new_product(stack, stock=5)
    body = _request_body(spec, sku)

    if isinstance(body, str):
        response = stack.request("POST", "/orders", raw_body=body, token=customer.token)
    else:
        response = customer.post_order(body)

    assert response.status == status, response.body
    assert response.body["error"]["code"] == code
    assert response.body["error"]["message"]
    assert stock_of(stack, sku) == 5


def test_rejected_orders_send_no_email(stack, customer, needs_inbox):
    sku = new_product(stack, stock=1)
    for body in ({"items": []}, order_body(sku, quantity=0), order_body("NOPE-1"), order_body(sku, quantity=2)):
        assert 400 <= customer.post_order(body).status < 500
    time.sleep(3)
    assert customer.emails() == []


@pytest.mark.parametrize("token", [None, "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"])
def test_orders_need_a_valid_identity_token(stack, token):
    sku = new_product(stack, stock=5)

    posted = stack.request("POST", "/orders", order_body(sku), token=token)
    read = stack.request("GET", "/orders/some-order", token=token)

    assert posted.status == 401
    assert read.status == 401
    assert stock_of(stack, sku) == 5


def test_a_customer_cannot_read_another_customers_order(stack, customer, other_customer):
    placed = customer.post_order(order_body(new_product(stack, stock=5)))
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]

    theirs = other_customer.get_order(order_id)
    mine = customer.get_order(order_id)

    assert theirs.status == 404
    assert theirs.body["error"]["code"] == "ORDER_NOT_FOUND"
    assert mine.status == 200
    assert mine.body["order_id"] == order_id


def test_unknown_order_is_not_found(customer):
    response = customer.get_order("00000000-0000-0000-0000-000000000000")

    assert response.status == 404
    assert response.body["error"]["code"] == "ORDER_NOT_FOUND"
