"""The shipment consumer: a paid order gets its parcel booked with the carrier, and a
cancelled order never does (or has its parcel cancelled)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from events.consumer import EventConsumer
from events.models import EventType, OrderCancelled, PaymentConfirmed
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from fault_injection.injector import FaultInjector
from shipment_service.adapters.carrier import SimulatedCarrier
from shipment_service.adapters.dynamodb import DynamoDBShipmentStore
from shipment_service.adapters.faulty_carrier import FaultyCarrier
from shipment_service.adapters.tracking import SqsDeliveryScheduler
from shipment_service.domain.cancellation import CancelOutcome, cancel_shipment
from shipment_service.domain.ports import Carrier
from shipment_service.domain.shipments import ship_order
from shipment_service.settings import ShipmentSettings

settings = ShipmentSettings.from_env()
carrier: Carrier = SimulatedCarrier()
# The fault switch (FAULT_RATE, FAULT_KINDS; a bad value fails the cold start): the
# carrier fails as a real one does, behind the client's retries.
faults = FaultInjector.from_env(log=logger)
if faults.enabled:
    carrier = FaultyCarrier(carrier, faults)
store = DynamoDBShipmentStore(settings.shipments_table)
publisher = EventPublisher(settings.order_events_topic_arn)
scheduler = SqsDeliveryScheduler(settings.carrier_tracking_queue_url, settings.delivery_delay_seconds)


def on_payment_confirmed(event: PaymentConfirmed) -> None:
    result = ship_order(event, carrier, store, publisher, scheduler)
    shipment = result.shipment
    if result.cancelled:
        logger.info("order was cancelled; nothing booked, published or scheduled")
        metrics.add_metric(name="ShipmentSkippedCancelled", unit="Count", value=1)
        return
    if result.announced is None and shipment.event_id == event.event_id:
        logger.info("parcel already delivered; nothing announced again", extra={"status": shipment.status.value})
        return
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
            "delivery_scheduled": result.delivery_scheduled,
            "delivery_delay_seconds": scheduler.delay_seconds if result.delivery_scheduled else None,
        },
    )
    metrics.add_metric(name=f"Shipment{shipment.status.value.title()}", unit="Count", value=1)


_CANCELLATION_METRIC = {
    CancelOutcome.STOPPED: "CancellationsStopped",
    CancelOutcome.TOO_LATE: "CancellationsTooLate",
    CancelOutcome.NOTHING_BOOKED: "CancellationsNothingBooked",
}


def on_order_cancelled(event: OrderCancelled) -> None:
    # A booking still in flight raises BookingInProgress: the record fails, SQS retries it.
    result = cancel_shipment(event, store, publisher)
    log = logger.warning if result.outcome is CancelOutcome.TOO_LATE else logger.info
    log(
        "cancellation decided",
        extra={
            "outcome": result.outcome.value,
            "status": result.shipment.status.value,
            "announced": result.announced.event_type.value if result.announced else None,
        },
    )
    metrics.add_metric(name=_CANCELLATION_METRIC[result.outcome], unit="Count", value=1)


consumer = EventConsumer(
    {EventType.PAYMENT_CONFIRMED: on_payment_confirmed, EventType.ORDER_CANCELLED: on_order_cancelled}
)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context)
