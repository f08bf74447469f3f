"""ORDER_CANCELLED and SHIPMENT_ERROR against INVOICE_CREATED, on in-memory edges:
whatever the order and the repetition of the events, an order is charged at most
once, never after it was cancelled, and a charge is refunded at most once."""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from billing_service.adapters.faulty_provider import FaultyPaymentProvider
from billing_service.domain.billing import BillingResult, Outcome, bill_invoice
from billing_service.domain.errors import ChargeInProgress, RefundRefused
from billing_service.domain.model import Payment, PaymentStatus
from billing_service.domain.refunds import (
    CANCELLED_REASON,
    SHIPMENT_ERROR_REASON,
    RefundOutcome,
    RefundResult,
    cancel_payment,
    hold_charge,
    refund_failed_shipment,
)
from events.models import (
    EVENT_ID_NAMESPACE,
    Event,
    InvoiceCreated,
    PaymentConfirmed,
    PaymentRefunded,
    ShipmentCancelled,
    ShipmentError,
)
from events.retries import DependencyTimeout
from fault_injection.injector import FaultInjector, FaultKind
from tests.builders import invoice_created, shipment_error
from tests.unit.billing_service.builders import order_cancelled, stopped
from tests.unit.billing_service.fakes import InMemoryPaymentStore, RecordingProvider, RecordingPublisher

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


class Billing:
    """One billing service: the provider, the payments table and the topic it sees."""

    def __init__(self) -> None:
        self.provider = RecordingProvider()
        self.payments = InMemoryPaymentStore()
        self.publisher = RecordingPublisher()

    def _edges(self) -> dict[str, Any]:
        return {"provider": self.provider, "payments": self.payments, "publisher": self.publisher, "clock": _clock}

    def bill(self, event: InvoiceCreated) -> BillingResult:
        return bill_invoice(event, **self._edges())

    def cancel(self, event: ShipmentCancelled) -> RefundResult:
        return cancel_payment(event, **self._edges())

    def shipment_failed(self, event: ShipmentError) -> RefundResult:
        return refund_failed_shipment(event, **self._edges())

    def deliver(self, event: Event[Any]) -> object:
        if isinstance(event, InvoiceCreated):
            return self.bill(event)
        if isinstance(event, ShipmentCancelled):
            return self.cancel(event)
        assert isinstance(event, ShipmentError)
        return self.shipment_failed(event)

    def row(self, order_id: str) -> Payment:
        return self.payments.rows[order_id]

    def refunded_events(self) -> list[PaymentRefunded]:
        return [event for event in self.publisher.events if isinstance(event, PaymentRefunded)]


@pytest.fixture
def billing() -> Billing:
    return Billing()


def _event_id(cause: Event[Any], event_type: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause.event_id}/{event_type}"))


def _charged(billing: Billing, token: str = "tok_visa") -> tuple[InvoiceCreated, PaymentConfirmed]:
    invoice = invoice_created(payment_token=token)
    assert billing.bill(invoice).outcome is Outcome.CHARGED
    [confirmed] = billing.publisher.events
    assert isinstance(confirmed, PaymentConfirmed)
    return invoice, confirmed


# ---------------------------------------------------------------- cancelled before any charge


def test_a_cancellation_before_the_invoice_is_recorded_and_the_invoice_then_charges_nothing(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="CREATED")

    result = billing.cancel(cancel)

    assert result.outcome is RefundOutcome.CANCELLED_BEFORE_CHARGE
    row = billing.row(invoice.order_id)
    assert row.status is PaymentStatus.CANCELLED
    assert (row.cancel_event_id, row.cancelled_at) == (cancel.event_id, NOW)
    assert (row.charge_id, row.invoice_event_id, row.refund_id) == (None, None, None)
    assert billing.publisher.events == []

    for _ in range(2):  # the invoice, and a redelivery of it
        billed = billing.bill(invoice)
        assert billed.outcome is Outcome.CANCELLED

    assert billing.provider.calls == []
    assert billing.provider.charges == []
    assert billing.publisher.events == []
    assert billing.row(invoice.order_id) == row


def test_a_redelivered_early_cancellation_changes_nothing(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="CREATED")
    billing.cancel(cancel)
    row = billing.row(invoice.order_id)

    again = billing.cancel(cancel)
    other = billing.cancel(stopped(invoice, previous_status="CREATED"))

    assert again.outcome is RefundOutcome.CANCELLED_BEFORE_CHARGE
    assert other.outcome is RefundOutcome.ALREADY_SETTLED
    assert billing.payments.writes == [row]
    assert billing.publisher.events == []


