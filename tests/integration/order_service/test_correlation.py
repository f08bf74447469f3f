"""One correlation id, end to end: two orders handled by one warm function never share
ids in their log lines (the API, the outbox relay and an SQS consumer, under moto)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from events.models import parse_event
from tests import builders
from tests.integration.conftest import failed_ids, json_body, load_handler

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")
EVE = builders.customer_claims(sub="cust-eve", email="eve@example.com")


def lines(log: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


def invoke(api: Any, event: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    context = builders.lambda_context("order-api")
    return api.handler(event, context), context.aws_request_id, event["requestContext"]["requestId"]


def order_request() -> dict[str, Any]:
    return {
        "items": [{"sku": "MUG-001", "quantity": 1}],
        "shipping_address": builders.address().model_dump(),
        "payment_token": "tok_visa",
    }


def read(order_id: str, claims: dict[str, str]) -> dict[str, Any]:
    return builders.api_event(
        "GET",
        f"/orders/{order_id}",
        claims=claims,
        resource="/orders/{order_id}",
        path_parameters={"order_id": order_id},
    )


@pytest.fixture
def consumer(env, monkeypatch):
    return load_handler("order_service.handlers.handle_order_events", env, monkeypatch)


def test_the_api_logs_each_request_with_its_own_order_and_the_saga_id_of_the_request_that_placed_it(
    api, relay, topic, log
):
    by_invocation: dict[str, str] = {}  # Lambda request id -> what it was

    placed_a, invocation, request_a = invoke(api, builders.api_event("POST", "/orders", order_request(), claims=ADA))
    order_a = json_body(placed_a)["order_id"]
    by_invocation[invocation] = "place A"
    _, invocation, _ = invoke(api, read(order_a, ADA))
    by_invocation[invocation] = "read A"
    placed_b, invocation, request_b = invoke(api, builders.api_event("POST", "/orders", order_request(), claims=EVE))
    order_b = json_body(placed_b)["order_id"]
    by_invocation[invocation] = "place B"
    _, invocation, _ = invoke(api, builders.api_event("GET", "/products", claims=None))
    by_invocation[invocation] = "no order"
    _, invocation, _ = invoke(api, read(order_a, EVE))  # not hers: a 404, and no ids of A
    by_invocation[invocation] = "no order"
    _, invocation, _ = invoke(api, read(order_b, EVE))
    by_invocation[invocation] = "read B"

    expected = {"A": (order_a, request_a), "B": (order_b, request_b), "order": (None, None)}
    seen: dict[str, set[tuple[Any, Any]]] = defaultdict(set)
    for line in lines(log):
        what = by_invocation[line["function_request_id"]]
        seen[what].add((line.get("order_id"), line.get("correlation_id")))
        assert (line.get("order_id"), line.get("correlation_id")) in {expected[what.split()[-1]], (None, None)}, line
    assert seen["place A"] >= {(order_a, request_a)}
    assert seen["read A"] == {(order_a, request_a)}
    assert seen["place B"] >= {(order_b, request_b)}
    assert seen["read B"] == {(order_b, request_b)}
    assert seen["no order"] == {(None, None)}

    # The saga's id is the envelope's correlation_id: the events carry the same ids.
    relay()
    announced = {event.order_id: event.correlation_id for event in topic.published()}
    assert announced == {order_a: request_a, order_b: request_b}


def test_the_relay_and_a_consumer_log_each_record_with_its_own_order(api, relay, consumer, topic, log):
    for claims in (ADA, EVE):
        response = api.handler(
            builders.api_event("POST", "/orders", order_request(), claims=claims), builders.lambda_context()
        )
        assert response["statusCode"] == 201
    log.truncate(0)
    log.seek(0)

    assert relay()["batchItemFailures"] == []  # one batch, both orders
    created_a, created_b = topic.published()
    invoiced_a = builders.invoice_created(created_a)
    # One batch with both orders interleaved and a record that fails (unreadable), then
    # a second invocation of the same warm function.
    broken = builders.sqs_record("not an event")
    batch = {"Records": [builders.sqs_record(created_b), broken, builders.sqs_record(invoiced_a)]}
    assert failed_ids(consumer.handler(batch, builders.lambda_context("order-status"))) == [broken["messageId"]]
    assert failed_ids(consumer.handler(builders.sqs_batch(created_a), builders.lambda_context("order-status"))) == []

    ids = {created_a.order_id: created_a.correlation_id, created_b.order_id: created_b.correlation_id}
    assert created_a.correlation_id != created_b.correlation_id
    by_event = {e.event_id: e for e in (created_a, created_b, invoiced_a)}
    handled = []
    for line in lines(log):
        if line["message"] == "record is not an event":  # logged after order B's record
            assert line["message_id"] == broken["messageId"]
            assert not {"order_id", "correlation_id", "event_id"} & set(line), line
        if "order_id" not in line:
            assert "correlation_id" not in line and "event_id" not in line, line
            continue
        assert ids[line["order_id"]] == line["correlation_id"], line
        if "event_id" in line:
            assert by_event[line["event_id"]].order_id == line["order_id"], line
        if line["message"] == "event handled":
            handled.append((line["event_type"], line["order_id"]))
            assert line["hop_ms"] >= 0 and line["duration_ms"] >= 0
    assert handled == [
        ("ORDER_CREATED", created_b.order_id),
        ("INVOICE_CREATED", created_a.order_id),
        ("ORDER_CREATED", created_a.order_id),
    ]
    relayed = [line for line in lines(log) if line["message"] == "event published"]
    assert [(line["order_id"], line["published_event_type"]) for line in relayed] == [
        (created_a.order_id, "ORDER_CREATED"),
        (created_b.order_id, "ORDER_CREATED"),
    ]


def test_the_first_event_of_a_saga_without_a_request_id_correlates_on_itself():
    event = parse_event(builders.order_created().model_dump_json())
    assert event.correlation_id == event.event_id
