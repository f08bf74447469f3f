"""The order service's tables under moto, shaped as in template.yaml."""

from __future__ import annotations

import boto3

from scripts.stack import DEMO_CATALOGUE


def create_order_tables(stock: dict[str, int] | None = None) -> dict[str, str]:
    ddb = boto3.client("dynamodb")
    for name, key in (("products", "sku"), ("outbox", "event_id"), ("idempotency", "id")):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    ddb.create_table(  # as in template.yaml, with the customers' index
        TableName="orders",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("order_id", "customer_id", "created_at")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_customer",
                "KeySchema": [
                    {"AttributeName": "customer_id", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("s3").create_bucket(Bucket="invoices")
    for product in DEMO_CATALOGUE:
        ddb.put_item(
            TableName="products",
            Item={
                "sku": {"S": product["sku"]},
                "name": {"S": product["name"]},
                "price_cents": {"N": str(product["price_cents"])},
                "currency": {"S": product["currency"]},
                "stock": {"N": str((stock or {}).get(product["sku"], product["stock"]))},
            },
        )
    key_id = boto3.client("kms").create_key(Description="payment tokens")["KeyMetadata"]["KeyId"]
    return {
        "PAYMENT_TOKEN_KEY_ID": key_id,
        "ORDERS_TABLE": "orders",
        "PRODUCTS_TABLE": "products",
        "OUTBOX_TABLE": "outbox",
        "IDEMPOTENCY_TABLE": "idempotency",
        "INVOICE_BUCKET": "invoices",
    }


def outbox_stream_event() -> dict:
    """The outbox table's current items as the INSERT records of a DynamoDB stream batch."""
    return stream_inserts(boto3.client("dynamodb").scan(TableName="outbox")["Items"])


def stream_inserts(items: list[dict]) -> dict:
    """Outbox items as the INSERT records of one DynamoDB stream batch, as the relay gets them."""
    return {
        "Records": [
            {
                "eventID": str(index),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"event_id": item["event_id"]},
                    "NewImage": item,
                    "SequenceNumber": str(100 + index),
                    "SizeBytes": 100,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/outbox/stream/2026-01-01T00:00:00.000",
            }
            for index, item in enumerate(items)
        ]
    }


def outbox_size() -> int:
    return int(boto3.client("dynamodb").scan(TableName="outbox", Select="COUNT")["Count"])


def stock_of(sku: str) -> int:
    item = boto3.client("dynamodb").get_item(TableName="products", Key={"sku": {"S": sku}})["Item"]
    return int(item["stock"]["N"])


def order_count() -> int:
    return int(boto3.client("dynamodb").scan(TableName="orders", Select="COUNT")["Count"])
