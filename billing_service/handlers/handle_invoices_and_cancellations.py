"""Billing's consumer: invoices to charge, and the cancellations and failed shipments
that decide whether a charge starts or is refunded:

- INVOICE_CREATED -> charge the invoice total -> PAYMENT_CONFIRMED | PAYMENT_FAILED,
  unless the order was cancelled first;
- ORDER_CANCELLED -> no charge starts from now on (a charge made stands until shipment's verdict);
- SHIPMENT_CANCELLED -> refund a confirmed charge -> PAYMENT_REFUNDED, or make sure the
  order is never charged;
- SHIPMENT_ERROR  -> refund the confirmed charge -> PAYMENT_REFUNDED.

The payments table is where these agree (billing_service.domain.refunds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Before anything imports pydantic: Powertools' batch utility builds its parser models
# (SQS, Kinesis, DynamoDB, Kafka) at import when pydantic is already loaded (cold start).
import aws_lambda_powertools.utilities.batch  # noqa: F401  # isort: skip
from aws_lambda_powertools.utilities.typing import LambdaContext

from billing_service.adapters.dynamodb import DynamoDBPaymentStore
from billing_service.adapters.faulty_provider import FaultyPaymentProvider
from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
from billing_service.domain.billing import Outcome, bill_invoice
from billing_service.domain.errors import ChargeInProgress
from billing_service.domain.ports import PaymentProvider
from billing_service.domain.refunds import (
    RefundOutcome,
    RefundResult,
    cancel_payment,
    hold_charge,
    refund_failed_shipment,
)
from billing_service.settings import BillingSettings
from events.consumer import EventConsumer
from events.models import EventType, InvoiceCreated, OrderCancelled, ShipmentCancelled, ShipmentError
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from fault_injection.injector import FaultInjector

settings = BillingSettings.from_env()
payments = DynamoDBPaymentStore(settings.payments_table)
publisher = EventPublisher(settings.order_events_topic_arn)
provider: PaymentProvider = SimulatedPaymentProvider()
# The fault switch (FAULT_RATE, FAULT_KINDS; a bad value fails the cold start): the
# provider fails as a real one does, behind the client's retries.
faults = FaultInjector.from_env(log=logger)
if faults.enabled:
    provider = FaultyPaymentProvider(provider, faults)

_METRIC_BY_OUTCOME = {
    Outcome.CHARGED: "PaymentsConfirmed",
    Outcome.DECLINED: "PaymentsDeclined",
    Outcome.CANCELLED: "ChargesSkippedForCancelledOrders",
}


def on_invoice_created(event: InvoiceCreated) -> None:
    result = bill_invoice(event, provider=provider, payments=payments, publisher=publisher)
    payment = result.payment
    logger.info(
        "invoice billed",
        extra={
            "outcome": result.outcome.value,
            "payment_status": payment.status.value,
            "invoice_number": event.data.invoice_number,
            "amount_cents": payment.amount_cents,
            "currency": payment.currency,
            "decline_code": payment.decline_code,
        },
    )
    if result.outcome in _METRIC_BY_OUTCOME:
        metrics.add_metric(name=_METRIC_BY_OUTCOME[result.outcome], unit="Count", value=1)


def on_order_cancelled(event: OrderCancelled) -> None:
    _settle("cancellation request recorded", lambda: hold_charge(event, payments=payments))


def on_shipment_cancelled(event: ShipmentCancelled) -> None:
    _settle("order cancellation settled", lambda: cancel_payment(event, **_edges()))


def on_shipment_error(event: ShipmentError) -> None:
    _settle("failed shipment settled", lambda: refund_failed_shipment(event, **_edges()))


def _edges() -> dict[str, Any]:
    # Read at call time: tests swap the module's provider.
    return {"provider": provider, "payments": payments, "publisher": publisher}


def _settle(message: str, settle: Callable[[], RefundResult]) -> None:
    try:
        result = settle()
    except ChargeInProgress:
        # Not an error: the record fails on purpose and SQS delivers it again after
        # the visibility timeout, when the charge has settled.
        logger.info("a charge of the order is in progress; the event will be retried")
        raise
    payment = result.payment
    logger.info(
        message,
        extra={
            "outcome": result.outcome.value,
            "payment_status": payment.status.value if payment else None,
            "refund_id": payment.refund_id if payment else None,
            "refunded_cents": payment.refunded_cents if payment else None,
            "currency": payment.currency if payment else None,
        },
    )
    if result.outcome is RefundOutcome.REFUNDED:
        metrics.add_metric(name="PaymentsRefunded", unit="Count", value=1)
    elif result.outcome is RefundOutcome.CANCELLED_BEFORE_CHARGE:
        metrics.add_metric(name="CancellationsBeforeCharge", unit="Count", value=1)


consumer = EventConsumer(
    {
        EventType.INVOICE_CREATED: on_invoice_created,
        EventType.ORDER_CANCELLED: on_order_cancelled,
        EventType.SHIPMENT_CANCELLED: on_shipment_cancelled,
        EventType.SHIPMENT_ERROR: on_shipment_error,
    },
)


# log_event stays off whatever POWERTOOLS_LOGGER_LOG_EVENT says: the SQS bodies carry
# the payment token and the customer's email and address.
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
