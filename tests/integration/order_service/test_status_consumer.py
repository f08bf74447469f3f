"""The order-status consumer in-process against moto."""

from __future__ import annotations

import pytest

from tests import builders
from tests.integration.conftest import failed_ids, json_body, load_handler
from tests.integration.order_service.tables import stock_of

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")


@pytest.fixture
def consumer(env, monkeypatch):
    return load_handler("order_service.handlers.handle_order_events", env, monkeypatch)


def placed(api, relay, topic, token="tok_visa"):
    body = {
        "items": [{"sku": "MUG-001", "quantity": 2}],
        "shipping_address": builders.address().model_dump(),
        "payment_token": token,
    }
    response = api.handler(builders.api_event("POST", "/orders", body, claims=ADA), builders.lambda_context())
    assert response["statusCode"] == 201
    relay()
    return topic.published()[0]


def read(api, order_id):
    event = builders.api_event(
        "GET", f"/orders/{order_id}", claims=ADA, resource="/orders/{order_id}", path_parameters={"order_id": order_id}
    )
    return json_body(api.handler(event, builders.lambda_context()))


def deliver(consumer, *events):
    return consumer.handler(builders.sqs_batch(*events), builders.lambda_context("order-status"))


def test_the_chain_moves_the_order_to_shipped(api, relay, consumer, topic):
    created = placed(api, relay, topic)
    invoiced = builders.invoice_created(created)
    paid = builders.payment_confirmed(invoiced)
    shipped = builders.shipped(paid)

    assert failed_ids(deliver(consumer, created, invoiced)) == []
    assert failed_ids(deliver(consumer, paid, shipped)) == []

    order = read(api, created.order_id)
    assert order["status"] == "SHIPPED"
    assert [e["event_type"] for e in order["timeline"]] == [
        "ORDER_CREATED",
        "INVOICE_CREATED",
        "PAYMENT_CONFIRMED",
        "SHIPPED",
    ]
    assert order["tracking_number"] == "SP123456789GB"
    assert order["invoice_number"] == invoiced.data.invoice_number


def test_duplicates_and_late_events_never_move_it_backwards(api, relay, consumer, topic):
    created = placed(api, relay, topic)
    invoiced = builders.invoice_created(created)
    paid = builders.payment_confirmed(invoiced)

    deliver(consumer, paid)
    deliver(consumer, invoiced, invoiced, paid)

    order = read(api, created.order_id)
    assert order["status"] == "PAID"
    assert sorted(e["event_type"] for e in order["timeline"]) == ["INVOICE_CREATED", "PAYMENT_CONFIRMED"]


def test_payment_failure_releases_stock_exactly_once(api, relay, consumer, topic):
    created = placed(api, relay, topic, token="tok_chargeDeclined")
    failed = builders.payment_failed(builders.invoice_created(created))
    assert stock_of("MUG-001") == 98

    deliver(consumer, failed)
    deliver(consumer, failed)

    assert read(api, created.order_id)["status"] == "PAYMENT_FAILED"
    assert stock_of("MUG-001") == 100


def test_shipment_error_releases_stock(api, relay, consumer, topic):
    created = placed(api, relay, topic)
    deliver(consumer, builders.shipment_error(builders.payment_confirmed(builders.invoice_created(created))))

    assert read(api, created.order_id)["status"] == "SHIPMENT_FAILED"
    assert stock_of("MUG-001") == 100


def test_a_bad_record_fails_alone(api, relay, consumer, topic):
    created = placed(api, relay, topic)
    batch = builders.sqs_batch("{not json", builders.order_created(), created)

    response = consumer.handler(batch, builders.lambda_context())

    assert failed_ids(response) == [batch["Records"][0]["messageId"], batch["Records"][1]["messageId"]]
    assert [e["event_type"] for e in read(api, created.order_id)["timeline"]] == ["ORDER_CREATED"]
