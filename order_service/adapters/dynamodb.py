"""The order store on DynamoDB: a products table (catalogue and stock) and an orders table.

Stock is reserved in the same transaction that stores the order, and released in the
same transaction that first moves the order to a status where the goods never left
(marking it released), so stock and orders can never disagree. Every write to an order
is conditioned on the version it read (see order_service.domain.lifecycle).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from events.faults import call_with_retries
from events.models import Event, OrderLine, parse_event
from order_service.adapters.kms import TokenSealer
from order_service.domain.errors import (
    InvalidCursor,
    OutOfStock,
    ProductNotFound,
    RequestAlreadyRecorded,
    StoreBusy,
)
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, RecordedRequest, TimelineEntry

REQUEST_TTL_SECONDS = 24 * 3600  # how long an Idempotency-Key is remembered
T = TypeVar("T")
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(value: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(val) for key, val in value.items() if val is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return _plain({key: _deserializer.deserialize(val) for key, val in item.items()})


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the models want ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(val) for key, val in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(val) for val in value]
    if isinstance(value, set):
        return sorted(_plain(val) for val in value)
    return value


def _cancellation_codes(error: ClientError) -> list[str]:
    return [reason.get("Code", "") for reason in error.response.get("CancellationReasons", [])]


# Why DynamoDB refuses a request without it saying anything about the data: another
# write touched an item of the transaction at the same moment, or throttling outlasted
# botocore's own retries. Only ConditionalCheckFailed means "not allowed".
TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
TRANSIENT_ERRORS = frozenset(
    {
        "TransactionConflictException",
        "TransactionInProgressException",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
    }
)
ATTEMPTS = 4  # in the invocation, with jittered backoff; then StoreBusy


def is_transient(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "TransactionCanceledException":
        codes = _cancellation_codes(error)
        return "ConditionalCheckFailed" not in codes and any(c in TRANSIENT_REASONS for c in codes)
    return code in TRANSIENT_ERRORS


def _transient_as_busy(error: ClientError) -> None:
    if is_transient(error):
        raise StoreBusy(error.response.get("Error", {}).get("Code", "")) from error


def retrying(call: Callable[[], T]) -> T:
    """`call` again after a transient refusal, with jittered backoff; StoreBusy at last."""
    return call_with_retries(call, attempts=ATTEMPTS, base_delay=0.05, retry_on=(StoreBusy,))


class DynamoDBOrderStore:
    def __init__(
        self,
        orders_table: str,
        products_table: str,
        outbox_table: str = "",
        requests_table: str = "",
        sealer: TokenSealer | None = None,
        client: Any = None,
    ) -> None:
        self.orders_table = orders_table
        self.products_table = products_table
        self.outbox_table = outbox_table
        self.requests_table = requests_table
        self.sealer = sealer
        if client is None:
            from events.aws import client as make_client

            client = make_client("dynamodb")
        self.client = client

    # catalogue -------------------------------------------------------------
    def list_products(self) -> list[Product]:
        products: list[Product] = []
        kwargs: dict[str, Any] = {"TableName": self.products_table}
        while True:
            page = self.client.scan(**kwargs)  # the catalogue is small and bounded
            products += [Product.model_validate(from_item(item)) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(products, key=lambda product: product.sku)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_products(self, skus: list[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        for start in range(0, len(skus), 100):
            request = {self.products_table: {"Keys": [{"sku": {"S": sku}} for sku in skus[start : start + 100]]}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.products_table, []):
                    product = Product.model_validate(from_item(item))
                    found[product.sku] = product
                request = response.get("UnprocessedKeys") or {}
        return found

    def put_product(self, product: Product) -> Product:
        self.client.put_item(TableName=self.products_table, Item=to_item(product.model_dump()))
        return product

    # orders ----------------------------------------------------------------
    def create_order(self, order: Order, announcement: Event[Any], request: RecordedRequest | None) -> None:
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.orders_table,
                    "Item": to_item(_order_to_dict(order)),
                    "ConditionExpression": "attribute_not_exists(order_id)",
                }
            },
            {
                # The transactional outbox: the relay (a stream consumer of this table)
                # publishes the event, so a stored order always reaches the topic.
                "Put": {
                    "TableName": self.outbox_table,
                    "Item": to_item(self._outbox_entry(announcement)),
                }
            },
        ]
        if request is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.requests_table,
                        "Item": to_item(
                            {
                                "id": _request_id(request.customer_id, request.key),
                                "request_hash": request.request_hash,
                                "order_id": request.order_id,
                                "expiration": int(time.time()) + REQUEST_TTL_SECONDS,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(id) OR expiration < :now",
                        "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}},
                    }
                }
            )
        first_line = len(items)
        for line in order.lines:
            items.append(
                {
                    "Update": {
                        "TableName": self.products_table,
                        "Key": {"sku": {"S": line.sku}},
                        "UpdateExpression": "SET stock = stock - :quantity",
                        "ConditionExpression": "attribute_exists(sku) AND stock >= :quantity",
                        "ExpressionAttributeValues": {":quantity": {"N": str(line.quantity)}},
                    }
                }
            )
        retrying(lambda: self._create(items, order, request, first_line))

    def _create(
        self, items: list[dict[str, Any]], order: Order, request: RecordedRequest | None, first_line: int
    ) -> None:
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            _transient_as_busy(error)
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            codes = _cancellation_codes(error)
            if request is not None and len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
                raise RequestAlreadyRecorded(request.key) from error
            line_codes = zip(order.lines, codes[first_line:], strict=False)
            short = [line.sku for line, code in line_codes if code == "ConditionalCheckFailed"]
            if not short and codes:  # no per-item reasons: name every line
                raise
            raise OutOfStock(short or [line.sku for line in order.lines]) from error

    def _outbox_entry(self, event: Event[Any]) -> dict[str, Any]:
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
            if self.sealer is None:
                raise RuntimeError("a payment token may enter the outbox only sealed")
            entry["sealed_payment_token"] = self.sealer.seal(token, event.order_id)
        entry["event"] = json.dumps(body)
        return entry

    def outbox_event(self, entry: dict[str, Any]) -> Event[Any]:
        """The event an outbox entry (as its stream shows it) holds, token unsealed."""
        body = json.loads(entry["event"])
        if "sealed_payment_token" in entry:
            if self.sealer is None:
                raise RuntimeError("the relay needs the token sealer")
            body["data"]["payment_token"] = self.sealer.unseal(entry["sealed_payment_token"], entry["order_id"])
        return parse_event(json.dumps(body))

    def find_request(self, customer_id: str, key: str) -> RecordedRequest | None:
        item = self.client.get_item(
            TableName=self.requests_table, Key={"id": {"S": _request_id(customer_id, key)}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        record = from_item(item)
        if int(record["expiration"]) < time.time():  # TTL deletes lazily
            return None
        return RecordedRequest(
            customer_id=customer_id, key=key, request_hash=record["request_hash"], order_id=record["order_id"]
        )

    def delete_outbox_entry(self, event_id: str) -> None:
        self.client.delete_item(TableName=self.outbox_table, Key={"event_id": {"S": event_id}})

    def get_order(self, order_id: str) -> Order | None:
        response = self.client.get_item(
            TableName=self.orders_table, Key={"order_id": {"S": order_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _order_from_dict(from_item(item)) if item else None

    def record(
        self,
        order: Order,
        entry: TimelineEntry,
        status: OrderStatus,
        facts: dict[str, str | int],
        release: list[OrderLine] | None,
    ) -> bool:
        fact_names, fact_values, set_facts = _fact_updates(facts)
        released = ", stock_released = :true" if release else ""
        update = self._versioned_update(
            order,
            f"SET #status = :status{released}{set_facts}",
            entry,
            {"#status": "status", **fact_names},
            {":status": {"S": status.value}, **fact_values, **({":true": {"BOOL": True}} if release else {})},
        )
        items: list[dict[str, Any]] = [{"Update": update}]
        items += [_stock_change(self.products_table, line.sku, line.quantity) for line in release or []]
        return self._transact_if(items)

    def cancel(
        self, order: Order, announcement: Event[Any], entry: TimelineEntry, status: OrderStatus, at: datetime
    ) -> bool:
        update = self._versioned_update(
            order,
            "SET #status = :status, cancelled_at = :at",
            entry,
            {"#status": "status"},
            {":status": {"S": status.value}, ":at": {"S": at.isoformat()}},
        )
        items: list[dict[str, Any]] = [
            {"Update": update},
            {"Put": {"TableName": self.outbox_table, "Item": to_item(self._outbox_entry(announcement))}},
        ]
        return self._transact_if(items)

    def _versioned_update(
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
            "TableName": self.orders_table,
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
                ":entry": {"L": [_serializer.serialize(_entry_to_dict(entry))]},
                ":event_ids": {"SS": [entry.event_id]},
                ":fact": {"SS": [entry.event_type]},
                **({":version": {"N": str(order.version)}} if order.version else {}),
            },
        }

    def _transact_if(self, items: list[dict[str, Any]]) -> bool:
        """One transaction; False when the condition of its first item (the order, whose
        condition encodes the rule) does not hold. A conflict or throttle is retried,
        then raises StoreBusy: it says nothing about whether the rule holds."""

        def attempt() -> bool:
            try:
                self.client.transact_write_items(TransactItems=items)
            except ClientError as error:
                _transient_as_busy(error)
                codes = _cancellation_codes(error)
                if error.response["Error"]["Code"] == "TransactionCanceledException" and codes[:1] == [
                    "ConditionalCheckFailed"
                ]:
                    return False
                raise
            return True

        return retrying(attempt)

    def list_customer_orders(self, customer_id: str, limit: int, cursor: str | None) -> tuple[list[Order], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.orders_table,
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

    def set_stock(self, sku: str, stock: int, price_cents: int | None, name: str | None) -> Product:
        updates = {"stock": stock, "price_cents": price_cents, "name": name}
        given = {key: value for key, value in updates.items() if value is not None}
        names = {f"#u{i}": key for i, key in enumerate(given)}
        try:
            item = self.client.update_item(
                TableName=self.products_table,
                Key={"sku": {"S": sku}},
                UpdateExpression="SET " + ", ".join(f"#u{i} = :u{i}" for i in range(len(given))),
                ConditionExpression="attribute_exists(sku)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    f":u{i}": _serializer.serialize(value) for i, value in enumerate(given.values())
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ProductNotFound(sku) from error
            raise
        return Product.model_validate(from_item(item))


CUSTOMER_INDEX = "by_customer"


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


def _stock_change(products_table: str, sku: str, quantity: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": products_table,
            "Key": {"sku": {"S": sku}},
            "UpdateExpression": "ADD stock :quantity",
            "ExpressionAttributeValues": {":quantity": {"N": str(quantity)}},
        }
    }


def _fact_updates(facts: dict[str, str | int]) -> tuple[dict[str, str], dict[str, Any], str]:
    names = {f"#fact{i}": name for i, name in enumerate(sorted(facts))}
    values = {f":fact{i}": _serializer.serialize(facts[name]) for i, name in enumerate(sorted(facts))}
    return names, values, "".join(f", #fact{i} = :fact{i}" for i in range(len(facts)))


def _request_id(customer_id: str, key: str) -> str:
    # Keys are per customer: two customers may pick the same key.
    return f"order_service.place_order#{customer_id}#{key}"


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
