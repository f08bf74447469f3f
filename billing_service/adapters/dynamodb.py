"""The payments table on DynamoDB: one row per order (key `order_id`), written once.

The row never holds the payment token (Payment has no field for it).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from billing_service.domain.model import Payment

_NUMBERS = {"amount_cents"}


def to_item(payment: Payment) -> dict[str, dict[str, str]]:
    item: dict[str, dict[str, str]] = {}
    for name, value in payment.model_dump(mode="json", exclude_none=True).items():
        item[name] = {"N": str(value)} if name in _NUMBERS else {"S": str(value)}
    return item


def from_item(item: dict[str, dict[str, str]]) -> Payment:
    return Payment.model_validate({name: next(iter(value.values())) for name, value in item.items()})


class DynamoDBPaymentStore:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        if client is None:
            from events.aws import client as make_client

            client = make_client("dynamodb")
        self.client = client

    def get(self, order_id: str) -> Payment | None:
        response = self.client.get_item(TableName=self.table, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None

    def add(self, payment: Payment) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(payment),
                ConditionExpression="attribute_not_exists(order_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
