"""Publishing events to the SNS topic."""

from __future__ import annotations

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
        return str(response["MessageId"])
