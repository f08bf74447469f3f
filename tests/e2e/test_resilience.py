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
    outbox_order_ids,
    physical_ids,
    queue_depth,
    queue_url,
    relay_mapping_changed,
    republish,
    settle,
    sweep_outbox,
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
    assert stack.wait_for(lambda: len(tap.for_order(order_id)) >= 3 * len(originals), timeout=30)
    wait_drained(stack)
    settle()
    wait_drained(stack)  # what the replays republished, drained too

    # Billing and shipment answer a replay by announcing their stored outcome again, under
    # the same event id (their rows decide, not an idempotency record): nothing new.
    seen = tap.for_order(order_id)
    ids = [json.loads(m["Body"])["event_id"] for m in seen]
    assert set(ids) == {json.loads(m["Body"])["event_id"] for m in originals}
    assert all(ids.count(event_id) >= 3 for event_id in set(ids))
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


def _order_created(tap: TopicTap, order_id: str) -> list[dict]:
    return [m for m in tap.for_order(order_id) if json.loads(m["Body"])["event_type"] == "ORDER_CREATED"]


def test_the_sweeper_publishes_an_order_whose_stream_record_the_relay_never_processed(stack, customer, tap):
    sku = new_product(stack, stock=5)

    with relay_mapping_changed(stack, Enabled=False):  # the stream record is never processed
        placed = customer.post_order(order_body(sku, quantity=1))
        assert placed.status == 201, placed.body
        order_id = placed.body["order_id"]
        settle(3)
        assert customer.get_order(order_id).body["timeline"] == []
        assert order_id in outbox_order_ids(stack)

        too_young = sweep_outbox(stack)  # the scheduled sweep: the entry is younger than 5 minutes
        assert too_young["older_than_seconds"] == 300 and too_young["waiting"] >= 1
        assert order_id in outbox_order_ids(stack)

        swept = sweep_outbox(stack, older_than_seconds=0)  # the runbook's flush
        assert swept["republished"] >= 1 and swept["failed"] == 0, swept
        assert order_id not in outbox_order_ids(stack)
        assert wait_final(customer, order_id)["status"] == "DELIVERED"
        wait_emails(customer, order_id, EMAILS_DELIVERED)

    # The relay, back, now publishes its stale record too: the same event, which no
    # consumer acts on twice.
    assert stack.wait_for(lambda: len(_order_created(tap, order_id)) == 2, timeout=30), tap.for_order(order_id)
    assert len({json.loads(m["Body"])["event_id"] for m in _order_created(tap, order_id)}) == 1
    wait_drained(stack)
    settle()
    assert len(emails_for(customer, order_id)) == EMAILS_DELIVERED
    assert [entry["event_type"] for entry in customer.get_order(order_id).body["timeline"]] == TIMELINE_DELIVERED
    assert stock_of(stack, sku) == 4


def test_a_record_the_relay_gives_up_on_goes_to_the_on_failure_queue_and_the_sweeper_publishes_it(stack, customer, tap):
    sku = new_product(stack, stock=5)
    failed_queue = queue_url(stack, "OutboxRelayFailedQueue")
    sqs = stack.client("sqs")
    unreachable = "arn:aws:sns:us-east-1:000000000000:no-such-topic"

    # The shortest age AWS allows, so that the relay gives up within the test.
    with (
        relay_mapping_changed(stack, MaximumRecordAgeInSeconds=60),
        function_env(stack, "OrderOutboxFunction", ORDER_EVENTS_TOPIC_ARN=unreachable),
    ):
        placed = customer.post_order(order_body(sku, quantity=1))
        assert placed.status == 201, placed.body
        order_id = placed.body["order_id"]
        reports = stack.wait_for(
            lambda: sqs.receive_message(QueueUrl=failed_queue, MaxNumberOfMessages=10).get("Messages", []),
            timeout=150,
            interval=2,
        )
        assert reports, "the relay never gave up on the record"
        [report] = reports
        record = json.loads(report["Body"])
        outbox = stack.client("dynamodb").describe_table(TableName=stack.outputs["OutboxTableName"])["Table"]
        assert record["DDBStreamBatchInfo"]["streamArn"] == outbox["LatestStreamArn"]  # keys, not the event
        assert record["DDBStreamBatchInfo"]["batchSize"] >= 1
        sqs.delete_message(QueueUrl=failed_queue, ReceiptHandle=report["ReceiptHandle"])
        assert customer.get_order(order_id).body["timeline"] == []
        assert order_id in outbox_order_ids(stack)  # the entry outlives its stream record

    swept = sweep_outbox(stack, older_than_seconds=0)

    assert swept["republished"] >= 1 and swept["failed"] == 0, swept
    assert wait_final(customer, order_id)["status"] == "DELIVERED"
    wait_emails(customer, order_id, EMAILS_DELIVERED)
    settle()
    assert len(_order_created(tap, order_id)) == 1  # the relay moved on: only the sweeper published
    assert queue_depth(stack, failed_queue) == 0


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
