from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from billing_service.domain.billing import Outcome, bill_invoice
from billing_service.domain.errors import IdempotencyKeyReused
from billing_service.domain.model import Payment, PaymentStatus
from events.models import EVENT_ID_NAMESPACE, InvoiceCreated, PaymentConfirmed, PaymentFailed
from tests.builders import invoice_created
from tests.unit.billing_service.fakes import InMemoryPaymentStore, RecordingProvider, RecordingPublisher

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


class Billing:
    def __init__(self) -> None:
        self.provider = RecordingProvider()
        self.payments = InMemoryPaymentStore()
        self.publisher = RecordingPublisher()

    def bill(self, event: InvoiceCreated):
        return bill_invoice(
            event, provider=self.provider, payments=self.payments, publisher=self.publisher, clock=_clock
        )


@pytest.fixture
def billing() -> Billing:
    return Billing()


def _event_id(cause: InvoiceCreated, event_type: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause.event_id}/{event_type}"))


def test_a_good_card_is_charged_the_invoice_total_recorded_and_confirmed(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")

    result = billing.bill(invoice)

    assert result.outcome is Outcome.CHARGED
    [call] = billing.provider.calls
    assert call["amount_cents"] == invoice.data.total_cents == 4597
    assert call["currency"] == "EUR"
    assert call["token"] == "tok_visa"
    assert call["idempotency_key"] == invoice.event_id
    assert invoice.data.invoice_number in call["description"]

    payment = billing.payments.rows[invoice.order_id]
    assert payment == result.payment
    assert payment.status is PaymentStatus.CONFIRMED
    assert (payment.amount_cents, payment.currency, payment.card_brand) == (4597, "EUR", "visa")
    assert payment.charge_id and payment.charge_id.startswith("ch_")
    assert payment.decline_code is None
    assert payment.invoice_event_id == invoice.event_id
    assert payment.created_at == NOW

    [published] = billing.publisher.events
    assert isinstance(published, PaymentConfirmed)
    assert published.event_id == _event_id(invoice, "PAYMENT_CONFIRMED")
    assert published.causation_id == invoice.event_id
    assert published.correlation_id == invoice.correlation_id
    assert published.order_id == invoice.order_id
    assert published.data.charge_id == payment.charge_id
    assert (published.data.amount_cents, published.data.currency) == (4597, "EUR")
    assert published.data.order == invoice.data.order


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_chargeDeclinedExpiredCard", "expired_card"),
        ("tok_nonsense", "invalid_token"),
    ],
)
def test_a_declined_card_is_recorded_as_failed_and_announced(billing: Billing, token: str, code: str) -> None:
    invoice = invoice_created(payment_token=token)

    result = billing.bill(invoice)

    assert result.outcome is Outcome.DECLINED
    payment = billing.payments.rows[invoice.order_id]
    assert payment.status is PaymentStatus.FAILED
    assert payment.decline_code == code
    assert payment.reason
    assert payment.charge_id is None
    [published] = billing.publisher.events
    assert isinstance(published, PaymentFailed)
    assert published.event_id == _event_id(invoice, "PAYMENT_FAILED")
    assert published.causation_id == invoice.event_id
    assert published.data.decline_code == code
    assert published.data.reason == payment.reason
    assert (published.data.amount_cents, published.data.currency) == (4597, "EUR")


@pytest.mark.parametrize("token", ["tok_visa", "tok_chargeDeclined"])
def test_the_stored_payment_never_holds_the_token(billing: Billing, token: str) -> None:
    invoice = invoice_created(payment_token=token)
    billing.bill(invoice)
    payment = billing.payments.rows[invoice.order_id]
    assert token not in payment.model_dump_json()
    assert not any("token" in name for name in Payment.model_fields)


