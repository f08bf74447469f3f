"""The outbox sweeper in-process against moto: it publishes what the stream relay never did.

Orders are placed through the API handler, so the entries are the ones production writes
(sealed payment token, queued_at); the relay is not run unless a test says so, as when
its stream records were lost or given up on."""

from __future__ import annotations

import json
import time

import boto3
import pydantic
import pytest

from events.models import OrderCreated
from tests import builders
from tests.integration.conftest import json_body, load_handler
from tests.integration.order_service.tables import outbox_size, outbox_stream_event

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")
SWEEP_AFTER = 300  # the template's OUTBOX_SWEEP_AFTER_SECONDS
MISSING_TOPIC = "arn:aws:sns:us-east-1:123456789012:no-such-topic"


def place_order(api) -> str:
    body = {
        "items": [{"sku": "MUG-001", "quantity": 1}],
        "shipping_address": builders.address().model_dump(exclude_none=True),
        "payment_token": "tok_visa",
    }
    response = api.handler(builders.api_event("POST", "/orders", body, claims=ADA), builders.lambda_context())
    assert response["statusCode"] == 201, response["body"]
    return str(json_body(response)["order_id"])


@pytest.fixture
def sweeper(env, monkeypatch):
    """Runs the sweeper as its schedule does, `after` seconds from now (the clock moved on)."""

    def run(after: float = 0, payload: dict | None = None, **env_changes: str) -> dict:
        module = load_handler("order_service.handlers.sweep_outbox", {**env, **env_changes}, monkeypatch)
        monkeypatch.setattr(module, "clock", lambda: time.time() + after)
        return module.handler(payload if payload is not None else SCHEDULED, builders.lambda_context("outbox-sweep"))

    return run


SCHEDULED = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


def outbox_items() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="outbox")["Items"]


def test_the_sweeper_publishes_an_entry_whose_stream_record_was_never_processed(api, sweeper, topic):
    order_id = place_order(api)
    [entry] = outbox_items()
    assert "queued_at" in entry and "expiration" not in entry  # no TTL can delete it unpublished

    report = sweeper(after=SWEEP_AFTER + 1)

    assert report["republished"] == 1 and report["failed"] == 0 and report["waiting"] == 0
    assert report["oldest_unpublished_seconds"] == 0
    [event] = topic.published()
    assert isinstance(event, OrderCreated)
    assert event.order_id == order_id
    assert event.event_id == entry["event_id"]["S"]
    assert event.data.payment_token.get_secret_value() == "tok_visa"  # unsealed, as the relay does
    assert outbox_size() == 0

    again = sweeper(after=SWEEP_AFTER + 60)
    assert again["republished"] == 0 and topic.published() == []  # once


def test_a_fresh_entry_is_left_to_the_relay(api, sweeper, topic):
    place_order(api)

    report = sweeper(after=SWEEP_AFTER - 10)

    assert report["republished"] == 0 and report["waiting"] == 1
    assert SWEEP_AFTER - 12 <= report["oldest_unpublished_seconds"] < SWEEP_AFTER
    assert topic.published() == []
    assert outbox_size() == 1


def test_a_publish_failure_leaves_the_entry_for_the_next_sweep(api, sweeper, topic, log):
    order_id = place_order(api)

    failed = sweeper(after=900, ORDER_EVENTS_TOPIC_ARN=MISSING_TOPIC)

    assert failed["republished"] == 0 and failed["failed"] == 1
    assert failed["oldest_unpublished_seconds"] >= 900  # what the backlog alarm watches
    assert outbox_size() == 1 and topic.published() == []
    [line] = [json.loads(line) for line in log.getvalue().splitlines() if "not republished" in line]
    assert line["error"] == "NotFoundException(NotFound)" and line["correlation_id"] == order_id

    fixed = sweeper(after=1200)

    assert fixed["republished"] == 1 and fixed["failed"] == 0
    assert [event.order_id for event in topic.published()] == [order_id]
    assert outbox_size() == 0


def test_one_entry_that_fails_does_not_stop_the_others(api, sweeper, topic):
    first, second = place_order(api), place_order(api)
    client = boto3.client("dynamodb")
    broken = next(item for item in outbox_items() if item["order_id"]["S"] == first)
    client.update_item(  # an entry whose event no longer parses
        TableName="outbox",
        Key={"event_id": broken["event_id"]},
        UpdateExpression="SET #e = :e",
        ExpressionAttributeNames={"#e": "event"},
        ExpressionAttributeValues={":e": {"S": "{}"}},
    )

    report = sweeper(after=SWEEP_AFTER + 1)

    assert report["republished"] == 1 and report["failed"] == 1
    assert [event.order_id for event in topic.published()] == [second]
    assert [item["order_id"]["S"] for item in outbox_items()] == [first]


