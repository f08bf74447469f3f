"""INVOICE_CREATED -> charge the invoice total -> PAYMENT_CONFIRMED | PAYMENT_FAILED."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from billing_service.adapters.dynamodb import DynamoDBPaymentStore
from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
from billing_service.domain.billing import Outcome, bill_invoice
from billing_service.settings import BillingSettings
from events.consumer import EventConsumer
from events.models import EventType, InvoiceCreated
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher

settings = BillingSettings.from_env()
payments = DynamoDBPaymentStore(settings.payments_table)
publisher = EventPublisher(settings.order_events_topic_arn)
provider = SimulatedPaymentProvider()

_METRIC_BY_OUTCOME = {Outcome.CHARGED: "PaymentsConfirmed", Outcome.DECLINED: "PaymentsDeclined"}


def on_invoice_created(event: InvoiceCreated) -> None:
    result = bill_invoice(event, provider=provider, payments=payments, publisher=publisher)
    payment = result.payment
    logger.info(
        "invoice billed",
        extra={
            "outcome": result.outcome.value,
            "payment_status": payment.status.value,
            "invoice_number": payment.invoice_number,
            "amount_cents": payment.amount_cents,
            "currency": payment.currency,
            "decline_code": payment.decline_code,
        },
    )
    if result.outcome in _METRIC_BY_OUTCOME:
        metrics.add_metric(name=_METRIC_BY_OUTCOME[result.outcome], unit="Count", value=1)


consumer = EventConsumer({EventType.INVOICE_CREATED: on_invoice_created}, idempotency_table=settings.idempotency_table)


# log_event stays off whatever POWERTOOLS_LOGGER_LOG_EVENT says: the SQS bodies carry
# the payment token and the customer's email and address.
@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
