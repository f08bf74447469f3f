"""The outbox sweeper: republishes every outbox entry that waited too long, then deletes it.

The stream relay publishes an entry within a second of its write. It can fail to: the
topic refused it until the stream mapping gave up on the record (MaximumRetryAttempts,
MaximumRecordAgeInSeconds; the record's batch then goes to the relay's on-failure
queue), or the stream lost it (records live 24 hours). The entry itself stays in the
table, so this scheduled function (every 5 minutes) publishes what is older than
OUTBOX_SWEEP_AFTER_SECONDS and deletes it once SNS took it. A publish that fails leaves
the entry for the next sweep.

Racing the relay is harmless: both publish the same event, with the same event_id, and
every consumer is idempotent on it.

Invoked by hand with {"older_than_seconds": 0} it flushes the whole outbox at once
(the runbook's step after the topic is fixed). It reports, as metrics, how many entries
it republished and the age of the oldest entry left unpublished, which an alarm watches.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from events.observability import logger, metrics, tracer
from events.publisher import EventPublisher
from order_service.adapters.kms import TokenSealer
from order_service.adapters.outbox import DynamoDBOutbox, OutboxEntry
from order_service.models.sweep import SweepRequest
from order_service.settings import SweepSettings

settings = SweepSettings.from_env()
outbox = DynamoDBOutbox(settings.outbox_table, TokenSealer(settings.payment_token_key_id))
publisher = EventPublisher(settings.order_events_topic_arn)
clock = time.time  # the tests move it forward
STOP_WITH_MILLIS_LEFT = 5_000  # leave the rest to the next sweep rather than time out mid-publish


@dataclass
class Sweep:
    republished: int = 0
    failed: int = 0
    waiting: int = 0  # entries too young to sweep, left to the relay
    oldest_unpublished_seconds: float = 0.0  # the oldest entry still in the outbox after the sweep
    stopped_early: bool = False


def sweep(older_than: int, now: float, context: LambdaContext | None = None) -> Sweep:
    result = Sweep()
    for entry in outbox.entries():
        if context is not None and context.get_remaining_time_in_millis() < STOP_WITH_MILLIS_LEFT:
            result.stopped_early = True
            break
        # An entry without queued_at predates it: old enough, and publishing early is harmless.
        age = entry.age(now)
        if age is not None and age < older_than:
            result.waiting += 1
            result.oldest_unpublished_seconds = max(result.oldest_unpublished_seconds, age)
            continue
        if _republish(entry):
            result.republished += 1
        else:
            result.failed += 1
            result.oldest_unpublished_seconds = max(result.oldest_unpublished_seconds, age or float(older_than))
    return result


def _republish(entry: OutboxEntry) -> bool:
    logger.set_correlation_id(entry.order_id)
    try:
        event = outbox.event_of(entry.item)
        publisher.publish(event)
        outbox.delete(entry.event_id)
    except Exception as error:  # one entry's failure must not stop the sweep of the others
        # The error's type only: a validation error's text would quote the order's personal data.
        logger.error(
            "outbox entry not republished; the next sweep retries it",
            extra={"event_id": entry.event_id, "error": _describe(error)},
        )
        return False
    logger.info(
        "outbox entry republished by the sweeper",
        extra={"event_id": event.event_id, "event_type": event.event_type.value},
    )
    return True


def _describe(error: Exception) -> str:
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{type(error).__name__}({code})" if code else type(error).__name__


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SweepRequest.model_validate(event or {})
    older_than = request.older_than_seconds
    if older_than is None:
        older_than = settings.outbox_sweep_after_seconds
    result = sweep(older_than, clock(), context)
    logger.set_correlation_id(None)
    metrics.add_metric(name="OutboxRepublished", unit="Count", value=result.republished)
    metrics.add_metric(name="OutboxRepublishFailed", unit="Count", value=result.failed)
    metrics.add_metric(name="OutboxOldestEntryAge", unit="Seconds", value=result.oldest_unpublished_seconds)
    logger.info("outbox swept", extra={"older_than_seconds": older_than, **asdict(result)})
    return {"older_than_seconds": older_than, **asdict(result)}
