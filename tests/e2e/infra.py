"""Fault injection into the deployed stack, for the resilience tests.

These reach past the public API on purpose: they reconfigure functions and queues
of the stack the e2e session deployed for itself, and tap the topic, to inject real
faults and observe every event. They run on MiniStack only.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from choreography.catalogue import SUBSCRIPTIONS
from scripts.stack import Stack

# The queues the topic feeds, from the catalogue.
CONSUMER_QUEUES = tuple(consumer.queue for consumer in SUBSCRIPTIONS)


def physical_ids(stack: Stack) -> dict[str, str]:
    return stack.resources()


def queue_url(stack: Stack, logical_id: str) -> str:
    return stack.queue_url(logical_id)


def queue_depth(stack: Stack, url: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def wait_drained(stack: Stack, queues: tuple[str, ...] = CONSUMER_QUEUES, timeout: float = 60) -> None:
    """Wait until every consumer queue is empty (every message processed and deleted)."""
    urls = [queue_url(stack, q) for q in queues]
    assert stack.wait_for(lambda: all(queue_depth(stack, u) == 0 for u in urls), timeout=timeout), {
        q: queue_depth(stack, u) for q, u in zip(queues, urls, strict=True)
    }


@contextlib.contextmanager
def function_env(stack: Stack, logical_id: str, **changes: str) -> Iterator[None]:
    """Run with some environment variables of a deployed function changed."""
    lam = stack.client("lambda")
    name = physical_ids(stack)[logical_id]
    original = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {**original, **changes}})
    _wait_updated(lam, name)
    try:
        yield
    finally:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": original})
        _wait_updated(lam, name)


def _wait_updated(lam: Any, name: str) -> None:
    """Until the update has taken effect (as on AWS, where the old configuration keeps
    serving until LastUpdateStatus is Successful): on MiniStack, a batch invoked while the
    new worker is being set up fails and counts as a receive towards the DLQ."""
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


@contextlib.contextmanager
def visibility_timeout(stack: Stack, seconds: int, queues: tuple[str, ...] = CONSUMER_QUEUES) -> Iterator[None]:
    """Shorter visibility timeouts, so SQS retries (and DLQ moves) happen within a test."""
    sqs = stack.client("sqs")
    urls = [queue_url(stack, q) for q in queues]
    before = {
        url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"][
            "VisibilityTimeout"
        ]
        for url in urls
    }
    for url in urls:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
    try:
        yield
    finally:
        for url, value in before.items():
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": value})


class TopicTap:
    """A queue of the test's own, subscribed to the whole topic: sees every event."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sqs = stack.client("sqs")
        self.sns = stack.client("sns")
        topic = stack.outputs["OrderEventsTopicArn"]
        self.url = self.sqs.create_queue(QueueName=f"e2e-tap-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                }
            ],
        }
        self.sqs.set_queue_attributes(QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)})
        self.subscription = self.sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self.messages: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return self.messages
            for message in batch:
                self.messages.append(message)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def for_order(self, order_id: str) -> list[dict[str, Any]]:
        return [m for m in self.drain() if json.loads(m["Body"]).get("order_id") == order_id]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sns.unsubscribe(SubscriptionArn=self.subscription)
        with contextlib.suppress(Exception):
            self.sqs.delete_queue(QueueUrl=self.url)


def republish(stack: Stack, message: dict[str, Any]) -> None:
    """Publish a tapped message to the topic again, verbatim: body and attributes."""
    attributes = {
        name: {"DataType": value["DataType"], "StringValue": value["StringValue"]}
        for name, value in message.get("MessageAttributes", {}).items()
    }
    stack.client("sns").publish(
        TopicArn=stack.outputs["OrderEventsTopicArn"], Message=message["Body"], MessageAttributes=attributes
    )


def settle(seconds: float = 3) -> None:
    """Give consumers time to do what they should not do (a second effect)."""
    time.sleep(seconds)


def function_logs(stack: Stack, logical_id: str, since_ms: int) -> list[str]:
    """What a deployed function wrote to CloudWatch Logs (/aws/lambda/<name>) since `since_ms`."""
    logs = stack.client("logs")
    group = f"/aws/lambda/{stack.resources()[logical_id]}"
    messages: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return messages  # nothing logged yet
        messages += [event["message"] for event in page.get("events", [])]
        if not page.get("nextToken") or page["nextToken"] == kwargs.get("nextToken"):
            return messages
        kwargs["nextToken"] = page["nextToken"]


def relay_mapping(stack: Stack) -> dict[str, Any]:
    """The outbox relay's stream event source mapping."""
    lam = stack.client("lambda")
    [mapping] = lam.list_event_source_mappings(FunctionName=physical_ids(stack)["OrderOutboxFunction"])[
        "EventSourceMappings"
    ]
    return dict(mapping)


@contextlib.contextmanager
def relay_mapping_changed(stack: Stack, **changes: Any) -> Iterator[dict[str, Any]]:
    """Run with the relay's stream mapping reconfigured (Enabled=False: the relay never
    sees the stream), then put it back as it was."""
    lam = stack.client("lambda")
    mapping = relay_mapping(stack)
    lam.update_event_source_mapping(UUID=mapping["UUID"], **changes)
    try:
        yield mapping
    finally:
        restore = {key: mapping[key] for key in changes if key != "Enabled"}
        if "Enabled" in changes:
            restore["Enabled"] = mapping.get("State", "Enabled") == "Enabled"
        lam.update_event_source_mapping(UUID=mapping["UUID"], **restore)


def sweep_outbox(stack: Stack, **payload: Any) -> dict[str, Any]:
    """Invoke the outbox sweeper now, as an operator would (e.g. older_than_seconds=0)."""
    response = stack.client("lambda").invoke(
        FunctionName=physical_ids(stack)["OrderOutboxSweepFunction"], Payload=json.dumps(payload).encode()
    )
    result = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, result
    return dict(result)


def outbox_order_ids(stack: Stack) -> set[str]:
    items = stack.client("dynamodb").scan(TableName=stack.outputs["OutboxTableName"], ConsistentRead=True)["Items"]
    return {item["order_id"]["S"] for item in items}


@contextlib.contextmanager
def payment_parked_in_the_shipment_dlq(stack: Stack) -> Iterator[Any]:
    """While inside, the shipment function cannot read its table: a PAYMENT_CONFIRMED
    fails five times in a few seconds and waits in the shipment DLQ, the way a backlog
    or a DLQ makes one service's view lag. Yields a wait for it to be parked; on exit the
    function works again (the caller redrives the DLQ when it wants the payment back)."""
    dlq = queue_url(stack, "ShipmentDLQ")
    with (
        visibility_timeout(stack, 1, ("ShipmentQueue",)),
        function_env(stack, "ShipmentFunction", SHIPMENTS_TABLE="no-such-table"),
    ):
        yield lambda: stack.wait_for(lambda: queue_depth(stack, dlq) >= 1, timeout=90)
