"""Publishing events to the SNS topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from events.observability import logger

if TYPE_CHECKING:
    from events.models import Event


class Publisher(Protocol):
    """What a service's domain needs of the topic: EventPublisher below, or a fake in
    unit tests. Returns the message id."""

    def publish(self, event: Event[Any]) -> str: ...


def message_attributes(event: Event[Any]) -> dict[str, dict[str, str]]:
    """SNS message attributes: what the subscriptions' filter policies match on."""
    return {
        "event_type": {"DataType": "String", "StringValue": event.event_type.value},
        "event_version": {"DataType": "Number", "StringValue": str(event.event_version)},
        "order_id": {"DataType": "String", "StringValue": event.order_id},
    }


class EventPublisher:
    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        if client is None:
            from events.aws import client as make_client

            client = make_client("sns")
        self.client = client

    def publish(self, event: Event[Any]) -> str:
        response = self.client.publish(
            TopicArn=self.topic_arn,
            Message=event.model_dump_json(),
            MessageAttributes=message_attributes(event),
        )
        _log_published(event)
        return str(response["MessageId"])

    def publish_all(self, events: Sequence[Event[Any]]) -> set[str]:
        """Publish `events` in PublishBatch requests of up to ten (one request where `publish`
        makes ten); the ids of the events SNS took. An entry SNS refused, or every entry of
        a request that failed, is logged and left out: the caller retries those."""
        from botocore.exceptions import BotoCoreError, ClientError

        accepted: set[str] = set()
        for start in range(0, len(events), BATCH_LIMIT):
            chunk = events[start : start + BATCH_LIMIT]
            entries = [
                {"Id": str(i), "Message": event.model_dump_json(), "MessageAttributes": message_attributes(event)}
                for i, event in enumerate(chunk)
            ]
            try:
                response = self.client.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)
            except (BotoCoreError, ClientError) as error:
                logger.warning("events not published", extra={"events": len(chunk), "error": type(error).__name__})
                continue
            for answer in response.get("Successful", []):
                event = chunk[int(answer["Id"])]
                accepted.add(event.event_id)
                _log_published(event)
            for answer in response.get("Failed", []):
                event = chunk[int(answer["Id"])]
                logger.warning(
                    "event not published",
                    extra={"order_id": event.order_id, "event_id": event.event_id, "error": answer.get("Code")},
                )
        return accepted


BATCH_LIMIT = 10  # entries per PublishBatch request (SNS's limit)


def _log_published(event: Event[Any]) -> None:
    # `make trace` reads these: what each service published, for which order, when.
    logger.info(
        "event published",
        extra={
            "order_id": event.order_id,
            "correlation_id": event.correlation_id,
            "published_event_id": event.event_id,
            "published_event_type": event.event_type.value,
            "published_causation_id": event.causation_id,
            "published_at": event.occurred_at.isoformat(),
        },
    )
