"""The shipment consumer: a paid order gets its parcel booked with the carrier."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from events.consumer import EventConsumer
from events.models import EventType, PaymentConfirmed
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from shipment_service.adapters.carrier import SimulatedCarrier
from shipment_service.adapters.dynamodb import DynamoDBShipmentStore
from shipment_service.domain.shipments import ship_order
from shipment_service.settings import ShipmentSettings

settings = ShipmentSettings.from_env()
carrier = SimulatedCarrier()
store = DynamoDBShipmentStore(settings.shipments_table)
publisher = EventPublisher(settings.order_events_topic_arn)


def on_payment_confirmed(event: PaymentConfirmed) -> None:
    result = ship_order(event, carrier, store, publisher)
    shipment = result.shipment
    if result.announced is None:
        logger.warning(
            "order already has a shipment from another event; nothing booked or published",
            extra={"shipment_event_id": shipment.event_id, "status": shipment.status.value},
        )
        return
    logger.info(
        "shipment recorded",
        extra={
            "status": shipment.status.value,
            "carrier": shipment.carrier,
            "shipment_id": shipment.shipment_id,
            "tracking_number": shipment.tracking_number,
            "reason": shipment.reason,
        },
    )
    metrics.add_metric(name=f"Shipment{shipment.status.value.title()}", unit="Count", value=1)


consumer = EventConsumer(
    {EventType.PAYMENT_CONFIRMED: on_payment_confirmed}, idempotency_table=settings.idempotency_table
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
