"""POST /orders' Idempotency-Keys: which order a customer's key placed, and from which body.

Records of the order service's own, not Powertools idempotency records. They live in the
stack's idempotency table, beside the records Powertools writes for the consumers, because
that table already has what they need (a string key `id`, TTL on `expiration`); they
share nothing else with Powertools' format:

- `id` is `order-api/idempotency-key#<customer id>#<key>`. Powertools' ids start with a
  Lambda function name, which cannot contain `/`, so the two can never collide, and a
  reader of the table tells them apart at a glance.
- `request_hash` (the command's fingerprint) and `order_id` are ours; `expiration` (epoch
  seconds) is the table's TTL attribute, so DynamoDB deletes a key a day after its use.
  There is no status, no in-progress state and no saved response.

Why not Powertools' idempotency utility: the record must be written in the transaction
that stores the order, its stock reservation and its announcement (order_store.py), so a
key is recorded if and only if its order exists. Powertools writes an IN_PROGRESS record
before the work and the saved response after it: a concurrent retry would get an error
rather than the order, a crash between the two would block the key, and a replay would
return the first response rather than the order as it now is, all of which clients see.
"""

from __future__ import annotations

import time
from typing import Any

from order_service.adapters.dynamodb import dynamodb_client, from_item, to_item
from order_service.domain.model import RecordedRequest

KEY_PREFIX = "order-api/idempotency-key#"
# Before these records had a prefix of their own they were written under this one, which
# looked like a Powertools record's. Read for one TTL (a day) after the change is deployed,
# so a client's retry across the deploy still finds its order; then delete it.
LEGACY_KEY_PREFIX = "order_service.place_order#"
REQUEST_TTL_SECONDS = 24 * 3600  # how long an Idempotency-Key is remembered


def record_id(customer_id: str, key: str, prefix: str = KEY_PREFIX) -> str:
    # Keys are per customer: two customers may pick the same key.
    return f"{prefix}{customer_id}#{key}"


class DynamoDBIdempotencyKeys:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self.client = dynamodb_client(client)

    def find(self, customer_id: str, key: str) -> RecordedRequest | None:
        for prefix in (KEY_PREFIX, LEGACY_KEY_PREFIX):
            item = self.client.get_item(
                TableName=self.table, Key={"id": {"S": record_id(customer_id, key, prefix)}}, ConsistentRead=True
            ).get("Item")
            if item:
                record = from_item(item)
                if int(record["expiration"]) < time.time():  # TTL deletes lazily
                    return None
                return RecordedRequest(
                    customer_id=customer_id, key=key, request_hash=record["request_hash"], order_id=record["order_id"]
                )
        return None

    def claim(self, request: RecordedRequest) -> dict[str, Any]:
        """The transaction item that records `request`'s key, unless a live record has it
        (then the transaction fails with ConditionalCheckFailed on this item)."""
        now = int(time.time())
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(
                    {
                        "id": record_id(request.customer_id, request.key),
                        "request_hash": request.request_hash,
                        "order_id": request.order_id,
                        "expiration": now + REQUEST_TTL_SECONDS,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(id) OR expiration < :now",
                "ExpressionAttributeValues": {":now": {"N": str(now)}},
            }
        }
