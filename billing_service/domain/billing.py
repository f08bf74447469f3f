"""Billing an invoice: claim the order's payment row, charge its total, record the
outcome, announce it.

The charge happens at most once per order, and never for an order that was
cancelled first, although INVOICE_CREATED and ORDER_CANCELLED may arrive several
times, in any order, concurrently, and a handler may crash half-way:
- the payments table holds one row per order and every write to it is conditional
  (see PaymentStatus). Before calling the provider the charger *claims* the row
  (CHARGING, written only if the order has no row). A cancellation that came first
  wrote CANCELLED instead, so the claim fails and nothing is charged; a cancellation
  that comes during the charge finds CHARGING and is retried until it settles;
- the provider gets the event_id as its idempotency key, so resuming a claimed
  charge whose answer was lost (a timeout, a crash) returns the first charge;
- the outcome event is derived from the stored row with a deterministic id, so
  republishing it after a crash is a duplicate every consumer recognises.
The loop itself (read, claim, call, commit, publish, read again on a lost write) is
events.claim_call_commit's; what is decided at each step is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from billing_service.domain.errors import PaymentContention, PaymentDeclined
from billing_service.domain.model import Payment, PaymentStatus
from billing_service.domain.ports import PaymentProvider, PaymentStore
from events.claim_call_commit import Call, Done, Step, Write, claim_call_commit
from events.clock import utcnow
from events.models import InvoiceCreated, PaymentConfirmed, PaymentConfirmedData, PaymentFailed, PaymentFailedData
from events.publisher import Publisher

ResultT = TypeVar("ResultT")

# A row has six states and moves only forward, so a handler can lose a conditional
# write to another one only a few times before the row is final.
MAX_ROUNDS = 8


class Outcome(StrEnum):
    CHARGED = "CHARGED"
    DECLINED = "DECLINED"
    # This event was billed before (the effect is stored); its outcome is published again.
    REPLAYED = "REPLAYED"
    # Another INVOICE_CREATED of the same order was billed; it announces the outcome.
    ALREADY_BILLED = "ALREADY_BILLED"
    # The order was cancelled before it was charged: nothing charged, nothing published.
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class BillingResult:
    payment: Payment
    outcome: Outcome


def bill_invoice(
    event: InvoiceCreated,
    *,
    provider: PaymentProvider,
    payments: PaymentStore,
    publisher: Publisher,
    clock: Callable[[], datetime] = utcnow,
) -> BillingResult:
    """Charge the invoice at most once per order, unless it was cancelled first; announce
    the outcome."""

    def decide(stored: Payment | None) -> Step[Payment, BillingResult]:
        if stored is None:
            # The claim; if a cancellation or another delivery wrote first, look again.
            return Write(_claim(event, clock()))
        if stored.status is PaymentStatus.CHARGING:
            if stored.invoice_event_id != event.event_id:
                return Done(BillingResult(stored, Outcome.ALREADY_BILLED))
            # Ours: just claimed, or claimed by an attempt that crashed or timed out. If
            # a concurrent delivery of this same event settles it first, look again.
            return Call(lambda: _charge(event, stored, provider), then=lambda settled: _charged(event, settled))
        return _replay(event, stored)

    return on_payment_row(event.order_id, decide, payments, publisher)


def on_payment_row(
    order_id: str,
    decide: Callable[[Payment | None], Step[Payment, ResultT]],
    payments: PaymentStore,
    publisher: Publisher | None = None,
) -> ResultT:
    """Run `decide`'s steps on the order's payment row (events.claim_call_commit): a
    write creates the row where there is none, else replaces it in the state read."""
    return claim_call_commit(
        read=lambda: payments.get(order_id),
        write=lambda current, new: payments.add(new) if current is None else payments.replace(current, new),
        decide=decide,
        publisher=publisher,
        rounds=MAX_ROUNDS,
        contention=lambda: PaymentContention(order_id),
    )


def _charged(event: InvoiceCreated, settled: Payment) -> Done[BillingResult]:
    outcome = Outcome.CHARGED if settled.status is PaymentStatus.CONFIRMED else Outcome.DECLINED
    return Done(BillingResult(settled, outcome), announce=outcome_event(event, settled))


def _claim(event: InvoiceCreated, now: datetime) -> Payment:
    invoice = event.data
    return Payment(
        order_id=event.order_id,
        status=PaymentStatus.CHARGING,
        amount_cents=invoice.total_cents,
        currency=invoice.order.currency,
        invoice_number=invoice.invoice_number,
        invoice_event_id=event.event_id,
        created_at=now,
    )


def moved(payment: Payment, **changes: Any) -> Payment:
    """The row with `changes`, validated."""
    return Payment.model_validate({**payment.model_dump(), **changes})


def _charge(event: InvoiceCreated, claim: Payment, provider: PaymentProvider) -> Payment:
    """Charge the claimed row's amount; any error but a decline propagates and leaves
    the claim in place, for the retry of this same event to resume."""
    invoice = event.data
    try:
        charge = provider.charge(
            amount_cents=claim.amount_cents,
            currency=claim.currency,
            token=invoice.payment_token.get_secret_value(),
            idempotency_key=event.event_id,
            description=f"Invoice {invoice.invoice_number} for order {event.order_id}",
        )
    except PaymentDeclined as declined:
        return moved(claim, status=PaymentStatus.FAILED, decline_code=declined.decline_code, reason=declined.message)
    return moved(claim, status=PaymentStatus.CONFIRMED, charge_id=charge.charge_id, card_brand=charge.card_brand)


def _replay(event: InvoiceCreated, stored: Payment) -> Done[BillingResult]:
    if stored.status is PaymentStatus.CANCELLED:
        return Done(BillingResult(stored, Outcome.CANCELLED))
    if stored.invoice_event_id != event.event_id:
        return Done(BillingResult(stored, Outcome.ALREADY_BILLED))
    # Billed by this event before (perhaps refunded since): the outcome may never have
    # been published (a crash after the write), so it is published again, same id.
    return Done(BillingResult(stored, Outcome.REPLAYED), announce=outcome_event(event, stored))


def outcome_event(cause: InvoiceCreated, payment: Payment) -> PaymentConfirmed | PaymentFailed:
    order = cause.data.order
    if payment.status is PaymentStatus.FAILED:
        return PaymentFailed.caused_by(
            cause,
            data=PaymentFailedData(
                order=order,
                amount_cents=payment.amount_cents,
                currency=payment.currency,
                reason=payment.reason or "The payment was declined.",
                decline_code=payment.decline_code,
            ),
        )
    if payment.status not in (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDING, PaymentStatus.REFUNDED):
        raise ValueError(f"payment of order {payment.order_id} has no charge outcome ({payment.status.value})")
    if payment.charge_id is None:
        raise ValueError(f"confirmed payment of order {payment.order_id} has no charge id")
    return PaymentConfirmed.caused_by(
        cause,
        data=PaymentConfirmedData(
            order=order, charge_id=payment.charge_id, amount_cents=payment.amount_cents, currency=payment.currency
        ),
    )