def test_an_invoice_that_loses_the_race_to_a_cancellation_charges_nothing(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    rival = Billing()
    rival.cancel(stopped(invoice, previous_status="INVOICED"))
    # The cancellation lands between the invoice's read (no row) and its claim.
    billing.payments.rival = rival.row(invoice.order_id)

    result = billing.bill(invoice)

    assert result.outcome is Outcome.CANCELLED
    assert billing.provider.calls == []
    assert billing.publisher.events == []


# ---------------------------------------------------------------- cancelled after the charge


def test_a_cancellation_after_the_charge_refunds_it_once_and_announces_it(billing: Billing) -> None:
    invoice, confirmed = _charged(billing)
    cancel = stopped(invoice)

    result = billing.cancel(cancel)

    assert result.outcome is RefundOutcome.REFUNDED
    [call] = billing.provider.refund_calls
    assert call == {
        "charge_id": confirmed.data.charge_id,
        "amount_cents": 4597,
        "currency": "EUR",
        "idempotency_key": cancel.event_id,
    }
    [refund] = billing.provider.refunds
    assert refund.refund_id.startswith("re_")

    row = billing.row(invoice.order_id)
    assert row == result.payment
    assert row.status is PaymentStatus.REFUNDED
    assert row.charge_id == confirmed.data.charge_id  # the charge stays on record
    assert row.invoice_event_id == invoice.event_id
    assert (row.refund_id, row.refunded_cents, row.refund_reason) == (refund.refund_id, 4597, CANCELLED_REASON)
    assert (row.refund_event_id, row.refunded_at) == (cancel.event_id, NOW)

    [published] = billing.refunded_events()
    assert published.event_id == _event_id(cancel, "PAYMENT_REFUNDED")
    assert published.causation_id == cancel.event_id
    assert published.correlation_id == invoice.correlation_id
    assert published.order_id == invoice.order_id
    assert published.data.order == cancel.data.order
    assert (published.data.charge_id, published.data.refund_id) == (confirmed.data.charge_id, refund.refund_id)
    assert (published.data.amount_cents, published.data.currency) == (4597, "EUR")
    assert published.data.reason == "the order was cancelled"


def test_a_cancellation_delivered_three_times_refunds_once_and_publishes_one_event(billing: Billing) -> None:
    invoice, _ = _charged(billing)
    cancel = stopped(invoice)

    outcomes = [billing.cancel(cancel).outcome for _ in range(3)]

    assert outcomes == [RefundOutcome.REFUNDED, RefundOutcome.REPLAYED, RefundOutcome.REPLAYED]
    assert len(billing.provider.refund_calls) == 1
    assert len(billing.provider.refunds) == 1
    # Without the idempotency table in front, a redelivery announces again, as the
    # same event (same id, same data): every consumer drops it.
    published = billing.refunded_events()
    assert {event.event_id for event in published} == {_event_id(cancel, "PAYMENT_REFUNDED")}
    assert all(event.data == published[0].data for event in published)
    assert [row.status for row in billing.payments.writes] == ["CHARGING", "CONFIRMED", "REFUNDING", "REFUNDED"]


def test_another_cancellation_of_a_refunded_order_does_nothing(billing: Billing) -> None:
    invoice, _ = _charged(billing)
    billing.cancel(stopped(invoice))

    result = billing.cancel(stopped(invoice))

    assert result.outcome is RefundOutcome.ALREADY_SETTLED
    assert len(billing.provider.refund_calls) == 1
    assert len(billing.refunded_events()) == 1


def test_a_crash_after_the_refund_before_it_is_stored_resumes_into_the_same_refund(billing: Billing) -> None:
    invoice, _ = _charged(billing)
    cancel = stopped(invoice)
    billing.payments.fail_write_of = PaymentStatus.REFUNDED  # claimed and refunded; not recorded
    with pytest.raises(ConnectionError):
        billing.cancel(cancel)
    assert billing.row(invoice.order_id).status is PaymentStatus.REFUNDING
    assert billing.publisher.of_type("PAYMENT_REFUNDED") == []

    result = billing.cancel(cancel)

    assert result.outcome is RefundOutcome.REFUNDED
    assert [call["idempotency_key"] for call in billing.provider.refund_calls] == [cancel.event_id] * 2
    [refund] = billing.provider.refunds  # the second call got the first refund back
    assert result.payment is not None and result.payment.refund_id == refund.refund_id
    assert len(billing.refunded_events()) == 1


def test_a_crash_before_the_refund_is_announced_announces_it_on_the_retry_without_refunding(billing: Billing) -> None:
    invoice, _ = _charged(billing)
    cancel = stopped(invoice)
    billing.publisher.fail_next = 1
    with pytest.raises(ConnectionError):
        billing.cancel(cancel)
    assert billing.row(invoice.order_id).status is PaymentStatus.REFUNDED

    result = billing.cancel(cancel)

    assert result.outcome is RefundOutcome.REPLAYED
    assert len(billing.provider.refund_calls) == 1
    [published] = billing.refunded_events()
    assert published.event_id == _event_id(cancel, "PAYMENT_REFUNDED")


def test_a_refund_the_provider_refuses_fails_the_event_and_announces_nothing(billing: Billing) -> None:
    invoice, _ = _charged(billing)
    cancel = stopped(invoice)
    # Another refund already gave back part of the charge, behind billing's back.
    billing.provider.provider.refund(billing.row(invoice.order_id).charge_id or "", 100, "EUR", "elsewhere")

    with pytest.raises(RefundRefused) as refused:
        billing.cancel(cancel)

    assert refused.value.code == "amount_too_large"
    # The claim stays with this event: a later SHIPMENT_ERROR cannot start a second refund.
    assert billing.row(invoice.order_id).status is PaymentStatus.REFUNDING
    confirmed = billing.publisher.events[0]
    assert isinstance(confirmed, PaymentConfirmed)
    assert billing.shipment_failed(shipment_error(confirmed)).outcome is RefundOutcome.ALREADY_SETTLED
    assert billing.refunded_events() == []


def test_a_replayed_invoice_after_the_refund_neither_charges_nor_refunds(billing: Billing) -> None:
    invoice, confirmed = _charged(billing)
    billing.cancel(stopped(invoice))

    result = billing.bill(invoice)

    assert result.outcome is Outcome.REPLAYED
    assert len(billing.provider.calls) == 1
    assert len(billing.provider.refund_calls) == 1
    # The charge's outcome is announced again as the same event (for a crash before it was).
    assert billing.publisher.events[-1].event_id == confirmed.event_id


# ---------------------------------------------------------------- cancelled during the charge


def test_a_cancellation_during_the_charge_is_retried_and_then_refunds(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="INVOICED")
    seen: list[str] = []

    def cancel_arrives() -> None:
        # Another instance gets the cancellation while this one waits for the provider.
        assert billing.row(invoice.order_id).status is PaymentStatus.CHARGING
        with pytest.raises(ChargeInProgress):
            billing.cancel(cancel)
        seen.append("retry later")

    billing.provider.during_charge = cancel_arrives

    assert billing.bill(invoice).outcome is Outcome.CHARGED
    assert seen == ["retry later"]
    assert billing.provider.refund_calls == []  # nothing refunded while the charge was open

    result = billing.cancel(cancel)  # SQS delivers it again

    assert result.outcome is RefundOutcome.REFUNDED
    [charge] = billing.provider.charges
    [refund_call] = billing.provider.refund_calls
    assert refund_call["charge_id"] == charge.charge_id
    assert [type(event).__name__ for event in billing.publisher.events] == ["PaymentConfirmed", "PaymentRefunded"]


def test_a_cancellation_waits_for_a_charge_whose_handler_crashed_until_its_retry_settles(billing: Billing) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="INVOICED")
    billing.payments.fail_next_replace = 1
    with pytest.raises(ConnectionError):
        billing.bill(invoice)  # charged at the provider, not recorded: the row stays CHARGING

    for _ in range(2):
        with pytest.raises(ChargeInProgress):
            billing.cancel(cancel)

    assert billing.bill(invoice).outcome is Outcome.CHARGED  # the invoice's redelivery
    assert billing.cancel(cancel).outcome is RefundOutcome.REFUNDED
    assert len(billing.provider.charges) == len(billing.provider.refunds) == 1


