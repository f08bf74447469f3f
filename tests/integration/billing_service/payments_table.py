"""The payments table as template.yaml declares it (key `order_id`), for moto."""

from __future__ import annotations

from typing import Any

import boto3

PAYMENTS_TABLE = "payments"


def create_payments_table(name: str = PAYMENTS_TABLE) -> str:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def payment_rows() -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=PAYMENTS_TABLE)["Items"]


def payment_row(order_id: str) -> dict[str, Any]:
    item = boto3.client("dynamodb").get_item(TableName=PAYMENTS_TABLE, Key={"order_id": {"S": order_id}})
    return item["Item"]
