"""What DynamoDB does under real concurrency, injected below the store through
botocore's event hooks (the store cannot tell them from AWS's own answers): a
transaction cancelled because another write touched one of its items
(TransactionConflict) is not "transition not allowed"; it is retried, then fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.awsrequest import AWSResponse

from events.aws import client
from tests import builders
from tests.integration.conftest import failed_ids, json_body, load_handler
from tests.integration.order_service.tables import order_count, stock_of

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")
ORDER = {
    "items": [{"sku": "MUG-001", "quantity": 2}],
    "shipping_address": builders.address().model_dump(exclude_none=True),
    "payment_token": "tok_visa",
}


class Conflicts:
    """Cancels the next `times` TransactWriteItems with reason TransactionConflict."""

    def __init__(self) -> None:
        self.times = 0
        self.injected = 0

    def __call__(self, params: dict[str, Any], **_: Any) -> Any:
        if self.times <= 0:
            return None
        self.times -= 1
        self.injected += 1
        items = json.loads(params["body"])["TransactItems"]
        reasons = [{"Code": "TransactionConflict" if i == len(items) - 1 else "None"} for i in range(len(items))]
        error = {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb", 400, {}, None), error


@pytest.fixture
def conflicts(env: dict[str, str]) -> Iterator[Conflicts]:
    injector = Conflicts()
    events = client("dynamodb").meta.events
    events.register_first("before-call.dynamodb.TransactWriteItems", injector)
    yield injector
    events.unregister("before-call.dynamodb.TransactWriteItems", injector)


@pytest.fixture
def consumer(env, monkeypatch):
    return load_handler("order_service.handlers.handle_order_events", env, monkeypatch)


def place(api: Any) -> dict[str, Any]:
    return api.handler(builders.api_event("POST", "/orders", ORDER, claims=ADA), builders.lambda_context())


def test_a_conflict_is_retried_and_the_order_is_placed_once(api, conflicts):
    conflicts.times = 2

    response = place(api)

    assert response["statusCode"] == 201, response["body"]
    assert conflicts.injected == 2
    assert order_count() == 1
    assert stock_of("MUG-001") == 98


def test_conflicts_that_persist_answer_503_with_retry_after_and_write_nothing(api, conflicts):
    conflicts.times = 100

    response = place(api)

    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "STORE_BUSY"
    headers = {**(response.get("headers") or {}), **(response.get("multiValueHeaders") or {})}
    assert "Retry-After" in headers
    assert order_count() == 0
    assert stock_of("MUG-001") == 100


def test_a_conflicted_status_change_fails_the_record_and_its_redelivery_applies_it(
    api, relay, topic, consumer, conflicts
):
    """PAYMENT_FAILED must release the stock and end the order, whichever delivery does it:
    a conflict is not "not allowed", so the event is not recorded as a timeline entry only."""
    assert place(api)["statusCode"] == 201
    relay()
    created = topic.published()[0]
    failed = builders.payment_failed(builders.invoice_created(created))
    deliver = lambda: consumer.handler(builders.sqs_batch(failed), builders.lambda_context("order-status"))  # noqa: E731

    conflicts.times = 100
    with pytest.raises(BatchProcessingError):  # the whole batch failed: SQS delivers it again
        deliver()
    conflicts.times = 0
    assert failed_ids(deliver()) == []

    order = json_body(
        api.handler(
            builders.api_event(
                "GET",
                f"/orders/{created.order_id}",
                claims=ADA,
                resource="/orders/{order_id}",
                path_parameters={"order_id": created.order_id},
            ),
            builders.lambda_context(),
        )
    )
    assert order["status"] == "PAYMENT_FAILED"
    assert [entry["event_type"] for entry in order["timeline"]] == ["PAYMENT_FAILED"]
    assert stock_of("MUG-001") == 100  # released, once
