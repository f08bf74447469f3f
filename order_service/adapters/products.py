"""The products table: the catalogue, and each product's available stock.

Stock is reserved in the transaction that stores an order and released in the one that
first moves it to a status where the goods never left; those transactions are built by
the orders store and order_store.py, from the items this store gives them (reserve,
release), so stock and orders can never disagree.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from order_service.adapters.dynamodb import dynamodb_client, from_item, to_attribute, to_item
from order_service.domain.errors import ProductNotFound
from order_service.domain.model import Product


class DynamoDBProducts:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self.client = dynamodb_client(client)

    def list_products(self) -> list[Product]:
        products: list[Product] = []
        kwargs: dict[str, Any] = {"TableName": self.table}
        while True:
            page = self.client.scan(**kwargs)  # the catalogue is small and bounded
            products += [Product.model_validate(from_item(item)) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(products, key=lambda product: product.sku)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_products(self, skus: list[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        for start in range(0, len(skus), 100):
            request = {self.table: {"Keys": [{"sku": {"S": sku}} for sku in skus[start : start + 100]]}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table, []):
                    product = Product.model_validate(from_item(item))
                    found[product.sku] = product
                request = response.get("UnprocessedKeys") or {}
        return found

    def put_product(self, product: Product) -> Product:
        self.client.put_item(TableName=self.table, Item=to_item(product.model_dump()))
        return product

    def set_stock(self, sku: str, stock: int, price_cents: int | None, name: str | None) -> Product:
        updates = {"stock": stock, "price_cents": price_cents, "name": name}
        given = {key: value for key, value in updates.items() if value is not None}
        names = {f"#u{i}": key for i, key in enumerate(given)}
        try:
            item = self.client.update_item(
                TableName=self.table,
                Key={"sku": {"S": sku}},
                UpdateExpression="SET " + ", ".join(f"#u{i} = :u{i}" for i in range(len(given))),
                ConditionExpression="attribute_exists(sku)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={f":u{i}": to_attribute(value) for i, value in enumerate(given.values())},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ProductNotFound(sku) from error
            raise
        return Product.model_validate(from_item(item))

    # Transaction items, for the stores whose writes move stock ----------------
    def reserve(self, sku: str, quantity: int) -> dict[str, Any]:
        """Take `quantity` off the stock; the transaction fails if there is not that much."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"sku": {"S": sku}},
                "UpdateExpression": "SET stock = stock - :quantity",
                "ConditionExpression": "attribute_exists(sku) AND stock >= :quantity",
                "ExpressionAttributeValues": {":quantity": {"N": str(quantity)}},
            }
        }

    def release(self, sku: str, quantity: int) -> dict[str, Any]:
        """Put `quantity` back on sale."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"sku": {"S": sku}},
                "UpdateExpression": "ADD stock :quantity",
                "ExpressionAttributeValues": {":quantity": {"N": str(quantity)}},
            }
        }
