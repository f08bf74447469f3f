"""email_service's customer-event handler in-process against moto (SES SendRawEmail)."""

from __future__ import annotations

import email as email_parser
import html
import io
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from choreography.catalogue import SUBSCRIPTIONS
from email_service.adapters.faulty_mailer import FaultyMailer
from email_service.adapters.ses import SesMailer
from events.models import Event, EventType
from events.observability import logger
from fault_injection.injector import FaultInjector
from tests.builders import (
    address,
    invoice_created,
    lambda_context,
    order_created,
    payment_confirmed,
    shipped,
    sqs_batch,
    sqs_record,
)
from tests.integration.conftest import create_idempotency_table, failed_ids, fault_lines, load_handler
from tests.unit.email_service.builders import (
    BUILDERS,
    INVOICE_URL,
    cancellation_rejected,
    delivered,
    invoice_created_with_link,
    order_cancelled,
    payment_refunded,
    shipment_cancelled,
)
from tests.unit.events.fakes import redeliver_until_settled

MODULE = "email_service.handlers.handle_customer_event"
SENDER = "orders@shop.example.com"


@dataclass(frozen=True)
class SentMessage:
    """One message moto's SES accepted, parsed back as MIME."""

    source: str  # the envelope sender
    mime: EmailMessage

    @property
    def to(self) -> str:
        return str(self.mime["To"])

    @property
    def subject(self) -> str:
        return str(self.mime["Subject"])

    @property
    def body(self) -> str:
        """The HTML part."""
        return self._part("html")

    @property
    def text(self) -> str:
        return self._part("plain")

    def _part(self, subtype: str) -> str:
        body = self.mime.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


def sent_messages() -> list[SentMessage]:
    return [
        SentMessage(message.source, email_parser.message_from_string(message.raw_data, policy=default_policy))
        for message in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    ]


def verify_sender() -> None:
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)