# ---------------------------------------------------------------- failed payments, failed shipments


@pytest.mark.parametrize("event_kind", ["cancel", "shipment_error"])
def test_nothing_is_refunded_when_the_payment_failed(billing: Billing, event_kind: str) -> None:
    invoice = invoice_created(payment_token="tok_chargeDeclined")
    assert billing.bill(invoice).outcome is Outcome.DECLINED
    row = billing.row(invoice.order_id)
    event: Event[Any] = stopped(invoice, previous_status="PAYMENT_FAILED")
    if event_kind == "shipment_error":  # a stray one: no shipment follows a failed payment
        event = shipment_error().model_copy(update={"order_id": invoice.order_id})

    result = billing.deliver(event)

    assert isinstance(result, RefundResult)
    assert result.outcome is RefundOutcome.NOTHING_TO_REFUND
    assert billing.provider.refund_calls == []
    assert billing.row(invoice.order_id) == row
    assert [type(e).__name__ for e in billing.publisher.events] == ["PaymentFailed"]


def test_a_shipment_error_after_the_charge_refunds_it_once(billing: Billing) -> None:
    invoice, confirmed = _charged(billing)
    error = shipment_error(confirmed)

    outcomes = [billing.shipment_failed(error).outcome for _ in range(3)]

    assert outcomes == [RefundOutcome.REFUNDED, RefundOutcome.REPLAYED, RefundOutcome.REPLAYED]
    [call] = billing.provider.refund_calls
    assert call["idempotency_key"] == error.event_id
    assert call["amount_cents"] == 4597
    row = billing.row(invoice.order_id)
    assert (row.status, row.refund_reason, row.refund_event_id) == (
        PaymentStatus.REFUNDED,
        SHIPMENT_ERROR_REASON,
        error.event_id,
    )
    published = billing.refunded_events()
    assert {event.event_id for event in published} == {_event_id(error, "PAYMENT_REFUNDED")}
    assert published[0].causation_id == error.event_id
    assert published[0].data.reason == "we could not ship your order"
    assert published[0].data.charge_id == confirmed.data.charge_id


