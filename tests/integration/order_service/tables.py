"""The order service's tables under moto, shaped as in template.yaml."""

from __future__ import annotations

import boto3

from scripts.stack import DEMO_CATALOGUE


def create_order_tables(stock: dict[str, int] | None = None) -> dict[str, str]:
    ddb = boto3.client("dynamodb")
    for name, key in (("orders", "order_id"), ("products", "sku")):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
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
    return {"ORDERS_TABLE": "orders", "PRODUCTS_TABLE": "products"}


def stock_of(sku: str) -> int:
    item = boto3.client("dynamodb").get_item(TableName="products", Key={"sku": {"S": sku}})["Item"]
    return int(item["stock"]["N"])


def order_count() -> int:
    return int(boto3.client("dynamodb").scan(TableName="orders", Select="COUNT")["Count"])