class SendRawEmailSpy:
    """The SendRawEmail requests the handler's SES client made, as boto3 received them."""

    def __init__(self, client: Any) -> None:
        self.requests: list[dict[str, Any]] = []
        client.meta.events.register("provide-client-params.ses.SendRawEmail", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(params)


def load(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    env = {"SENDER_EMAIL": SENDER, "IDEMPOTENCY_TABLE": create_idempotency_table()}
    return load_handler(MODULE, env, monkeypatch)


@pytest.fixture
def email(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    verify_sender()
    return load(monkeypatch)


def invoke(module: ModuleType, batch: dict[str, Any]) -> dict[str, Any]:
    return module.handler(batch, lambda_context("email-service"))


@pytest.mark.parametrize("event_type", list(BUILDERS), ids=lambda t: t.value)
def test_each_customer_event_sends_exactly_one_email_to_the_customer(email: ModuleType, event_type: EventType) -> None:
    spy = SendRawEmailSpy(email.mailer.client)
    event = BUILDERS[event_type](customer_email="grace@example.com")

    response = invoke(email, sqs_batch(event))

    assert response == {"batchItemFailures": []}
    [message] = sent_messages()
    assert message.source == SENDER
    assert message.to == "grace@example.com"
    assert message.mime["From"].addresses[0].addr_spec == SENDER
    assert event.order_id in message.subject
    assert event.order_id in message.body
    assert message.body.lstrip().startswith("<!DOCTYPE html>")
    assert event.order_id in message.text
    assert "<html" not in message.text

    [request] = spy.requests
    assert request["Source"] == SENDER
    assert request["Destinations"] == ["grace@example.com"]


def test_the_email_shows_the_shops_name_and_replies_go_where_the_settings_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verify_sender()
    env = {
        "SENDER_EMAIL": SENDER,
        "SENDER_NAME": "Grace's Shop",
        "REPLY_TO_EMAIL": "help@shop.example.com",
        "IDEMPOTENCY_TABLE": create_idempotency_table(),  # as deployed; not left to what another test set
    }
    module = load_handler(MODULE, env, monkeypatch)

    assert invoke(module, sqs_batch(shipped())) == {"batchItemFailures": []}

    [message] = sent_messages()
    [sender] = message.mime["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Grace's Shop", SENDER)
    assert str(message.mime["Reply-To"]) == "help@shop.example.com"


def test_a_batch_of_every_event_type_sends_one_email_each(email: ModuleType) -> None:
    events = [build() for build in BUILDERS.values()]

    response = invoke(email, sqs_batch(*events))

    assert failed_ids(response) == []
    messages = sent_messages()
    assert len(messages) == len(events)
    for event in events:
        [mail] = [m for m in messages if event.order_id in m.subject]
        assert mail.to == event.data.order.customer_email
    shipped_event = events[list(BUILDERS).index(EventType.SHIPPED)]
    [shipped_mail] = [m for m in messages if shipped_event.order_id in m.subject]
    assert shipped_event.data.tracking_number in shipped_mail.body


def test_a_duplicate_delivery_sends_no_second_email(email: ModuleType) -> None:
    event = shipped()
    invoke(email, sqs_batch(event))
    assert len(sent_messages()) == 1

    # SNS delivered the same event again, twice: same event_id, other SQS message ids.
    response = invoke(email, {"Records": [sqs_record(event), sqs_record(event)]})

    assert failed_ids(response) == []
    assert len(sent_messages()) == 1


def test_a_malformed_record_fails_alone(email: ModuleType) -> None:
    good = order_created()
    batch = sqs_batch(good, "{not json")

    response = invoke(email, batch)

    assert failed_ids(response) == [batch["Records"][1]["messageId"]]
    [message] = sent_messages()
    assert good.order_id in message.subject


def test_an_address_ses_refuses_fails_that_record_alone(email: ModuleType) -> None:
    refused = payment_confirmed(customer_email="not-an-email-address")
    good = payment_confirmed()
    batch = sqs_batch(refused, good)

    response = invoke(email, batch)

    assert failed_ids(response) == [batch["Records"][0]["messageId"]]
    [message] = sent_messages()
    assert good.order_id in message.subject


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_an_unverified_sender_fails_the_record_and_the_retry_sends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load(monkeypatch)  # the sender identity is not verified yet
    event = invoice_created()

    # Its only record failed: Powertools fails the whole invocation, SQS retries it.
    with pytest.raises(BatchProcessingError, match="authority to send from email"):
        invoke(module, sqs_batch(event))
    assert sent_messages() == []

    verify_sender()
    retry = invoke(module, sqs_batch(event))

    assert failed_ids(retry) == []
    [message] = sent_messages()
    assert event.order_id in message.subject


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_an_unverified_sender_fails_each_record_of_a_mixed_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load(monkeypatch)
    batch = sqs_batch(order_created(), "{not json")

    with pytest.raises(BatchProcessingError):
        invoke(module, batch)
    assert sent_messages() == []


def test_a_hostile_name_reaches_ses_escaped(email: ModuleType) -> None:
    event = order_created(shipping_address=address(name="<script>alert(1)</script>"))

    invoke(email, sqs_batch(event))

    [message] = sent_messages()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.body
    assert "<script" not in message.body


def test_logs_name_the_order_but_not_the_customer_or_the_token(
    email: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = io.StringIO()
    monkeypatch.setattr(email.logger.registered_handler, "stream", logs)
    event = invoice_created(
        payment_token="tok_LogMeNot",
        customer_email="grace@example.com",
        shipping_address=address(line1="1 Secret Lane"),
    )

    invoke(email, sqs_batch(event))

    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    [sent] = [line for line in lines if line.get("message") == "customer email sent"]
    assert (sent["order_id"], sent["correlation_id"]) == (event.order_id, event.correlation_id)
    assert sent["ses_message_id"]
    for secret in ("grace@example.com", "1 Secret Lane", "tok_LogMeNot"):
        assert secret not in logs.getvalue()


def test_the_handler_consumes_every_event_type_the_catalogue_routes_to_email(email: ModuleType) -> None:
    [subscription] = [s for s in SUBSCRIPTIONS if s.service == "email_service"]
    assert email.consumer.handled_event_types == set(subscription.event_types) == set(BUILDERS) == set(EventType)


def test_the_invoice_email_carries_the_download_link_in_both_parts(email: ModuleType) -> None:
    event = invoice_created_with_link()
    url = INVOICE_URL.format(order_id=event.order_id)

    assert invoke(email, sqs_batch(event)) == {"batchItemFailures": []}

    [message] = sent_messages()
    assert f'<a href="{html.escape(url, quote=False)}"' in message.body  # & as &amp; in the href
    assert url not in message.body
    text = message.text
    assert url in text.splitlines()
    for body in (message.body, text):
        assert "The link expires in 7 days, on 2026-11-28 at 06:16 UTC." in body


def test_an_invoice_created_from_before_the_pdf_still_sends_the_invoice_email(email: ModuleType) -> None:
    event = invoice_created()  # no invoice_pdf_key, no invoice_url: published before this release
    assert event.data.invoice_url is None

    assert invoke(email, sqs_batch(event)) == {"batchItemFailures": []}

    [message] = sent_messages()
    assert event.data.invoice_number in message.subject
    assert "Download" not in message.body


@pytest.mark.parametrize(
    ("build", "subject", "says"),
    [
        (order_cancelled, "We are cancelling", "We received your request to cancel"),
        (shipment_cancelled, "is cancelled", "the refund follows in a separate email"),
        (cancellation_rejected, "could not cancel", "Your payment stands."),
        (payment_refunded, "We refunded 45.97 EUR", "Refund reference: re_test_456"),
        (delivered, "was delivered", "SP123456789GB"),
    ],
    ids=["ORDER_CANCELLED", "SHIPMENT_CANCELLED", "CANCELLATION_REJECTED", "PAYMENT_REFUNDED", "DELIVERED"],
)
def test_the_lifecycle_emails_reach_the_customer(
    email: ModuleType, build: Callable[..., Any], subject: str, says: str
) -> None:
    spy = SendRawEmailSpy(email.mailer.client)
    event = build(customer_email="grace@example.com", shipping_address=address(name="<b>Grace</b>"))

    assert invoke(email, sqs_batch(event)) == {"batchItemFailures": []}

    [message] = sent_messages()
    assert message.to == "grace@example.com"
    assert subject in message.subject
    assert event.order_id in message.subject
    assert len(spy.requests) == 1
    for body in (message.body, message.text):
        assert event.order_id in body
        assert says in " ".join(body.split())
    assert "&lt;b&gt;Grace&lt;/b&gt;" in message.body
    assert "<b>Grace" not in message.body


# ---------------------------------------------------------------- under the fault switch


def capture_logs(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    logs = io.StringIO()
    monkeypatch.setattr(module.logger.registered_handler, "stream", logs)
    return logs


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_with_every_send_faulty_the_records_fail_without_any_email_and_the_retry_sends_one_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verify_sender()
    monkeypatch.setenv("FAULT_RATE", "1")
    monkeypatch.delenv("FAULT_KINDS", raising=False)
    module = load(monkeypatch)
    spy = SendRawEmailSpy(module.mailer.client)
    logs = capture_logs(module, monkeypatch)
    events: list[Event[Any]] = [
        shipped(customer_email="grace@example.com"),
        invoice_created(payment_token="tok_LogMeNot"),
    ]
    batch = sqs_batch(*events)

    # Both records failed: Powertools fails the whole invocation, SQS retries both.
    with pytest.raises(BatchProcessingError):
        invoke(module, batch)

    assert sent_messages() == []
    assert spy.requests == []  # SES was never called: faults strike before the send only
    faults = fault_lines(logs)
    assert len(faults) == module.mailer.faults.injected == 6  # 2 records x (1 attempt + 2 retries)
    assert {(line["operation"], line["fault_phase"]) for line in faults} == {("ses.send_email", "before_call")}
    for secret in ("grace@example.com", "tok_LogMeNot", events[0].data.order.shipping_address.line1):
        assert secret not in logs.getvalue()

    module.mailer.faults = FaultInjector(0.0)  # SES recovers
    assert invoke(module, batch) == {"batchItemFailures": []}

    messages = sent_messages()
    assert len(messages) == len(spy.requests) == 2
    for event in events:
        assert len([message for message in messages if event.order_id in message.subject]) == 1


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_under_a_moderate_fault_rate_sqs_redelivery_sends_exactly_one_email_per_event(
    email: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = SendRawEmailSpy(email.mailer.client)
    logs = capture_logs(email, monkeypatch)
    monkeypatch.setattr(
        email, "mailer", FaultyMailer(email.mailer, FaultInjector(0.5, rng=random.Random(20261121), log=logger))
    )
    events = [build() for build in BUILDERS.values() for _ in range(3)]

    failed_per_receive = redeliver_until_settled(lambda batch: invoke(email, batch), events)

    # Some records failed even after the in-process retries, never all of them at once,
    # and SQS redelivery finished the job before any reached the DLQ.
    assert len(failed_per_receive) > 1
    assert 0 < failed_per_receive[0] < len(events)
    assert len(fault_lines(logs)) == email.mailer.faults.injected > 0

    messages = sent_messages()
    assert len(spy.requests) == len(messages) == len(events)  # SES called once per event, never more
    emails_per_order = Counter(
        event.order_id for event in events for message in messages if event.order_id in message.subject
    )
    assert emails_per_order == Counter(event.order_id for event in events)
    assert set(emails_per_order.values()) == {1}


# ---------------------------------------------------------------- the fault switch's wiring


def test_faults_are_off_when_the_environment_does_not_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAULT_RATE", raising=False)
    module = load(monkeypatch)
    assert isinstance(module.mailer, SesMailer)  # no faulty decorator


def test_a_bad_fault_setting_fails_the_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_RATE", "2")
    with pytest.raises(ValueError, match="FAULT_RATE"):
        load(monkeypatch)