def test_a_shipment_error_without_a_payment_refunds_nothing_and_blocks_nothing(billing: Billing) -> None:
    error = shipment_error()

    result = billing.shipment_failed(error)

    assert result == RefundResult(None, RefundOutcome.NOTHING_TO_REFUND)
    assert billing.payments.rows == {}
    assert billing.publisher.events == []


@pytest.mark.parametrize("first", ["cancel", "shipment_error"])
def test_a_cancellation_and_a_shipment_error_refund_the_charge_once_between_them(billing: Billing, first: str) -> None:
    invoice, confirmed = _charged(billing)
    events: list[Event[Any]] = [stopped(invoice), shipment_error(confirmed)]
    if first == "shipment_error":
        events.reverse()

    # The ignore below: deliver answers the outcome of whichever handler the event type selects
    outcomes = [billing.deliver(event).outcome for event in events]  # type: ignore[attr-defined]

    assert outcomes == [RefundOutcome.REFUNDED, RefundOutcome.ALREADY_SETTLED]
    assert len(billing.provider.refunds) == 1
    [published] = billing.refunded_events()
    assert published.causation_id == events[0].event_id


def test_a_refund_that_loses_the_race_for_the_claim_refunds_nothing(billing: Billing) -> None:
    invoice, confirmed = _charged(billing)
    rival = Billing()
    rival.payments.rows = dict(billing.payments.rows)
    error = shipment_error(confirmed)
    rival.shipment_failed(error)
    # The shipment error's claim lands between the cancellation's read and its claim.
    billing.payments.rival = rival.payments.writes[0]  # REFUNDING, owned by the shipment error

    result = billing.cancel(stopped(invoice))

    assert result.outcome is RefundOutcome.ALREADY_SETTLED
    assert billing.provider.refund_calls == []
    assert billing.refunded_events() == []


# ---------------------------------------------------------------- the same batch, races


@pytest.mark.parametrize("cancel_first", [False, True])
def test_an_invoice_and_a_cancellation_in_one_batch_agree_in_either_order(billing: Billing, cancel_first: bool) -> None:
    invoice = invoice_created(payment_token="tok_visa")
    cancel = stopped(invoice, previous_status="INVOICED")
    batch: list[Event[Any]] = [cancel, invoice] if cancel_first else [invoice, cancel]

    for event in batch:
        billing.deliver(event)

    row = billing.row(invoice.order_id)
    published = [type(event).__name__ for event in billing.publisher.events]
    if cancel_first:  # never charged
        assert row.status is PaymentStatus.CANCELLED
        assert billing.provider.calls == []
        assert published == []
    else:  # charged, then refunded
        assert row.status is PaymentStatus.REFUNDED
        assert len(billing.provider.charges) == len(billing.provider.refunds) == 1
        assert published == ["PaymentConfirmed", "PaymentRefunded"]


def _until_settled(deliver: Any) -> None:
    """SQS redelivery: a record that failed comes back, here after a short pause."""
    for _ in range(500):
        try:
            deliver()
        except ChargeInProgress:
            time.sleep(0.0005)
        else:
            return
    raise AssertionError("still in progress after 500 deliveries: DLQ")


