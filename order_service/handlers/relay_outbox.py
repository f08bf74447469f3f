"""The outbox relay: publishes every event the order service queued in its outbox.

A DynamoDB stream consumer of the outbox table (payment tokens wait there sealed
with KMS; the relay unseals them just before publishing). A batch's events go out in
PublishBatch requests and their entries are deleted in BatchWriteItem requests. An order, its stock reservation and
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

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from aws_lambda_powertools.utilities.typing import LambdaContext

from events.correlation import order_context
from events.models import Event
from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from order_service.adapters.kms import TokenSealer
from order_service.adapters.outbox import DynamoDBOutbox
from order_service.settings import RelaySettings

settings = RelaySettings.from_env()
outbox = DynamoDBOutbox(settings.outbox_table, TokenSealer(settings.payment_token_key_id))
publisher = EventPublisher(settings.order_events_topic_arn)


class RelayFailed(Exception):
    """No record of the batch was relayed."""


def relay(records: list[DynamoDBRecord]) -> list[DynamoDBRecord]:
    """Publish the events of the batch's new entries and delete the published entries;
    the records that failed (to be retried by the stream)."""
    failed: list[DynamoDBRecord] = []
    waiting: list[tuple[DynamoDBRecord, Event[Any]]] = []
    for record in records:
        if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
            continue  # the deletes of published entries
        try:
            waiting.append((record, outbox.event_of(record.dynamodb.new_image)))
        except Exception:  # its token could not be unsealed (KMS), or the entry is unreadable
            logger.exception("outbox entry not read", extra={"sequence_number": record.dynamodb.sequence_number})
            failed.append(record)
    # All the batch's events in PublishBatch requests, then their entries in BatchWriteItem
    # requests: 2 calls for up to ten events where one at a time took 20.
    accepted = publisher.publish_all([event for _, event in waiting])
    published = [(record, event) for record, event in waiting if event.event_id in accepted]
    failed += [record for record, event in waiting if event.event_id not in accepted]
    try:
        left = outbox.delete_all(event.event_id for _, event in published)
    except Exception:
        logger.exception("published entries not deleted")
        left = {event.event_id for _, event in published}
    for record, event in published:
        with order_context(event):  # this order's ids on this event's lines only
            if event.event_id in left:
                # Retried: published again (same event_id, dropped by every consumer) and deleted.
                failed.append(record)
                continue
            logger.info("event relayed")
            metrics.add_metric(name="OutboxRelayed", unit="Count", value=1)
    return failed


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    records = [DynamoDBRecord(raw) for raw in event.get("Records", [])]
    failed = relay(records)
    if records and len(failed) == len(records):
        # As Powertools' batch processor does: a batch where nothing went through is the
        # function's error (its Errors alarm), not a partial response.
        raise RelayFailed(f"All records failed: {len(records)} outbox entries not relayed")
    # The stream's partial batch response: it resumes from the earliest failed record.
    return {"batchItemFailures": [{"itemIdentifier": str(r.dynamodb.sequence_number)} for r in failed if r.dynamodb]}
