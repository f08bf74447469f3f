"""Billing's handler with ORDER_CANCELLED and SHIPMENT_ERROR, in-process against moto:
the payments table decides, with conditional writes, between a charge and a refund
of the same order, whatever the order and the repetition of the events."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest

from billing_service.adapters.faulty_provider import FaultyPaymentProvider
from billing_service.domain.refunds import CANCELLED_REASON, SHIPMENT_ERROR_REASON
from events.models import Event, PaymentConfirmed, PaymentRefunded
from events.observability import logger
from fault_injection.injector import FaultInjector
from tests.builders import invoice_created, lambda_context, shipment_error, sqs_batch, sqs_record
from tests.integration.billing_service.payments_table import (
    PAYMENTS_TABLE,
    create_payments_table,
    payment_row,
    payment_rows,
)
from tests.integration.conftest import TopicSpy, failed_ids, load_handler
from tests.unit.billing_service.builders import stopped
from tests.unit.billing_service.fakes import RecordingProvider
from tests.unit.events.fakes import redeliver_until_settled

MODULE = "billing_service.handlers.handle_invoices_and_cancellations"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
OK: dict[str, list[Any]] = {"batchItemFailures": []}


def _instance(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> ModuleType:
    """A cold start of the billing function, on the tables of the first one."""
    existing = boto3.client("dynamodb").list_tables()["TableNames"]
    env = {
        "ORDER_EVENTS_TOPIC_ARN": topic.topic_arn,
        "PAYMENTS_TABLE": PAYMENTS_TABLE if PAYMENTS_TABLE in existing else create_payments_table(),
    }
    return load_handler(MODULE, env, monkeypatch)


@pytest.fixture
def billing(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> ModuleType:
    return _instance(monkeypatch, topic)


@pytest.fixture
def handler(billing: ModuleType) -> Handler:
    return billing.handler


def _names(events: list[Event[Any]]) -> list[str]:
    return [type(event).__name__ for event in events]


def _refunded(events: list[Event[Any]]) -> list[PaymentRefunded]:
    return [event for event in events if isinstance(event, PaymentRefunded)]


# ---------------------------------------------------------------- cancelled before any charge


def test_a_cancellation_before_the_invoice_means_the_invoice_charges_and_publishes_nothing(
    billing: ModuleType, handler: Handler, topic: TopicSpy
) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="CREATED")

    assert handler(sqs_batch(cancel), lambda_context()) == OK
    row = payment_row(invoice.order_id)
    assert row["status"] == {"S": "CANCELLED"}
    assert row["cancel_event_id"] == {"S": cancel.event_id}
    assert "cancelled_at" in row
    assert not {"charge_id", "invoice_event_id", "refund_id"} & set(row)

    assert handler(sqs_batch(invoice), lambda_context()) == OK
    assert handler(sqs_batch(invoice), lambda_context()) == OK  # and again, as SNS may

    assert billing.provider.charges == []
    assert topic.published() == []
    assert payment_rows() == [row]


# ---------------------------------------------------------------- cancelled after the charge


def test_a_cancellation_delivered_three_times_refunds_the_charge_once(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy
) -> None:
    billing = _instance(monkeypatch, topic)
    invoice = invoice_created(payment_token="tok_visa")
    assert billing.handler(sqs_batch(invoice), lambda_context()) == OK
    [confirmed] = topic.published()
    assert isinstance(confirmed, PaymentConfirmed)
    cancel = stopped(invoice)

    # Once, then twice more in one batch, each under its own SQS message id.
    assert billing.handler(sqs_batch(cancel), lambda_context()) == OK
    assert billing.handler(sqs_batch(cancel, cancel), lambda_context()) == OK

    [refund] = billing.provider.refunds
    row = payment_row(invoice.order_id)
    assert row["status"] == {"S": "REFUNDED"}
    assert row["charge_id"] == {"S": confirmed.data.charge_id}
    assert row["refund_id"] == {"S": refund.refund_id}
    assert row["refunded_cents"] == {"N": "4597"}
    assert row["refund_reason"] == {"S": CANCELLED_REASON}
    assert row["refund_event_id"] == {"S": cancel.event_id}
    assert "refunded_at" in row

    published = topic.published()
    assert {event.event_type for event in published} == {"PAYMENT_REFUNDED"}
    # The payments table keeps the effect single; a duplicate is announced again as
    # the same event, which every consumer drops.
    assert {event.event_id for event in published} == {published[0].event_id}
    event = published[0]
    assert isinstance(event, PaymentRefunded)
    assert event.causation_id == cancel.event_id
    assert event.correlation_id == invoice.correlation_id
    assert (event.data.charge_id, event.data.refund_id) == (confirmed.data.charge_id, refund.refund_id)
    assert (event.data.amount_cents, event.data.currency) == (4597, "EUR")
    assert event.data.reason == "the order was cancelled"
    assert event.data.order == invoice.data.order


def test_a_cancellation_during_the_charge_is_retried_and_then_refunds(
    monkeypatch: pytest.MonkeyPatch, billing: ModuleType, topic: TopicSpy
) -> None:
    other = _instance(monkeypatch, topic)  # a second instance of the function, same tables
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="INVOICED")
    responses: list[dict[str, Any]] = []

    neighbour = invoice_created(payment_token="tok_amex")  # another order, in the same batch

    def cancel_arrives_meanwhile() -> None:
        assert payment_row(invoice.order_id)["status"] == {"S": "CHARGING"}
        batch = {"Records": [sqs_record(cancel, message_id="cancel-1"), sqs_record(neighbour, message_id="other")]}
        responses.append(other.handler(batch, lambda_context()))

    monkeypatch.setattr(
        billing, "provider", RecordingProvider(provider=billing.provider, during_charge=cancel_arrives_meanwhile)
    )

    assert billing.handler(sqs_batch(invoice), lambda_context()) == OK

    [response] = responses
    assert failed_ids(response) == ["cancel-1"]  # SQS will deliver it again; its neighbour went through
    assert other.provider.refunds == []
    assert payment_row(neighbour.order_id)["status"] == {"S": "CONFIRMED"}
    assert payment_row(invoice.order_id)["status"] == {"S": "CONFIRMED"}

    batch = {"Records": [sqs_record(cancel, message_id="cancel-1", receive_count=2)]}
    assert other.handler(batch, lambda_context()) == OK

    [charge] = billing.provider.charges
    [refund] = other.provider.refunds
    assert refund.amount_cents == charge.amount_cents
    row = payment_row(invoice.order_id)
    assert (row["status"], row["charge_id"], row["refund_id"]) == (
        {"S": "REFUNDED"},
        {"S": charge.charge_id},
        {"S": refund.refund_id},
    )
    published = topic.published()
    assert sorted((event.order_id == invoice.order_id, type(event).__name__) for event in published) == [
        (False, "PaymentConfirmed"),
        (True, "PaymentConfirmed"),
        (True, "PaymentRefunded"),
    ]


def test_a_cancellation_after_a_failed_payment_does_nothing(handler: Handler, topic: TopicSpy) -> None:
    invoice = invoice_created(payment_token="tok_chargeDeclined")
    handler(sqs_batch(invoice), lambda_context())
    failed_row = payment_row(invoice.order_id)
    assert _names(topic.published()) == ["PaymentFailed"]

    assert handler(sqs_batch(stopped(invoice, previous_status="PAYMENT_FAILED")), lambda_context()) == OK

    assert payment_rows() == [failed_row]
    assert topic.published() == []


@pytest.mark.parametrize("cancel_first", [False, True], ids=["invoice-then-cancel", "cancel-then-invoice"])
def test_an_invoice_and_a_cancellation_in_one_batch_agree_in_either_order(
    billing: ModuleType, handler: Handler, topic: TopicSpy, cancel_first: bool
) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="INVOICED")
    batch = sqs_batch(cancel, invoice) if cancel_first else sqs_batch(invoice, cancel)

    assert handler(batch, lambda_context()) == OK

    row = payment_row(invoice.order_id)
    if cancel_first:  # never charged
        assert row["status"] == {"S": "CANCELLED"}
        assert billing.provider.charges == []
        assert topic.published() == []
    else:  # charged, then refunded
        assert row["status"] == {"S": "REFUNDED"}
        assert len(billing.provider.charges) == len(billing.provider.refunds) == 1
        assert _names(topic.published()) == ["PaymentConfirmed", "PaymentRefunded"]


# ---------------------------------------------------------------- failed shipments


def test_a_shipment_error_after_the_charge_refunds_it_once(
    billing: ModuleType, handler: Handler, topic: TopicSpy
) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    handler(sqs_batch(invoice), lambda_context())
    [confirmed] = topic.published()
    assert isinstance(confirmed, PaymentConfirmed)
    error = shipment_error(confirmed)

    assert handler(sqs_batch(error), lambda_context()) == OK
    assert handler(sqs_batch(error), lambda_context()) == OK

    [refund] = billing.provider.refunds
    row = payment_row(invoice.order_id)
    assert row["status"] == {"S": "REFUNDED"}
    assert row["refund_reason"] == {"S": SHIPMENT_ERROR_REASON}
    assert row["refund_event_id"] == {"S": error.event_id}
    published, again = topic.published()  # the duplicate announces the same refund again
    assert (again.event_id, again.data) == (published.event_id, published.data)
    assert isinstance(published, PaymentRefunded)
    assert published.causation_id == error.event_id
    assert published.data.reason == "we could not ship your order"
    assert (published.data.charge_id, published.data.refund_id) == (confirmed.data.charge_id, refund.refund_id)


def test_a_cancellation_and_a_shipment_error_in_one_batch_refund_once(
    billing: ModuleType, handler: Handler, topic: TopicSpy
) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    handler(sqs_batch(invoice), lambda_context())
    [confirmed] = topic.published()
    assert isinstance(confirmed, PaymentConfirmed)
    cancel, error = stopped(invoice), shipment_error(confirmed)

    assert handler(sqs_batch(error, cancel), lambda_context()) == OK

    assert len(billing.provider.refunds) == 1
    [published] = topic.published()
    assert published.causation_id == error.event_id


# ---------------------------------------------------------------- secrets, logs, faults


@pytest.mark.parametrize("token", ["tok_visa", "tok_mastercard"])
def test_the_token_never_reaches_the_payments_table(handler: Handler, token: str, log: io.StringIO) -> None:
    charged, early = invoice_created(payment_token=token), invoice_created(payment_token=token)
    handler(sqs_batch(charged, stopped(charged)), lambda_context())
    handler(sqs_batch(stopped(early, previous_status="CREATED"), early), lambda_context())

    rows = payment_rows()
    assert {row["status"]["S"] for row in rows} == {"REFUNDED", "CANCELLED"}
    for row in rows:
        assert token not in repr(row)
        assert not any("token" in name for name in row)
    text = log.getvalue()
    assert "order cancellation settled" in text
    assert token not in text
    assert charged.data.order.customer_email not in text
    assert charged.data.order.shipping_address.line1 not in text


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_under_a_moderate_fault_rate_every_cancelled_order_is_refunded_exactly_once(
    billing: ModuleType, handler: Handler, topic: TopicSpy, log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoices = [invoice_created(payment_token=token) for token in ["tok_visa", "tok_amex", "tok_mastercard"] * 3]
    assert handler(sqs_batch(*invoices), lambda_context()) == OK
    topic.published()
    provider = FaultyPaymentProvider(billing.provider, FaultInjector(0.5, rng=random.Random(3), log=logger))
    monkeypatch.setattr(billing, "provider", provider)
    cancels = [stopped(invoice) for invoice in invoices]

    failed_per_receive = redeliver_until_settled(lambda batch: handler(batch, lambda_context()), cancels)

    assert len(failed_per_receive) > 1  # some refunds still failed after the in-process retries
    phases = Counter(
        json.loads(line).get("fault_phase") for line in log.getvalue().splitlines() if "fault_injected" in line
    )
    assert phases["after_effect"] > 0  # some refunds were hidden by timeouts
    rows = {row["order_id"]["S"]: row for row in payment_rows()}
    assert {row["status"]["S"] for row in rows.values()} == {"REFUNDED"}
    assert sorted(refund.refund_id for refund in provider.refunds) == sorted(
        row["refund_id"]["S"] for row in rows.values()
    )
    published = _refunded(topic.published())
    assert Counter(event.causation_id for event in published) == Counter(cancel.event_id for cancel in cancels)
    assert len(provider.charges) == len(provider.refunds) == len(invoices)
