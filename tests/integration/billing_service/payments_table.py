"""The payments table as template.yaml declares it (key `order_id`), for moto."""

from __future__ import annotations

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
