"""The carrier's delivery reports: a SHIPPED event back from the carrier-tracking queue
(sent with an SQS delay after shipping) -> the shipment is DELIVERED -> DELIVERED.

A cancelled shipment is never reported delivered; a duplicate report has no second
effect: the shipment's row moves to DELIVERED by a conditional write, once, and records
that DELIVERED was announced (shipment_service.domain.delivery).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from events.consumer import EventConsumer
from events.models import EventType, Shipped
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from shipment_service.adapters.dynamodb import DynamoDBShipmentStore
from shipment_service.domain.delivery import report_delivery
from shipment_service.settings import DeliverySettings

settings = DeliverySettings.from_env()
store = DynamoDBShipmentStore(settings.shipments_table)
publisher = EventPublisher(settings.order_events_topic_arn)


def on_carrier_update(event: Shipped) -> None:
    result = report_delivery(event, store, publisher)
    shipment = result.shipment
    if result.announced is None:
        logger.info(
            "delivery report ignored",
            extra={
                "status": shipment.status.value,
                "shipment_id": event.data.shipment_id,
                "stored_shipment_id": shipment.shipment_id,
            },
        )
        return
    logger.info(
        "parcel delivered",
        extra={
            "shipment_id": shipment.shipment_id,
            "tracking_number": shipment.tracking_number,
            "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at else None,
        },
    )
    metrics.add_metric(name="ParcelDelivered", unit="Count", value=1)


consumer = EventConsumer({EventType.SHIPPED: on_carrier_update})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
