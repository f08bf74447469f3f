"""The consumer side: SQS batch of SNS envelopes -> typed events -> one handler each.

Each record is processed on its own (Powertools BatchProcessor): a failure is reported
as a batch item failure and retried by SQS, never failing its neighbours; after the
queue's maxReceiveCount it lands in the DLQ. The effect of an event happens once per
envelope `event_id` (Powertools idempotency on DynamoDB), not once per SQS message:
SNS may deliver the same event twice under two different message ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from events.correlation import order_context
from events.models import Event, parse_event
from events.models import EventType as OrderEventType
from events.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

EventHandler = Callable[[Any], None]


class UnhandledEventType(Exception):
    """The queue delivered an event type this consumer has no handler for."""


class EventConsumer:
    def __init__(
        self,
        handlers: Mapping[OrderEventType, EventHandler],
        *,
        idempotency_table: str | None = None,
        dynamodb_client: Any = None,
    ) -> None:
        self.handlers = dict(handlers)
        self.processor = BatchProcessor(event_type=EventType.SQS)
        self._dispatch: Callable[..., None] = self._handle
        self._idempotency_config: Any = None
        if idempotency_table:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            if dynamodb_client is None:
                from events.aws import client

                dynamodb_client = client("dynamodb")
            persistence = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=dynamodb_client)
            self._idempotency_config = IdempotencyConfig(
                event_key_jmespath="event_id",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=7 * 24 * 3600,
            )
            self._dispatch = idempotent_function(
                data_keyword_argument="event",
                persistence_store=persistence,
                config=self._idempotency_config,
            )(self._handle)

    @property
    def handled_event_types(self) -> set[OrderEventType]:
        return set(self.handlers)

    def process(self, lambda_event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if self._idempotency_config is not None:
            self._idempotency_config.register_lambda_context(context)
        # Lambda's answer is the plain dict of Powertools' PartialItemFailureResponse.
        return dict(
            process_partial_response(
                event=lambda_event,
                record_handler=self._process_record,
                processor=self.processor,
                context=context,
            )
        )

    def _process_record(self, record: SQSRecord) -> None:
        try:
            event = parse_event(record.body)
        except ValueError:  # pydantic's ValidationError: not an event of the contract
            logger.warning("record is not an event", extra={"message_id": record.message_id})
            raise
        # The order's ids on every line of this record only (events.correlation).
        with order_context(event, record.attributes.aws_trace_header):
            started = time.time()
            try:
                if event.event_type not in self.handlers:
                    raise UnhandledEventType(event.event_type.value)
                self._dispatch(event=event)
            except Exception as error:
                logger.warning("event failed", extra={**_timing(event, started), "error": type(error).__name__})
                raise
            # The line `make trace` draws the order's waterfall from.
            logger.info("event handled", extra=_timing(event, started))
            metrics.add_metric(name=f"{event.event_type.value}Handled", unit="Count", value=1)

    def _handle(self, event: Event[Any]) -> None:
        self.handlers[event.event_type](event)


def _timing(event: Event[Any], started: float) -> dict[str, Any]:
    """When the event was published, how long it took to reach this consumer (hop) and
    how long the consumer worked on it, in milliseconds."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "causation_id": event.causation_id,
        "hop_ms": round(started * 1000 - event.occurred_at.timestamp() * 1000),
        "duration_ms": round((time.time() - started) * 1000, 1),
    }
