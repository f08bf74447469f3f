"""The outbox table as the sweeper reads it: what waits there, and how old it is.

An entry is written in the transaction that stores its order (DynamoDBOrderStore) and
deleted once SNS took its event, by the stream relay or by the sweeper. It has no TTL:
an entry that was never published is the one thing the outbox exists to keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from order_service.adapters.dynamodb import from_item


@dataclass(frozen=True)
class OutboxEntry:
    event_id: str
    order_id: str
    queued_at: float | None  # epoch seconds; None for an entry written before it was recorded
    item: dict[str, Any]  # the whole entry, as DynamoDBOrderStore.outbox_event reads it

    def age(self, now: float) -> float | None:
        return None if self.queued_at is None else max(0.0, now - self.queued_at)


class DynamoDBOutbox:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        if client is None:
            from events.aws import client as make_client

            client = make_client("dynamodb")
        self.client = client

    def entries(self) -> Iterator[OutboxEntry]:
        """Every entry still waiting. A scan: the table holds only what is not published
        yet (the relay deletes an entry within a second of its write), so it is small
        unless the topic has been failing, which is exactly when it must all be read."""
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            for raw in page.get("Items", []):
                item = from_item(raw)
                queued_at = item.get("queued_at")
                yield OutboxEntry(
                    event_id=str(item["event_id"]),
                    order_id=str(item.get("order_id", "")),
                    queued_at=float(queued_at) if queued_at is not None else None,
                    item=item,
                )
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete(self, event_id: str) -> None:
        """Deleting an entry the relay already deleted is a no-op."""
        self.client.delete_item(TableName=self.table, Key={"event_id": {"S": event_id}})
