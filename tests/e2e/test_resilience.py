"""Promises kept under at-least-once delivery and faults, with the faults injected
for real into the stack deployed on MiniStack."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.flows import (
    EMAILS_DELIVERED,
    TIMELINE_DELIVERED,
    emails_for,
    new_product,
    order_body,
    stock_of,
    wait_emails,
    wait_final,
)
from tests.e2e.infra import (
    TopicTap,
    function_env,
    physical_ids,
    queue_depth,
    queue_url,
    republish,
    settle,
    visibility_timeout,
    wait_drained,
)

pytestmark = pytest.mark.usefixtures("needs_inbox")


@pytest.fixture
def tap(stack):
    tap = TopicTap(stack)
    yield tap
    tap.close()


def _stored(stack, table_output: str, order_id: str) -> dict | None:
    physical = physical_ids(stack)[table_output]
    return stack.client("dynamodb").get_item(TableName=physical, Key={"order_id": {"S": order_id}}).get("Item")


def test_replaying_every_event_of_a_finished_order_has_no_second_effect(stack, customer, tap):
    sku = new_product(stack, stock=10)
    order_id = customer.post_order(order_body(sku, quantity=2)).body["order_id"]
    assert wait_final(customer, order_id)["status"] == "DELIVERED"
    wait_emails(customer, order_id, EMAILS_DELIVERED)
    wait_drained(stack)
    originals = tap.for_order(order_id)
    assert sorted(json.loads(m["Body"])["event_type"] for m in originals) == sorted(TIMELINE_DELIVERED)
    before = customer.get_order(order_id).body
    payment = _stored(stack, "PaymentsTable", order_id)
    shipment = _stored(stack, "ShipmentsTable", order_id)

    for _ in range(2):  # every event, twice more, verbatim
        for message in originals:
            republish(stack, message)
    assert stack.wait_for(lambda: len(tap.for_order(order_id)) == 3 * len(originals), timeout=30)
    wait_drained(stack)
    settle()

    seen = tap.for_order(order_id)
    assert len(seen) == 3 * len(originals)  # only what we published: no service announced anything twice
    assert len({json.loads(m["Body"])["event_id"] for m in seen}) == len(originals)
    assert len(emails_for(customer, order_id)) == EMAILS_DELIVERED
    after = customer.get_order(order_id).body
    assert after["status"] == "DELIVERED"
    assert after["timeline"] == before["timeline"]
    assert _stored(stack, "PaymentsTable", order_id) == payment
    assert _stored(stack, "ShipmentsTable", order_id) == shipment
    assert stock_of(stack, sku) == 8


def test_an_order_stored_while_the_topic_is_unreachable_still_ships(stack, customer):
    sku = new_product(stack, stock=5)
    unreachable = "arn:aws:sns:us-east-1:000000000000:no-such-topic"

    with function_env(stack, "OrderOutboxFunction", ORDER_EVENTS_TOPIC_ARN=unreachable):
        placed = customer.post_order(order_body(sku, quantity=1))
        assert placed.status == 201, placed.body
        order_id = placed.body["order_id"]
        settle(4)
        stuck = customer.get_order(order_id).body
        assert stuck["status"] == "CREATED" and stuck["timeline"] == []
        assert emails_for(customer, order_id) == []
        outbox = stack.client("dynamodb").scan(TableName=stack.outputs["OutboxTableName"])["Items"]
        assert order_id in {item["order_id"]["S"] for item in outbox}

    final = wait_final(customer, order_id, timeout=120)
    assert final["status"] == "DELIVERED"
    wait_emails(customer, order_id, EMAILS_DELIVERED)
    settle()
    assert len(emails_for(customer, order_id)) == EMAILS_DELIVERED


def test_a_client_retry_with_the_same_idempotency_key_makes_one_order(stack, customer):
    sku = new_product(stack, stock=5)
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4()}"}
    body = order_body(sku, quantity=2)

    first = stack.request("POST", "/orders", body, token=customer.token, headers=key)
    again = stack.request("POST", "/orders", body, token=customer.token, headers=key)
    other = stack.request("POST", "/orders", order_body(sku, quantity=1), token=customer.token, headers=key)

    assert first.status == again.status == 201, (first.body, again.body)
    assert again.body["order_id"] == first.body["order_id"]
    assert other.status == 409 and other.body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    order_id = first.body["order_id"]
    assert wait_final(customer, order_id)["status"] == "DELIVERED"
    wait_emails(customer, order_id, EMAILS_DELIVERED)
    settle()
    assert len({e.subject for e in customer.emails()}) == EMAILS_DELIVERED  # one order's emails, once each
    assert stock_of(stack, sku) == 3


def test_a_poison_message_fails_alone_lands_in_the_dlqs_and_can_be_redriven(stack, customer, other_customer):
    sku = new_product(stack, stock=10)
    poisoned = ("InvoiceQueue", "EmailQueue", "OrderStatusQueue")  # the ORDER_CREATED subscribers
    dlqs = {q: queue_url(stack, q.replace("Queue", "DLQ")) for q in poisoned}
    marker = f"poison-{uuid.uuid4()}"

    with visibility_timeout(stack, 1, poisoned):
        stack.client("sns").publish(
            TopicArn=stack.outputs["OrderEventsTopicArn"],
            Message=f"this is not an event ({marker})",
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": "ORDER_CREATED"}},
        )
        good = [c.post_order(order_body(sku, quantity=1)).body["order_id"] for c in (customer, other_customer)]
        for who, order_id in zip((customer, other_customer), good, strict=True):
            assert wait_final(who, order_id)["status"] == "DELIVERED"
            wait_emails(who, order_id, EMAILS_DELIVERED)

        def in_dlqs() -> bool:
            return all(queue_depth(stack, url) >= 1 for url in dlqs.values())

        assert stack.wait_for(in_dlqs, timeout=90), {q: queue_depth(stack, u) for q, u in dlqs.items()}

    sqs = stack.client("sqs")
    for queue, url in dlqs.items():
        [message] = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["ApproximateReceiveCount"],
            VisibilityTimeout=0,
        )["Messages"]
        assert marker in message["Body"], queue
    for who, order_id in zip((customer, other_customer), good, strict=True):
        assert len(emails_for(who, order_id)) == EMAILS_DELIVERED

    # The runbook's redrive: the message goes back to its queue (and, still poison, fails again).
    assert stack.redrive("InvoiceDLQ") == 1
    assert queue_depth(stack, dlqs["InvoiceQueue"]) == 0
    assert queue_depth(stack, queue_url(stack, "InvoiceQueue")) == 1
    for url in [*dlqs.values(), queue_url(stack, "InvoiceQueue")]:  # leave no poison for the other tests
        sqs.purge_queue(QueueUrl=url)
