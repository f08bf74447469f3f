"""Billing an invoice: charge its total, record the payment, announce the outcome.

The charge happens once per order even though INVOICE_CREATED may arrive several
times and a handler may crash half-way:
- the provider gets the event_id as its idempotency key, so retrying a charge whose
  answer was lost returns the first charge instead of making a second one;
- the payments table holds one row per order, written only if absent; an order that
  already has a row is never charged again;
- the outcome event is derived from the stored row with a deterministic id, so
  republishing it after a crash is a duplicate every consumer recognises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from billing_service.domain.errors import PaymentDeclined, PaymentNotRecorded
from billing_service.domain.model import Payment, PaymentStatus
from billing_service.domain.ports import PaymentProvider, PaymentStore, Publisher
from events.models import InvoiceCreated, PaymentConfirmed, PaymentConfirmedData, PaymentFailed, PaymentFailedData


class Outcome(StrEnum):
    CHARGED = "CHARGED"
    DECLINED = "DECLINED"
    # This event was billed before (the effect is stored); its outcome is published again.
    REPLAYED = "REPLAYED"
    # Another INVOICE_CREATED of the same order was billed; it announced the outcome.
    ALREADY_BILLED = "ALREADY_BILLED"


@dataclass(frozen=True)
class BillingResult:
    payment: Payment
    outcome: Outcome


def _utcnow() -> datetime:
    return datetime.now(UTC)


def bill_invoice(
    event: InvoiceCreated,
    *,
    provider: PaymentProvider,
    payments: PaymentStore,
    publisher: Publisher,
    clock: Callable[[], datetime] = _utcnow,
) -> BillingResult:
    stored = payments.get(event.order_id)
    if stored is not None:
        return _replay(event, stored, publisher)

    payment = _charge(event, provider, clock())
    if not payments.add(payment):
        # Another delivery stored its payment between our read and our write. Had it
        # been another invoice event of this order, both would have been charged; the
        # invoice service's deterministic event ids keep that from happening.
        stored = payments.get(event.order_id)
        if stored is None:
            raise PaymentNotRecorded(event.order_id)
        return _replay(event, stored, publisher)

    publisher.publish(outcome_event(event, payment))
    return BillingResult(payment, Outcome.CHARGED if payment.status is PaymentStatus.CONFIRMED else Outcome.DECLINED)


def _charge(event: InvoiceCreated, provider: PaymentProvider, now: datetime) -> Payment:
    invoice = event.data

    def payment(status: PaymentStatus, **outcome: str | None) -> Payment:
        return Payment(
            order_id=event.order_id,
            status=status,
            amount_cents=invoice.total_cents,
            currency=invoice.order.currency,
            invoice_number=invoice.invoice_number,
            invoice_event_id=event.event_id,
            created_at=now,
            **outcome,
        )

    try:
        charge = provider.charge(
            amount_cents=invoice.total_cents,
            currency=invoice.order.currency,
            token=invoice.payment_token.get_secret_value(),
            idempotency_key=event.event_id,
            description=f"Invoice {invoice.invoice_number} for order {event.order_id}",
        )
    except PaymentDeclined as declined:
        return payment(PaymentStatus.FAILED, decline_code=declined.decline_code, reason=declined.message)
    return payment(PaymentStatus.CONFIRMED, charge_id=charge.charge_id, card_brand=charge.card_brand)


def _replay(event: InvoiceCreated, stored: Payment, publisher: Publisher) -> BillingResult:
    if stored.invoice_event_id != event.event_id:
        return BillingResult(stored, Outcome.ALREADY_BILLED)
    publisher.publish(outcome_event(event, stored))
    return BillingResult(stored, Outcome.REPLAYED)


def outcome_event(cause: InvoiceCreated, payment: Payment) -> PaymentConfirmed | PaymentFailed:
    order = cause.data.order
    if payment.status is PaymentStatus.CONFIRMED:
        if payment.charge_id is None:
            raise ValueError(f"confirmed payment of order {payment.order_id} has no charge id")
        return PaymentConfirmed.caused_by(
            cause,
            data=PaymentConfirmedData(
                order=order, charge_id=payment.charge_id, amount_cents=payment.amount_cents, currency=payment.currency
            ),
        )
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