def test_the_relay_and_the_sweeper_racing_publish_one_event_id(api, env, monkeypatch, sweeper, topic):
    """The sweeper publishes first; the relay then gets the stream record of the entry
    (already deleted) and publishes it again, with the same event_id that consumers dedupe on."""
    place_order(api)
    stream = outbox_stream_event()  # the record, as the stream holds it

    assert sweeper(after=SWEEP_AFTER + 1)["republished"] == 1
    relay = load_handler("order_service.handlers.relay_outbox", env, monkeypatch)
    assert relay.handler(stream, builders.lambda_context("outbox-relay"))["batchItemFailures"] == []

    events = topic.published()
    assert len(events) == 2 and len({event.event_id for event in events}) == 1
    assert outbox_size() == 0


def test_an_entry_written_before_queued_at_existed_is_swept_at_once(api, sweeper, topic):
    order_id = place_order(api)
    [entry] = outbox_items()
    legacy = {key: value for key, value in entry.items() if key != "queued_at"}
    legacy["expiration"] = {"N": str(int(time.time()) + 7 * 24 * 3600)}
    boto3.client("dynamodb").put_item(TableName="outbox", Item=legacy)

    assert sweeper(after=0)["republished"] == 1
    assert [event.order_id for event in topic.published()] == [order_id]


def test_a_manual_invocation_sweeps_every_entry_now(api, sweeper, topic):
    order_id = place_order(api)

    report = sweeper(after=0, payload={"older_than_seconds": 0})

    assert report["older_than_seconds"] == 0 and report["republished"] == 1
    assert [event.order_id for event in topic.published()] == [order_id]


def test_a_manual_invocation_with_a_bad_age_is_refused(api, sweeper, topic):
    place_order(api)

    with pytest.raises(pydantic.ValidationError):
        sweeper(after=SWEEP_AFTER + 1, payload={"older_than_seconds": -1})
    assert outbox_size() == 1 and topic.published() == []


class AlmostOutOfTime(builders.LambdaContext):
    def get_remaining_time_in_millis(self) -> int:
        return 4_000


def test_a_sweep_short_of_time_stops_before_publishing_and_leaves_the_rest_to_the_next(api, env, monkeypatch, topic):
    place_order(api)
    module = load_handler("order_service.handlers.sweep_outbox", env, monkeypatch)
    monkeypatch.setattr(module, "clock", lambda: time.time() + SWEEP_AFTER + 1)

    report = module.handler(SCHEDULED, AlmostOutOfTime())

    assert report["stopped_early"] is True and report["republished"] == 0
    assert outbox_size() == 1 and topic.published() == []


def emf_metrics(out: str) -> list[dict]:
    """The EMF blobs Powertools printed: one per invocation."""
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_each_sweep_reports_what_it_republished_and_the_oldest_entry_left(api, sweeper, capsys):
    place_order(api)
    capsys.readouterr()

    sweeper(after=900, ORDER_EVENTS_TOPIC_ARN=MISSING_TOPIC)
    sweeper(after=960)
    sweeper(after=1020)  # an empty outbox reports too: the backlog alarm treats silence as failure

    failing, fixed, empty = emf_metrics(capsys.readouterr().out)
    [declared] = failing["_aws"]["CloudWatchMetrics"]
    assert declared["Namespace"] == "OrderChoreography" and declared["Dimensions"] == [["service"]]
    assert {m["Name"]: m["Unit"] for m in declared["Metrics"]} == {
        "OutboxRepublished": "Count",
        "OutboxRepublishFailed": "Count",
        "OutboxOldestEntryAge": "Seconds",
    }
    assert (failing["OutboxRepublished"], failing["OutboxRepublishFailed"]) == ([0.0], [1.0])
    assert failing["OutboxOldestEntryAge"][0] >= 900
    assert (fixed["OutboxRepublished"], fixed["OutboxRepublishFailed"], fixed["OutboxOldestEntryAge"]) == (
        [1.0],
        [0.0],
        [0.0],
    )
    assert (empty["OutboxRepublished"], empty["OutboxOldestEntryAge"]) == ([0.0], [0.0])
