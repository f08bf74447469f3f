"""The order's status consumer: every event of the chain moves its order forward."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from events.consumer import EventConsumer
from events.models import Event, EventType
from events.observability import logger, metrics, tracer
from order_service.adapters.orders import DynamoDBOrders
from order_service.adapters.products import DynamoDBProducts
from order_service.domain.orders import apply_event
from order_service.settings import StatusSettings

settings = StatusSettings.from_env()
store = DynamoDBOrders(settings.orders_table, DynamoDBProducts(settings.products_table))


def on_event(event: Event[Any]) -> None:
    outcome = apply_event(event, store)
    logger.info("order event applied", extra={"outcome": outcome.value})


consumer = EventConsumer({event_type: on_event for event_type in EventType})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
