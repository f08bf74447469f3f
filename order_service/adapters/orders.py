"""The orders table, and the writes that move an order along its lifecycle.

Every write to an order is conditioned on the version it read (see
order_service.domain.lifecycle). Recording an event that makes the goods go back on sale
releases the order's stock in the same transaction (marking it released), so this store
is given the products store as well: stock and orders can never disagree. That is the
only other table it writes.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from order_service.adapters.dynamodb import dynamodb_client, from_item, to_attribute, to_item, transact_if, update_if
from order_service.adapters.products import DynamoDBProducts
from order_service.domain.errors import InvalidCursor
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Reservation, TimelineEntry

CUSTOMER_INDEX = "by_customer"


class DynamoDBOrders:
    def __init__(self, table: str, products: DynamoDBProducts, client: Any = None) -> None:
        self.table = table
        self.products = products
        self.client = dynamodb_client(client)

    def get_order(self, order_id: str) -> Order | None:
        response = self.client.get_item(TableName=self.table, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
        item = response.get("Item")
        return _order_from_dict(from_item(item)) if item else None

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": CUSTOMER_INDEX,
            "KeyConditionExpression": "customer_id = :customer",
            "ExpressionAttributeValues": {":customer": {"S": customer_id}},
            "ScanIndexForward": False,  # newest first
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(cursor, customer_id)
        page = self.client.query(**kwargs)
        orders = [_order_from_dict(from_item(item)) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return orders, _encode_cursor(last) if last else None

    def record(
        self,
        order: Order,
        entry: TimelineEntry,
        status: OrderStatus,
        facts: dict[str, str | int],
        release: list[Reservation] | None,
    ) -> bool:
        fact_names, fact_values, set_facts = _fact_updates(facts)
        released = ", stock_released = :true" if release else ""
        update = self.versioned_update(
            order,
            f"SET #status = :status{released}{set_facts}",
            entry,
            {"#status": "status", **fact_names},
            {":status": {"S": status.value}, **fact_values, **({":true": {"BOOL": True}} if release else {})},
        )
        if not release:  # the order alone: no transaction needed
            return update_if(self.client, update)
        items = [{"Update": update}] + [self.products.release(t.sku, t.shard, t.quantity) for t in release]
        return transact_if(self.client, items)

    # Transaction items, for the writes that span tables (order_store.py) ------
    def put_new(self, order: Order) -> dict[str, Any]:
        """The transaction item that stores a new order."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(_order_to_dict(order)),
                "ConditionExpression": "attribute_not_exists(order_id)",
            }
        }

    def versioned_update(
        self,
        order: Order,
        set_clause: str,
        entry: TimelineEntry,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """An update of the order that adds the event (its type, id, timeline entry) and
        bumps the version, conditioned on the version read: a concurrent write of any
        other event makes it fail, and the caller reads again and decides again."""
        condition = "attribute_exists(order_id) AND " + (
            "attribute_not_exists(#version)" if order.version == 0 else "#version = :version"
        )
        return {
            "TableName": self.table,
            "Key": {"order_id": {"S": order.order_id}},
            "UpdateExpression": (
                f"{set_clause}, #version = :next, timeline = list_append(if_not_exists(timeline, :empty), :entry) "
                "ADD event_ids :event_ids, facts :fact"
            ),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {**names, "#version": "version"},
            "ExpressionAttributeValues": {
                **values,
                ":next": {"N": str(order.version + 1)},
                ":empty": {"L": []},
                ":entry": {"L": [to_attribute(_entry_to_dict(entry))]},
                ":event_ids": {"SS": [entry.event_id]},
                ":fact": {"SS": [entry.event_type]},
                **({":version": {"N": str(order.version)}} if order.version else {}),
            },
        }


def _encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, customer_id: str) -> dict[str, Any]:
    """The cursor is opaque to clients; it must be one we made, for this customer."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (
            isinstance(key, dict)
            and set(key) == {"order_id", "customer_id", "created_at"}
            and key["customer_id"] == {"S": customer_id}
            and all(isinstance(value, dict) and isinstance(value.get("S"), str) for value in key.values())
        )
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise InvalidCursor()
    return dict(key)


def _fact_updates(facts: dict[str, str | int]) -> tuple[dict[str, str], dict[str, Any], str]:
    names = {f"#fact{i}": name for i, name in enumerate(sorted(facts))}
    values = {f":fact{i}": to_attribute(facts[name]) for i, name in enumerate(sorted(facts))}
    return names, values, "".join(f", #fact{i} = :fact{i}" for i in range(len(facts)))


def _entry_to_dict(entry: TimelineEntry) -> dict[str, Any]:
    return {key: val for key, val in json.loads(entry.model_dump_json()).items() if val is not None}


# Written by the versioned updates only (string sets, a number), never by a whole put.
_GROWN_BY_UPDATES = ("timeline", "facts", "event_ids", "version", "stock_released")


def _order_to_dict(order: Order) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(order.model_dump_json(exclude_none=True))
    for name in _GROWN_BY_UPDATES:
        data.pop(name, None)
    return data


def _order_from_dict(data: dict[str, Any]) -> Order:
    return Order.model_validate(data)
