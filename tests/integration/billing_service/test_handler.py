from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from events.models import InvoiceCreated, PaymentConfirmed, PaymentFailed
from tests.builders import invoice_created, lambda_context, order_created, sqs_batch, sqs_record
from tests.integration.billing_service.payments_table import PAYMENTS_TABLE, create_payments_table
from tests.integration.conftest import TopicSpy, create_idempotency_table, failed_ids, load_handler

MODULE = "billing_service.handlers.handle_invoice_created"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _load(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, *, idempotency: bool = True) -> Handler:
    env = {"ORDER_EVENTS_TOPIC_ARN": topic.topic_arn, "PAYMENTS_TABLE": create_payments_table()}
    if idempotency:
        env["IDEMPOTENCY_TABLE"] = create_idempotency_table()
    else:
        monkeypatch.delenv("IDEMPOTENCY_TABLE", raising=False)
    return load_handler(MODULE, env, monkeypatch).handler


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> Handler:
    return _load(monkeypatch, topic)


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    from events.observability import logger

    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def _rows() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=PAYMENTS_TABLE)["Items"]


def _row(order_id: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(TableName=PAYMENTS_TABLE, Key={"order_id": {"S": order_id}})
    return item["Item"]


def test_a_good_card_is_charged_recorded_and_confirmed(handler: Handler, topic: TopicSpy) -> None:
    invoice = invoice_created(payment_token="tok_visa")

    response = handler(sqs_batch(invoice), lambda_context())

    assert response == {"batchItemFailures": []}
    row = _row(invoice.order_id)
    assert row["status"] == {"S": "CONFIRMED"}
    assert row["amount_cents"] == {"N": "4597"}
    assert row["currency"] == {"S": "EUR"}
    assert row["charge_id"]["S"].startswith("ch_")
    assert row["invoice_event_id"] == {"S": invoice.event_id}
    assert row["invoice_number"] == {"S": invoice.data.invoice_number}
    assert "created_at" in row
    assert "decline_code" not in row

    [published] = topic.published()
    assert isinstance(published, PaymentConfirmed)
    assert published.causation_id == invoice.event_id
    assert published.correlation_id == invoice.correlation_id
    assert published.data.charge_id == row["charge_id"]["S"]
    assert (published.data.amount_cents, published.data.currency) == (4597, "EUR")
    assert published.data.order == invoice.data.order


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_chargeDeclinedExpiredCard", "expired_card"),
        ("tok_madeUp", "invalid_token"),
    ],
)
def test_a_declined_card_is_recorded_and_announced_as_failed(
    handler: Handler, topic: TopicSpy, token: str, code: str
) -> None:
    invoice = invoice_created(payment_token=token)

    response = handler(sqs_batch(invoice), lambda_context())

    assert response == {"batchItemFailures": []}  # a decline is an outcome, not an error to retry
    row = _row(invoice.order_id)
    assert row["status"] == {"S": "FAILED"}
    assert row["decline_code"] == {"S": code}
    assert "charge_id" not in row
    [published] = topic.published()
    assert isinstance(published, PaymentFailed)
    assert published.causation_id == invoice.event_id
    assert published.data.decline_code == code
    assert published.data.reason == row["reason"]["S"]
    assert (published.data.amount_cents, published.data.currency) == (4597, "EUR")


@pytest.mark.parametrize("token", ["tok_visa", "tok_chargeDeclinedExpiredCard"])
def test_the_token_never_reaches_the_payments_table(handler: Handler, token: str) -> None:
    invoice = invoice_created(payment_token=token)
    handler(sqs_batch(invoice), lambda_context())
    [row] = _rows()
    assert row["order_id"] == {"S": invoice.order_id}
    assert token not in repr(row)
    assert not any("token" in name for name in row)


def test_a_duplicate_delivery_has_no_second_effect(handler: Handler, topic: TopicSpy) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    assert handler(sqs_batch(invoice), lambda_context()) == {"batchItemFailures": []}
    first_row = _row(invoice.order_id)

    # SNS delivers the same event again under a new SQS message id, alone and twice in one batch.
    assert handler(sqs_batch(invoice), lambda_context()) == {"batchItemFailures": []}
    assert handler(sqs_batch(invoice, invoice), lambda_context()) == {"batchItemFailures": []}

    assert len(topic.published()) == 1
    assert _rows() == [first_row]


def test_without_idempotency_a_duplicate_is_neither_charged_nor_stored_twice(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy
) -> None:
    handler = _load(monkeypatch, topic, idempotency=False)
    invoice = invoice_created(payment_token="tok_visa")

    handler(sqs_batch(invoice), lambda_context())
    first_row = _row(invoice.order_id)
    handler(sqs_batch(invoice), lambda_context())

    assert _rows() == [first_row]
    first, second = topic.published()
    assert first.event_id == second.event_id  # republished as the same event: consumers drop it
    assert first.data.charge_id == second.data.charge_id == first_row["charge_id"]["S"]


def test_a_second_invoice_event_for_a_billed_order_is_not_charged(handler: Handler, topic: TopicSpy) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    other = InvoiceCreated.caused_by(order_created(), data=invoice.data).model_copy(
        update={"order_id": invoice.order_id}
    )
    handler(sqs_batch(invoice), lambda_context())
    first_row = _row(invoice.order_id)

    assert handler(sqs_batch(other), lambda_context()) == {"batchItemFailures": []}

    assert _rows() == [first_row]
    assert [event.causation_id for event in topic.published()] == [invoice.event_id]


def test_a_malformed_record_fails_alone(handler: Handler, topic: TopicSpy) -> None:
    good = invoice_created(payment_token="tok_visa")
    batch = {
        "Records": [
            sqs_record("{not json", message_id="malformed"),
            sqs_record(good, message_id="good"),
            sqs_record('{"event_type": "INVOICE_CREATED", "data": {}}', message_id="incomplete"),
        ]
    }

    response = handler(batch, lambda_context())

    assert failed_ids(response) == ["malformed", "incomplete"]
    [published] = topic.published()
    assert published.causation_id == good.event_id
    assert [row["order_id"]["S"] for row in _rows()] == [good.order_id]


def test_the_log_names_the_outcome_but_never_the_token_email_or_address(
    handler: Handler, topic: TopicSpy, log: io.StringIO
) -> None:
    invoice = invoice_created(payment_token="tok_chargeDeclinedInsufficientFunds")

    handler(sqs_batch(invoice), lambda_context())

    text = log.getvalue()
    assert "insufficient_funds" in text
    assert invoice.order_id in text
    assert "tok_chargeDeclinedInsufficientFunds" not in text
    assert invoice.data.order.customer_email not in text
    assert invoice.data.order.shipping_address.line1 not in text
