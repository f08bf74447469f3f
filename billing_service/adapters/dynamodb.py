"""The payments table on DynamoDB: one row per order (key `order_id`), the single
point where concurrent charges, cancellations and refunds of an order agree.

Every write is a conditional PutItem of the whole row (the role needs no more than
GetItem and PutItem): `add` only where the order has no row, `replace` only where
the row is still in the state it was read in (status and the event ids that own it,
see Payment.version). Reads are strongly consistent.

The row never holds the payment token (Payment has no field for it).
"""

from __future__ import annotations

from typing import Any

from billing_service.domain.model import Payment
from events.items import from_item, model_to_item


class DynamoDBPaymentStore:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        if client is None:
            from events.aws import client as make_client

            client = make_client("dynamodb")
        self.client = client

    def get(self, order_id: str) -> Payment | None:
        item = self.client.get_item(TableName=self.table, Key={"order_id": {"S": order_id}}, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        return Payment.model_validate(from_item(item))

    def add(self, payment: Payment) -> bool:
        return self._put(payment, "attribute_not_exists(order_id)", {}, {})

    def replace(self, current: Payment, new: Payment) -> bool:
        if new.order_id != current.order_id:
            raise ValueError("a payment row cannot change its order")
        conditions: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, dict[str, str]] = {}
        for index, (name, value) in enumerate(current.version().items()):
            names[f"#v{index}"] = name
            if value is None:
                conditions.append(f"attribute_not_exists(#v{index})")
            else:
                conditions.append(f"#v{index} = :v{index}")
                values[f":v{index}"] = {"S": value}
        return self._put(new, " AND ".join(conditions), names, values)

    def _put(self, payment: Payment, condition: str, names: dict[str, str], values: dict[str, Any]) -> bool:
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": model_to_item(payment),
            "ConditionExpression": condition,
        }
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self.client.put_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