def test_an_invoice_and_a_cancellation_racing_in_two_instances_always_end_consistent() -> None:
    rng = random.Random(20260314)
    endings: list[str] = []
    # Until both interleavings have happened (at most 1,000 rounds: on a loaded machine the
    # threads' timing leans one way for a while), each round's ending checked.
    for _ in range(1000):
        if {"CANCELLED", "REFUNDED"} <= set(endings):
            break
        billing = Billing()
        invoice = invoice_created(payment_token="tok_visa")
        cancel = stopped(invoice, previous_status="INVOICED")
        charge_time, *delays = (rng.uniform(0, 0.002) for _ in range(3))
        billing.provider.during_charge = lambda pause=charge_time: time.sleep(pause)
        errors: list[BaseException] = []

        def run(delay: float, deliver: Any, errors: list[BaseException] = errors) -> None:
            time.sleep(delay)
            try:
                _until_settled(deliver)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [
            threading.Thread(target=run, args=(delays[0], lambda b=billing, e=invoice: b.bill(e))),
            threading.Thread(target=run, args=(delays[1], lambda b=billing, e=cancel: b.cancel(e))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []

        row = billing.row(invoice.order_id)
        published = sorted(type(event).__name__ for event in billing.publisher.events)
        charges, refunds = billing.provider.charges, billing.provider.refunds
        if row.status is PaymentStatus.CANCELLED:
            assert (charges, refunds, published) == ([], [], [])
        else:
            assert row.status is PaymentStatus.REFUNDED
            assert len(charges) == len(refunds) == 1
            assert refunds[0].amount_cents == charges[0].amount_cents
            assert published == ["PaymentConfirmed", "PaymentRefunded"]
        endings.append(row.status.value)
    # Both interleavings happened, so the race was real.
    assert {"CANCELLED", "REFUNDED"} <= set(endings)


# ---------------------------------------------------------------- faults, secrets


def test_a_refund_hidden_by_a_timeout_is_the_one_recorded_and_announced(billing: Billing) -> None:
    invoice, _ = _charged(billing)
    cancel = stopped(invoice)
    faulty = FaultyPaymentProvider(
        billing.provider.provider, FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0)
    )
    billing.provider.provider = faulty

    with pytest.raises(DependencyTimeout):
        billing.cancel(cancel)
    [hidden] = billing.provider.refunds  # the provider refunded; billing never heard
    assert billing.row(invoice.order_id).status is PaymentStatus.REFUNDING
    assert billing.refunded_events() == []

    faulty.faults = FaultInjector(0.0)
    result = billing.cancel(cancel)

    assert result.outcome is RefundOutcome.REFUNDED
    assert billing.provider.refunds == [hidden]
    [published] = billing.refunded_events()
    assert published.data.refund_id == hidden.refund_id


@pytest.mark.parametrize("token", ["tok_visa", "tok_amex"])
def test_no_row_ever_written_holds_the_token(billing: Billing, token: str) -> None:
    charged = invoice_created(payment_token=token)
    billing.bill(charged)
    billing.cancel(stopped(charged))
    early = invoice_created(payment_token=token)
    billing.cancel(stopped(early, previous_status="CREATED"))
    billing.bill(early)

    statuses = {row.status for row in billing.payments.writes}
    assert statuses == {"CHARGING", "CONFIRMED", "REFUNDING", "REFUNDED", "CANCELLED"}
    for row in billing.payments.writes:
        assert token not in row.model_dump_json()
    assert not any("token" in name for name in Payment.model_fields)


# ---------------------------------------------------------------- the request, before shipment's verdict
def test_a_cancellation_request_before_the_charge_holds_it_for_good(billing: Billing) -> None:
    """No charge starts once billing has heard of the cancellation, whatever comes later."""
    invoice = invoice_created()

    held = hold_charge(order_cancelled(invoice, previous_status="INVOICED"), payments=billing.payments, clock=_clock)

    assert held.outcome is RefundOutcome.CANCELLED_BEFORE_CHARGE
    assert billing.bill(invoice).outcome is Outcome.CANCELLED
    assert billing.provider.charges == [] and billing.publisher.events == []


def test_a_cancellation_request_after_the_charge_refunds_nothing_until_shipment_stops_the_parcel(
    billing: Billing,
) -> None:
    invoice, _ = _charged(billing)
    request = order_cancelled(invoice)

    held = hold_charge(request, payments=billing.payments, clock=_clock)

    assert held.outcome is RefundOutcome.AWAITING_SHIPMENT
    assert billing.row(invoice.order_id).status is PaymentStatus.CONFIRMED
    assert billing.refunded_events() == []  # the parcel may have left: shipment decides
