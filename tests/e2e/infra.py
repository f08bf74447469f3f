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

from scripts.stack import Stack

CONSUMER_QUEUES = ("InvoiceQueue", "BillingQueue", "ShipmentQueue", "EmailQueue", "OrderStatusQueue")


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