def test_a_redelivered_invoice_is_not_charged_again_and_its_outcome_is_republished(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    first = billing.bill(invoice)

    second = billing.bill(invoice)

    assert second.outcome is Outcome.REPLAYED
    assert second.payment == first.payment
    assert len(billing.provider.calls) == 1
    assert len(billing.payments.rows) == 1
    republished, again = billing.publisher.events
    assert again == republished.model_copy(update={"occurred_at": again.occurred_at})


def test_a_crash_before_the_claim_is_stored_charges_nothing_and_the_retry_charges_once(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    billing.payments.fail_next_add = 1
    with pytest.raises(ConnectionError):
        billing.bill(invoice)
    assert billing.provider.calls == []  # the row is claimed before the provider is called
    assert billing.publisher.events == []

    result = billing.bill(invoice)

    assert result.outcome is Outcome.CHARGED
    assert [call["idempotency_key"] for call in billing.provider.calls] == [invoice.event_id]
    [published] = billing.publisher.events
    assert published.data.charge_id == result.payment.charge_id


def test_a_crash_after_the_charge_before_it_is_stored_resumes_the_claim_into_the_same_charge(
    billing: Billing,
) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    billing.payments.fail_next_replace = 1
    with pytest.raises(ConnectionError):
        billing.bill(invoice)
    assert billing.payments.rows[invoice.order_id].status is PaymentStatus.CHARGING
    assert billing.publisher.events == []

    result = billing.bill(invoice)

    assert result.outcome is Outcome.CHARGED
    assert [call["idempotency_key"] for call in billing.provider.calls] == [invoice.event_id] * 2
    [charge] = billing.provider.charges  # the second call got the first charge back
    assert result.payment.charge_id == charge.charge_id
    [published] = billing.publisher.events
    assert published.data.charge_id == charge.charge_id


def test_a_crash_before_the_outcome_is_published_republishes_it_without_charging(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_chargeDeclined")
    billing.publisher.fail_next = 1
    with pytest.raises(ConnectionError):
        billing.bill(invoice)

    result = billing.bill(invoice)

    assert result.outcome is Outcome.REPLAYED
    assert len(billing.provider.calls) == 1
    [published] = billing.publisher.events
    assert isinstance(published, PaymentFailed)
    assert published.event_id == _event_id(invoice, "PAYMENT_FAILED")


def test_another_invoice_event_of_an_order_already_billed_charges_and_publishes_nothing(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    billing.bill(invoice)
    other = invoice.model_copy(update={"event_id": str(uuid.uuid4())})

    result = billing.bill(other)

    assert result.outcome is Outcome.ALREADY_BILLED
    assert result.payment.invoice_event_id == invoice.event_id
    assert len(billing.provider.calls) == 1
    assert len(billing.publisher.events) == 1


def test_losing_the_race_to_a_concurrent_delivery_publishes_what_it_stored(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    rival = Billing()
    rival.bill(invoice)
    billing.payments.rival = rival.payments.rows[invoice.order_id]

    result = billing.bill(invoice)

    assert result.outcome is Outcome.REPLAYED
    assert result.payment == rival.payments.rows[invoice.order_id]
    [published] = billing.publisher.events
    assert published.event_id == rival.publisher.events[0].event_id
    assert published.data.charge_id == result.payment.charge_id


def test_losing_the_race_to_another_invoice_event_publishes_nothing(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    rival = Billing()
    rival.bill(invoice.model_copy(update={"event_id": str(uuid.uuid4())}))
    billing.payments.rival = rival.payments.rows[invoice.order_id]

    result = billing.bill(invoice)

    assert result.outcome is Outcome.ALREADY_BILLED
    assert billing.publisher.events == []


def test_a_provider_error_other_than_a_decline_keeps_the_claim_and_publishes_nothing(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    billing.provider.provider.charge(
        amount_cents=1, currency="EUR", token="tok_visa", idempotency_key=invoice.event_id, description="other"
    )

    with pytest.raises(IdempotencyKeyReused):
        billing.bill(invoice)

    # The claim stays: the provider may have taken the money (a lost answer), so the
    # row is never given up to a cancellation; only this event's retry settles it.
    [row] = billing.payments.rows.values()
    assert row.status is PaymentStatus.CHARGING
    assert (row.charge_id, row.decline_code) == (None, None)
    assert billing.publisher.events == []
