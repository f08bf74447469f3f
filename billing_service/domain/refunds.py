"""Giving the money back: SHIPMENT_CANCELLED and SHIPMENT_ERROR -> PAYMENT_REFUNDED.

A customer's cancellation (ORDER_CANCELLED) is only a request: whether the parcel can
still be stopped is the shipment service's to say. So ORDER_CANCELLED only makes sure
no charge starts after billing heard of it (no row yet: CANCELLED), and the money goes
back on SHIPMENT_CANCELLED (stopped before booking) or SHIPMENT_ERROR (the carrier
refused it); after CANCELLATION_REJECTED the parcel ships and the charge stands.

Billing decides from the order's payment row alone (see PaymentStatus), with
conditional writes, so that it agrees with a charge of the same order running
concurrently:
- no row: a cancellation writes CANCELLED (only if there is still no row), so an
  INVOICE_CREATED that comes later, or concurrently, finds it and never charges;
- CHARGING: a charge is under way; the event fails with ChargeInProgress and SQS
  delivers it again once the charge has settled;
- CONFIRMED: the refunding event claims the row (CONFIRMED -> REFUNDING, with its
  event_id), refunds with its event_id as the provider's idempotency key, then
  records REFUNDED and publishes PAYMENT_REFUNDED. Only one event can make the
  claim, so the charge is refunded once even when a cancellation and a failed
  shipment race; a retry of the claiming event resumes the same refund;
- FAILED, CANCELLED, or refunded by another event: nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from billing_service.domain.billing import moved, on_payment_row
from billing_service.domain.errors import ChargeInProgress
from billing_service.domain.model import Payment, PaymentStatus
from billing_service.domain.ports import PaymentProvider, PaymentStore
from events.claim_call_commit import Call, Done, Step, Write
from events.clock import utcnow
from events.models import OrderCancelled, PaymentRefunded, PaymentRefundedData, ShipmentCancelled, ShipmentError
from events.publisher import Publisher

CANCELLED_REASON = "the order was cancelled"
SHIPMENT_ERROR_REASON = "we could not ship your order"


class RefundOutcome(StrEnum):
    # This event refunded the charge and announced it.
    REFUNDED = "REFUNDED"
    # This event had refunded the charge before; its PAYMENT_REFUNDED is published again.
    REPLAYED = "REPLAYED"
    # Cancelled before any charge: recorded, so that the order is never charged.
    CANCELLED_BEFORE_CHARGE = "CANCELLED_BEFORE_CHARGE"
    # The payment failed (or there is none): no money was taken.
    NOTHING_TO_REFUND = "NOTHING_TO_REFUND"
    # Another event refunds or refunded the charge, or cancelled the order before it.
    ALREADY_SETTLED = "ALREADY_SETTLED"
    # Charged before the cancellation came: shipment's verdict decides the refund.
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"


@dataclass(frozen=True)
class RefundResult:
    payment: Payment | None
    outcome: RefundOutcome


def hold_charge(
    event: OrderCancelled,
    *,
    payments: PaymentStore,
    clock: Callable[[], datetime] = utcnow,
) -> RefundResult:
    """ORDER_CANCELLED: no charge may start once billing has heard of the cancellation.
    A charge made before stands until shipment says the parcel was stopped."""

    def decide(stored: Payment | None) -> Step[Payment, RefundResult]:
        if stored is not None:
            return Done(RefundResult(stored, RefundOutcome.AWAITING_SHIPMENT))
        return Write(_cancellation(event, clock()), then=_cancelled_before_charge)

    return on_payment_row(event.order_id, decide, payments)


def cancel_payment(
    event: ShipmentCancelled,
    *,
    provider: PaymentProvider,
    payments: PaymentStore,
    publisher: Publisher,
    clock: Callable[[], datetime] = utcnow,
) -> RefundResult:
    """SHIPMENT_CANCELLED: refund a confirmed charge, or make sure none is ever made."""
    return _settle(event, CANCELLED_REASON, provider, payments, publisher, clock)


def refund_failed_shipment(
    event: ShipmentError,
    *,
    provider: PaymentProvider,
    payments: PaymentStore,
    publisher: Publisher,
    clock: Callable[[], datetime] = utcnow,
) -> RefundResult:
    """SHIPMENT_ERROR: refund the confirmed charge."""
    return _settle(event, SHIPMENT_ERROR_REASON, provider, payments, publisher, clock)


def _settle(
    event: ShipmentCancelled | ShipmentError,
    reason: str,
    provider: PaymentProvider,
    payments: PaymentStore,
    publisher: Publisher,
    clock: Callable[[], datetime],
) -> RefundResult:
    def decide(stored: Payment | None) -> Step[Payment, RefundResult]:
        if stored is None:
            if not isinstance(event, ShipmentCancelled):
                # A shipment follows a stored, confirmed charge: without a row there
                # is no charge of ours to give back.
                return Done(RefundResult(None, RefundOutcome.NOTHING_TO_REFUND))
            # If a charge claims the row first, look again.
            return Write(_cancellation(event, clock()), then=_cancelled_before_charge)
        status = stored.status
        if status is PaymentStatus.CHARGING:
            raise ChargeInProgress(event.order_id)
        if status is PaymentStatus.FAILED:
            return Done(RefundResult(stored, RefundOutcome.NOTHING_TO_REFUND))
        if status is PaymentStatus.CANCELLED:
            mine = stored.cancel_event_id == event.event_id
            outcome = RefundOutcome.CANCELLED_BEFORE_CHARGE if mine else RefundOutcome.ALREADY_SETTLED
            return Done(RefundResult(stored, outcome))
        if status is PaymentStatus.CONFIRMED:
            # The claim; if another event claimed the refund first, or a duplicate of
            # this one did, look again.
            return Write(
                moved(stored, status=PaymentStatus.REFUNDING, refund_event_id=event.event_id, refund_reason=reason)
            )
        if stored.refund_event_id != event.event_id:
            return Done(RefundResult(stored, RefundOutcome.ALREADY_SETTLED))
        if stored.status is PaymentStatus.REFUNDED:
            # Refunded by this event before; the announcement may have been lost.
            return Done(RefundResult(stored, RefundOutcome.REPLAYED), announce=refunded_event(event, stored))
        # REFUNDING, claimed by this event: just now, or by an attempt that crashed. If a
        # concurrent delivery of this same event records the refund first, look again.
        return Call(
            lambda: _refund(event, stored, provider, clock()),
            then=lambda refunded: Done(
                RefundResult(refunded, RefundOutcome.REFUNDED), announce=refunded_event(event, refunded)
            ),
        )

    return on_payment_row(event.order_id, decide, payments, publisher)


def _cancelled_before_charge(cancellation: Payment) -> Done[RefundResult]:
    return Done(RefundResult(cancellation, RefundOutcome.CANCELLED_BEFORE_CHARGE))


def _cancellation(event: OrderCancelled | ShipmentCancelled, now: datetime) -> Payment:
    order = event.data.order
    return Payment(
        order_id=event.order_id,
        status=PaymentStatus.CANCELLED,
        amount_cents=order.total_cents,
        currency=order.currency,
        created_at=now,
        cancel_event_id=event.event_id,
        cancelled_at=now,
    )


def _refund(
    event: ShipmentCancelled | ShipmentError, claim: Payment, provider: PaymentProvider, now: datetime
) -> Payment:
    if claim.charge_id is None:
        raise ValueError(f"confirmed payment of order {claim.order_id} has no charge id")
    refund = provider.refund(
        charge_id=claim.charge_id,
        amount_cents=claim.amount_cents,
        currency=claim.currency,
        idempotency_key=event.event_id,
    )
    return moved(
        claim,
        status=PaymentStatus.REFUNDED,
        refund_id=refund.refund_id,
        refunded_cents=refund.amount_cents,
        refunded_at=now,
    )


def refunded_event(cause: ShipmentCancelled | ShipmentError, payment: Payment) -> PaymentRefunded:
    if payment.charge_id is None or payment.refund_id is None or payment.refunded_cents is None:
        raise ValueError(f"payment of order {payment.order_id} is not refunded")
    return PaymentRefunded.caused_by(
        cause,
        data=PaymentRefundedData(
            order=cause.data.order,
            charge_id=payment.charge_id,
            refund_id=payment.refund_id,
            amount_cents=payment.refunded_cents,
            currency=payment.currency,
            reason=payment.refund_reason or CANCELLED_REASON,
        ),
    )
