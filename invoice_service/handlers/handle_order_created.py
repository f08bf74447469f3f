"""ORDER_CREATED -> the order's invoice, rendered to S3 (HTML and PDF) -> INVOICE_CREATED."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from events.consumer import EventConsumer
from events.models import EventType, OrderCreated
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from invoice_service.adapters.s3 import S3InvoiceStore
from invoice_service.domain.invoices import issue_invoice
from invoice_service.domain.model import Seller
from invoice_service.settings import InvoiceSettings

settings = InvoiceSettings.from_env()
store = S3InvoiceStore(settings.invoice_bucket)
publisher = EventPublisher(settings.order_events_topic_arn)
seller = Seller(name=settings.seller_name, address=settings.seller_address, vat_id=settings.seller_vat_id)


def on_order_created(event: OrderCreated) -> None:
    invoice = issue_invoice(
        event,
        tax_rate=settings.tax_rate,
        seller=seller,
        store=store,
        publisher=publisher,
        link_seconds=settings.invoice_link_seconds,
    )
    # The download link stays out of the logs: whoever holds it can read the invoice.
    logger.info(
        "invoice issued",
        extra={
            "invoice_number": invoice.invoice_number,
            "invoice_pdf_key": invoice.pdf_key,
            "total_cents": invoice.total_cents,
            "tax_cents": invoice.tax_cents,
            "currency": invoice.currency,
        },
    )


consumer = EventConsumer({EventType.ORDER_CREATED: on_order_created}, idempotency_table=settings.idempotency_table)


# log_event stays off whatever POWERTOOLS_LOGGER_LOG_EVENT says: the SQS bodies carry
# the payment token and the customer's email and address.
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
