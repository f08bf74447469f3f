"""The outbox relay: publishes every event the order service queued in its outbox.

A DynamoDB stream consumer of the outbox table (payment tokens wait there sealed
with KMS; the relay unseals them just before publishing). An order, its stock reservation and
its ORDER_CREATED are written in one transaction, and this relay publishes the event
within a second. When SNS is down the stream record fails and is retried, a bounded
number of times (the stream mapping's MaximumRetryAttempts and MaximumRecordAgeInSeconds;
then its batch is reported to the relay's on-failure queue and the shard moves on). The
entry stays in the outbox until it is published, so the sweeper (sweep_outbox.py)
publishes whatever the relay could not: a stored order always reaches the topic.
Publishing twice (a retry after a publish whose entry delete failed, or the relay and
the sweeper racing) is harmless: the event keeps its event_id and every consumer is
idempotent on it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from aws_lambda_powertools.utilities.typing import LambdaContext

from events.correlation import order_context
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from order_service.adapters.dynamodb import DynamoDBOrderStore
from order_service.adapters.kms import TokenSealer
from order_service.settings import OrderSettings

settings = OrderSettings.from_env()
store = DynamoDBOrderStore(
    settings.orders_table,
    settings.products_table,
    settings.outbox_table,
    sealer=TokenSealer(settings.payment_token_key_id),
)
publisher = EventPublisher(settings.order_events_topic_arn)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def relay_record(record: DynamoDBRecord) -> None:
    if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return  # the deletes of published entries
    event = store.outbox_event(record.dynamodb.new_image)
    with order_context(event):  # this order's ids on this record's lines only
        publisher.publish(event)
        store.delete_outbox_entry(event.event_id)
        logger.info("event relayed")
        metrics.add_metric(name="OutboxRelayed", unit="Count", value=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Lambda's answer is the plain dict of Powertools' PartialItemFailureResponse.
    return dict(
        process_partial_response(event=event, record_handler=relay_record, processor=processor, context=context)
    )
