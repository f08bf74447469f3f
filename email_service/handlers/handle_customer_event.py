"""The email consumer: every customer-facing event becomes one email to the customer."""

from __future__ import annotations

from typing import Any

# Before anything imports pydantic: Powertools' batch utility builds its parser models
# (SQS, Kinesis, DynamoDB, Kafka) at import when pydantic is already loaded (cold start).
import aws_lambda_powertools.utilities.batch  # noqa: F401  # isort: skip
from aws_lambda_powertools.utilities.typing import LambdaContext

from email_service.adapters.faulty_mailer import FaultyMailer
from email_service.adapters.ses import SesMailer
from email_service.domain.notifications import notify_customer
from email_service.domain.ports import Mailer
from email_service.domain.rendering import CUSTOMER_EVENT_TYPES
from email_service.settings import EmailSettings
from events.consumer import EventConsumer
from events.models import Event
from events.observability import logger, metrics, tracer
from fault_injection.injector import FaultInjector

settings = EmailSettings.from_env()
mailer: Mailer = SesMailer(
    settings.sender_email, sender_name=settings.sender_name, reply_to=settings.reply_to_email or None
)
# The fault switch (FAULT_RATE, FAULT_KINDS; a bad value fails the cold start): sends
# fail as SES's do under load, before the call only, behind the client's retries.
faults = FaultInjector.from_env(log=logger)
if faults.enabled:
    mailer = FaultyMailer(mailer, faults)


def on_customer_event(event: Event[Any]) -> None:
    message_id = notify_customer(event, mailer)
    # The recipient's address stays out of the logs: the order id (correlation id)
    # and SES's message id are enough to find the mail.
    logger.info("customer email sent", extra={"ses_message_id": message_id})
    metrics.add_metric(name="CustomerEmailSent", unit="Count", value=1)


consumer = EventConsumer(
    {event_type: on_customer_event for event_type in CUSTOMER_EVENT_TYPES},
    idempotency_table=settings.idempotency_table,
)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
