"""The outbox table: events the order service has decided on and not yet published.

An entry is written in the transaction that stores its order or its cancellation
(order_store.py takes it from `queue`), and deleted once SNS took its event, by the
stream relay or by the sweeper. It has no TTL: an entry that was never published is the
one thing the outbox exists to keep. The payment token of an ORDER_CREATED waits here
sealed with KMS (adapters/kms.py): the API seals it, the relay and the sweeper unseal it
just before publishing.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from events.models import Event, parse_event
from events.retries import call_with_retries
from order_service.adapters.dynamodb import dynamodb_client, from_item, to_item
from order_service.adapters.kms import TokenSealer

DELETE_ATTEMPTS = 4  # of a BatchWriteItem's unprocessed deletes, with backoff


@dataclass(frozen=True)
class OutboxEntry:
    event_id: str
    order_id: str
    queued_at: float | None  # epoch seconds; None for an entry written before it was recorded
    item: dict[str, Any]  # the whole entry, as DynamoDBOutbox.event_of reads it

    def age(self, now: float) -> float | None:
        return None if self.queued_at is None else max(0.0, now - self.queued_at)


class DynamoDBOutbox:
    def __init__(self, table: str, sealer: TokenSealer, client: Any = None) -> None:
        self.table = table
        self.sealer = sealer
        self.client = dynamodb_client(client)

    def queue(self, event: Event[Any]) -> dict[str, Any]:
        """The transaction item that puts `event` in the outbox, its payment token sealed.
        The relay (a stream consumer of this table) publishes it, so an event written in
        the same transaction as the change it announces always reaches the topic."""
        return {"Put": {"TableName": self.table, "Item": to_item(self._entry(event))}}

    def _entry(self, event: Event[Any]) -> dict[str, Any]:
        body = json.loads(event.model_dump_json())
        token = body["data"].pop("payment_token", None)
        # No TTL: an entry leaves only once its event was published (relay or sweeper);
        # the sweeper republishes what has waited too long, by `queued_at`.
        entry: dict[str, Any] = {
            "event_id": event.event_id,
            "order_id": event.order_id,
            "queued_at": int(time.time()),
        }
        if token is not None:
            entry["sealed_payment_token"] = self.sealer.seal(token, event.order_id)
        entry["event"] = json.dumps(body)
        return entry

    def event_of(self, entry: dict[str, Any]) -> Event[Any]:
        """The event an outbox entry (as its stream or a scan shows it) holds, token unsealed."""
        body = json.loads(entry["event"])
        if "sealed_payment_token" in entry:
            body["data"]["payment_token"] = self.sealer.unseal(entry["sealed_payment_token"], entry["order_id"])
        return parse_event(json.dumps(body))

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

    def delete_all(self, event_ids: Iterable[str]) -> set[str]:
        """Delete these entries, 25 to a BatchWriteItem; the ids still there after the
        retries (with backoff) of what DynamoDB left unprocessed. Raises if a request fails."""
        keys = [{"DeleteRequest": {"Key": {"event_id": {"S": event_id}}}} for event_id in dict.fromkeys(event_ids)]
        left: set[str] = set()
        for start in range(0, len(keys), 25):
            requests = keys[start : start + 25]

            def attempt() -> None:
                nonlocal requests
                answer = self.client.batch_write_item(RequestItems={self.table: requests})
                requests = answer.get("UnprocessedItems", {}).get(self.table, [])
                if requests:
                    raise _Unprocessed

            with contextlib.suppress(_Unprocessed):  # what is still left is returned
                call_with_retries(attempt, attempts=DELETE_ATTEMPTS, retry_on=(_Unprocessed,))
            left |= {request["DeleteRequest"]["Key"]["event_id"]["S"] for request in requests}
        return left


class _Unprocessed(Exception):
    """DynamoDB left some of a BatchWriteItem's requests unprocessed (throttling)."""
