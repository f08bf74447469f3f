"""Handlers in-process against moto: real boto3 calls, emulated AWS."""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from events.models import Event, parse_event


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from events.aws import client

    client.cache_clear()  # clients made under another mock must not leak in
    with mock_aws():
        yield
    client.cache_clear()


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """What the services log (the one Powertools logger), captured for the test."""
    from events.observability import logger

    stream = io.StringIO()
    # The ignore below: Powertools' handler is a StreamHandler
    previous = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    # The ignore below: Powertools' handler is a StreamHandler
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def fault_lines(logs: io.StringIO) -> list[dict[str, Any]]:
    """The log lines of the faults the fault switch injected."""
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    return [line for line in lines if "fault_injected" in line]


def create_idempotency_table(name: str = "idempotency") -> str:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


class TopicSpy:
    """The order-events topic with a queue subscribed to it: reads what was published."""

    def __init__(self) -> None:
        sns = boto3.client("sns")
        sqs = boto3.client("sqs")
        self.topic_arn = sns.create_topic(Name="order-events")["TopicArn"]
        self.queue_url = sqs.create_queue(QueueName="topic-spy")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        self.sqs = sqs

    def published(self) -> list[Event[Any]]:
        events: list[Event[Any]] = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            )
            messages = response.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                event = parse_event(message["Body"])
                assert message["MessageAttributes"]["event_type"]["StringValue"] == event.event_type.value
                events.append(event)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def topic() -> TopicSpy:
    return TopicSpy()


def load_handler(module: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import a handler module afresh under `env`, as a Lambda cold start would."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    sys.modules.pop(module, None)
    return importlib.import_module(module)


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


__all__ = ["TopicSpy", "create_idempotency_table", "failed_ids", "json_body", "load_handler", "os"]
