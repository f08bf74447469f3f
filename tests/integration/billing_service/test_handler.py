from __future__ import annotations

import io
import json
import random
from collections import Counter
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from billing_service.adapters.faulty_provider import FaultyPaymentProvider
from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
from events.models import InvoiceCreated, PaymentConfirmed, PaymentFailed
from events.observability import logger
from events.retries import DependencyThrottled
from fault_injection.injector import FaultInjector, FaultKind
from tests.builders import invoice_created, lambda_context, order_created, sqs_batch, sqs_record
from tests.integration.billing_service.payments_table import (
    create_payments_table,
    payment_row,
    payment_rows,
)
from tests.integration.conftest import TopicSpy, failed_ids, load_handler
from tests.unit.events.fakes import redeliver_until_settled

MODULE = "billing_service.handlers.handle_invoices_and_cancellations"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _load_module(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> ModuleType:
    # No idempotency table: billing is idempotent by its payments rows alone.
    monkeypatch.delenv("IDEMPOTENCY_TABLE", raising=False)
    env = {"ORDER_EVENTS_TOPIC_ARN": topic.topic_arn, "PAYMENTS_TABLE": create_payments_table()}
    return load_handler(MODULE, env, monkeypatch)


def _load(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> Handler:
    return _load_module(monkeypatch, topic).handler


@pytest.fixture
def billing(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> ModuleType:
    return _load_module(monkeypatch, topic)


@pytest.fixture
def handler(billing: ModuleType) -> Handler:
    return billing.handler


def test_a_good_card_is_charged_recorded_and_confirmed(handler: Handler, topic: TopicSpy) -> None:
    invoice = invoice_created(payment_token="tok_visa")

    response = handler(sqs_batch(invoice), lambda_context())

    assert response == {"batchItemFailures": []}
    row = payment_row(invoice.order_id)
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
    row = payment_row(invoice.order_id)
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
    [row] = payment_rows()
    assert row["order_id"] == {"S": invoice.order_id}
    assert token not in repr(row)
    assert not any("token" in name for name in row)


def test_a_duplicate_delivery_is_neither_charged_nor_stored_twice_and_is_announced_as_the_same_event(
    handler: Handler, billing: ModuleType, topic: TopicSpy
) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    assert handler(sqs_batch(invoice), lambda_context()) == {"batchItemFailures": []}
    first_row = payment_row(invoice.order_id)

    # SNS delivers the same event again under a new SQS message id, alone and twice in one batch.
    assert handler(sqs_batch(invoice), lambda_context()) == {"batchItemFailures": []}
    assert handler(sqs_batch(invoice, invoice), lambda_context()) == {"batchItemFailures": []}

    assert len(billing.provider.charges) == 1
    assert payment_rows() == [first_row]
    # Each replay announces the stored outcome again, as the same event: consumers drop it.
    published = topic.published()
    assert len(published) == 4
    assert {event.event_id for event in published} == {published[0].event_id}
    assert {event.data.charge_id for event in published} == {first_row["charge_id"]["S"]}


def test_a_second_invoice_event_for_a_billed_order_is_not_charged(handler: Handler, topic: TopicSpy) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    other = InvoiceCreated.caused_by(order_created(), data=invoice.data).model_copy(
        update={"order_id": invoice.order_id}
    )
    handler(sqs_batch(invoice), lambda_context())
    first_row = payment_row(invoice.order_id)

    assert handler(sqs_batch(other), lambda_context()) == {"batchItemFailures": []}

    assert payment_rows() == [first_row]
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
    assert [row["order_id"]["S"] for row in payment_rows()] == [good.order_id]


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


# ---------------------------------------------------------------- under the fault switch


def _fault_lines(log: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    return [line for line in lines if "fault_injected" in line]


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_with_every_charge_faulty_the_records_fail_and_the_retry_after_recovery_charges_once(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, log: io.StringIO
) -> None:
    monkeypatch.setenv("FAULT_RATE", "1")
    monkeypatch.delenv("FAULT_KINDS", raising=False)
    module = _load_module(monkeypatch, topic)
    invoices = [invoice_created(payment_token="tok_visa"), invoice_created(payment_token="tok_amex")]
    batch = sqs_batch(*invoices)

    # Both records failed: Powertools fails the whole invocation, SQS retries both.
    with pytest.raises(BatchProcessingError):
        module.handler(batch, lambda_context())

    # Each order's row is claimed (CHARGING, before the provider was called) and holds
    # no outcome: only the retry of that same invoice event can settle it.
    claims = {row["order_id"]["S"]: row for row in payment_rows()}
    assert set(claims) == {invoice.order_id for invoice in invoices}
    assert {row["status"]["S"] for row in claims.values()} == {"CHARGING"}
    assert not any("charge_id" in row for row in claims.values())
    assert topic.published() == []
    faults = _fault_lines(log)
    assert len(faults) == module.provider.faults.injected == 6  # 2 records x (1 attempt + 2 retries)
    assert {line["operation"] for line in faults} == {"payment_provider.charge"}
    assert {(line["order_id"], line["correlation_id"]) for line in faults} == {
        (invoice.order_id, invoice.correlation_id) for invoice in invoices
    }
    text = log.getvalue()
    for invoice in invoices:
        assert invoice.data.payment_token.get_secret_value() not in text
        assert invoice.data.order.customer_email not in text
    # Timeouts may have hidden charges; never more than one per invoice.
    hidden = {charge.charge_id for charge in module.provider.charges}
    assert len(hidden) <= 2

    module.provider.faults = FaultInjector(0.0)  # the provider recovers
    assert module.handler(batch, lambda_context()) == {"batchItemFailures": []}

    rows = {row["order_id"]["S"]: row for row in payment_rows()}
    assert set(rows) == {invoice.order_id for invoice in invoices}
    charge_ids = {row["charge_id"]["S"] for row in rows.values()}
    assert {charge.charge_id for charge in module.provider.charges} == charge_ids
    assert hidden <= charge_ids
    published = topic.published()
    assert sorted(str(event.causation_id) for event in published) == sorted(invoice.event_id for invoice in invoices)
    assert all(isinstance(event, PaymentConfirmed) for event in published)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_charge_hidden_by_a_timeout_is_the_one_recorded_and_announced(
    billing: ModuleType, handler: Handler, topic: TopicSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = FaultyPaymentProvider(
        billing.provider, FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0, log=logger)
    )
    monkeypatch.setattr(billing, "provider", provider)
    invoice = invoice_created(payment_token="tok_visa")

    with pytest.raises(BatchProcessingError):
        handler(sqs_batch(invoice), lambda_context())
    [hidden] = provider.charges  # the provider charged; billing never heard
    [claim] = payment_rows()
    assert claim["status"] == {"S": "CHARGING"}
    assert "charge_id" not in claim
    assert topic.published() == []

    provider.faults = FaultInjector(0.0)
    assert handler(sqs_batch(invoice), lambda_context()) == {"batchItemFailures": []}

    assert provider.charges == [hidden]
    assert payment_row(invoice.order_id)["charge_id"] == {"S": hidden.charge_id}
    [published] = topic.published()
    assert isinstance(published, PaymentConfirmed)
    assert published.data.charge_id == hidden.charge_id


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_under_a_moderate_fault_rate_sqs_redelivery_bills_every_invoice_exactly_once(
    billing: ModuleType, handler: Handler, topic: TopicSpy, log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = FaultyPaymentProvider(billing.provider, FaultInjector(0.5, rng=random.Random(20261121), log=logger))
    monkeypatch.setattr(billing, "provider", provider)
    tokens = ["tok_visa", "tok_mastercard", "tok_amex", "tok_chargeDeclined"] * 4
    invoices = [invoice_created(payment_token=token) for token in tokens]

    failed_per_receive = redeliver_until_settled(lambda batch: handler(batch, lambda_context()), invoices)

    # Some records failed even after the in-process retries, never all of them at once,
    # and SQS redelivery finished the job before any reached the DLQ.
    assert len(failed_per_receive) > 1
    assert 0 < failed_per_receive[0] < len(invoices)
    phases = Counter(line["fault_phase"] for line in _fault_lines(log))
    assert phases["after_effect"] > 0  # some charges were hidden by timeouts
    assert sum(phases.values()) == provider.faults.injected

    rows = {row["order_id"]["S"]: row for row in payment_rows()}
    assert set(rows) == {invoice.order_id for invoice in invoices}
    charged = [row["charge_id"]["S"] for row in rows.values() if row["status"] == {"S": "CONFIRMED"}]
    assert len(charged) == 12
    assert sorted(charge.charge_id for charge in provider.charges) == sorted(charged)
    published = topic.published()
    assert Counter(event.causation_id for event in published) == Counter(invoice.event_id for invoice in invoices)
    assert Counter(type(event).__name__ for event in published) == {"PaymentConfirmed": 12, "PaymentFailed": 4}


# ---------------------------------------------------------------- the fault switch's wiring


def _charge(provider: Any) -> Any:
    return provider.charge(
        amount_cents=4597, currency="EUR", token="tok_visa", idempotency_key="key-1", description="Invoice INV-1"
    )


def test_faults_are_off_when_the_environment_does_not_set_them(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy
) -> None:
    monkeypatch.delenv("FAULT_RATE", raising=False)
    module = _load_module(monkeypatch, topic)
    assert isinstance(module.provider, SimulatedPaymentProvider)  # no faulty decorator
    assert _charge(module.provider).charge_id.startswith("ch_")


def test_the_switch_is_read_from_the_environment_and_faults_are_retried(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy
) -> None:
    monkeypatch.setenv("FAULT_RATE", "1")
    monkeypatch.setenv("FAULT_KINDS", "throttle")
    module = _load_module(monkeypatch, topic)

    with pytest.raises(DependencyThrottled):
        _charge(module.provider)

    assert module.provider.faults.injected == 3  # the first attempt and two retries
    assert module.provider.charges == []  # a throttle refuses before charging


def test_a_bad_fault_setting_fails_the_cold_start(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> None:
    monkeypatch.setenv("FAULT_RATE", "often")
    with pytest.raises(ValueError, match="FAULT_RATE"):
        _load_module(monkeypatch, topic)
