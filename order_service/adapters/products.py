"""The products table: the catalogue, and each product's available stock.

A product's stock is spread over its stock shards (order_service.domain.stock): shard 0
is the product item itself (`sku`, with name, price, `stock`, `shards`, `shard_items`),
shard k > 0 is the item `<SKU>#<k>` (`stock`, and `shard_of` naming its product). A
product without `shards` is one shard: the layout from before there were shards.

Stock is reserved in the transaction that stores an order and released in the one that
first moves it to a status where the goods never left; those transactions are built by
the orders store and order_store.py, from the items this store gives them (reserve,
release), so stock and orders can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from order_service.adapters.dynamodb import (
    cancellation_codes,
    dynamodb_client,
    from_item,
    retrying,
    to_attribute,
    transient_as_busy,
)
from order_service.domain.errors import ProductNotFound, SkuReserved, StoreBusy
from order_service.domain.model import Product
from order_service.domain.stock import spread

SHARD_OF = "shard_of"  # on a shard item (k > 0): the SKU of its product
RESTOCK_ROUNDS = 4  # a restock that lost to a concurrent one (shards changed) reads again


def shard_key(sku: str, shard: int) -> str:
    return sku if shard == 0 else f"{sku}#{shard}"


def _shard_items(item: dict[str, Any]) -> int:
    return int(item.get("shard_items") or item.get("shards") or 1)


def _product(item: dict[str, Any], stock: int | None = None) -> Product:
    data = from_item(item)
    shards = int(data.get("shards") or 1)
    data.update(shards=shards, shard_items=_shard_items(data))
    if stock is not None:
        data["stock"] = stock
    return Product.model_validate(data)


class DynamoDBProducts:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self.client = dynamodb_client(client)

    # Reading --------------------------------------------------------------------
    def list_products(self) -> list[Product]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table}
        while True:
            page = self.client.scan(**kwargs)  # the catalogue is small and bounded
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # The scan holds the shard items too: each product's stock is its shards' sum.
        stocks: dict[str, dict[str, int]] = defaultdict(dict)
        for item in items:
            if SHARD_OF in item:
                stocks[item[SHARD_OF]["S"]][item["sku"]["S"]] = int(item.get("stock", {}).get("N", "0"))
        products = []
        for item in items:
            if SHARD_OF in item:
                continue
            sku = item["sku"]["S"]
            more = (stocks[sku].get(shard_key(sku, k), 0) for k in range(1, _shard_items(from_item(item))))
            products.append(_product(item, int(item["stock"]["N"]) + sum(more)))
        return sorted(products, key=lambda product: product.sku)

    def get_products(self, skus: list[str], count_stock: bool = True) -> dict[str, Product]:
        items = {sku: item for sku, item in self._items(skus).items() if SHARD_OF not in item}
        if not count_stock:
            return {sku: _product(item) for sku, item in items.items()}
        sharded = {sku: _shard_items(from_item(item)) for sku, item in items.items()}
        shard_items = self._items(
            [shard_key(sku, k) for sku, count in sharded.items() for k in range(1, count)], consistent=False
        )
        return {
            sku: _product(
                item,
                int(item["stock"]["N"])
                + sum(_stock(shard_items.get(shard_key(sku, k))) for k in range(1, sharded[sku])),
            )
            for sku, item in items.items()
        }

    def shard_stocks(self, skus: list[str]) -> dict[str, list[int]]:
        """Every shard's stock, strongly consistent; a SKU that is no product has none."""
        products = {sku: item for sku, item in self._items(skus, consistent=True).items() if SHARD_OF not in item}
        counts = {sku: _shard_items(from_item(item)) for sku, item in products.items()}
        shards = self._items([shard_key(sku, k) for sku, n in counts.items() for k in range(1, n)], consistent=True)
        found: dict[str, list[int]] = {sku: [] for sku in skus}
        for sku, item in products.items():
            found[sku] = [_stock(item)] + [_stock(shards.get(shard_key(sku, k))) for k in range(1, counts[sku])]
        return found

    def _items(self, keys: list[str], consistent: bool = False) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"sku": {"S": key}} for key in keys[start : start + 100]],
                    **({"ConsistentRead": True} if consistent else {}),
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self.table, []):
                    found[item["sku"]["S"]] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    # Writing the catalogue --------------------------------------------------------
    def put_product(self, product: Product) -> Product:
        """A new product, its stock spread over `product.shards`; if its SKU turns out to be
        taken meanwhile (another admin created it), its stock is set instead."""
        fields = {"name": product.name, "price_cents": product.price_cents, "currency": product.currency}
        return self._write_stock(product.sku, product.stock, product.shards, fields, new=True)

    def set_stock(
        self, sku: str, stock: int, price_cents: int | None, name: str | None, shards: int | None = None
    ) -> Product:
        fields = {key: value for key, value in {"price_cents": price_cents, "name": name}.items() if value is not None}
        return self._write_stock(sku, stock, shards, fields, new=False)

    def _write_stock(self, sku: str, total: int, shards: int | None, fields: dict[str, Any], new: bool) -> Product:
        """Set the available total: every shard in one transaction (stock.spread), as the
        single item's stock was set before there were shards: a plain overwrite, whatever
        orders took meanwhile (they hold their units; what is left is `total`). The
        product item's condition is its shard layout as read, so two restocks that change
        the shards cannot leave units on a shard that is not counted."""
        for _ in range(RESTOCK_ROUNDS):
            current = None if new else self._items([sku], consistent=True).get(sku)
            if current is not None and SHARD_OF in current:
                raise SkuReserved(sku)
            if not new and current is None:
                raise ProductNotFound(sku)
            old_items = _shard_items(from_item(current)) if current else 1
            count = shards or (int(from_item(current).get("shards") or 1) if current else 1)
            items = max(old_items, count)
            stocks = spread(total, count, items)
            updates = {**fields, "stock": stocks[0], "shards": count, "shard_items": items}
            names = {f"#u{i}": key for i, key in enumerate(updates)}
            values = {f":u{i}": to_attribute(value) for i, value in enumerate(updates.values())}
            expression = "SET " + ", ".join(f"#u{i} = :u{i}" for i in range(len(updates)))
            if new:
                condition = "attribute_not_exists(sku)"
            else:
                values[":items"] = to_attribute(old_items)
                condition = "attribute_exists(sku) AND attribute_not_exists(shard_of) AND " + (
                    "(attribute_not_exists(shard_items) OR shard_items = :items)"
                    if old_items == 1
                    else "shard_items = :items"
                )
            transaction: list[dict[str, Any]] = [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"sku": {"S": sku}},
                        "UpdateExpression": expression,
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                }
            ]
            transaction += [self._set_shard(sku, k, stocks[k]) for k in range(1, items)]
            try:
                retrying(partial(self._transact, transaction))
            except _Refused as refused:
                if refused.codes[:1] == ["ConditionalCheckFailed"]:
                    new = False  # created meanwhile, or its shards changed: read it again
                    continue
                raise SkuReserved(shard_key(sku, refused.codes.index("ConditionalCheckFailed"))) from None
            known = from_item(current) if current else {}
            return Product.model_validate({**known, **updates, "sku": sku, "stock": total})
        raise StoreBusy(f"{sku} kept changing while its stock was set")

    def _set_shard(self, sku: str, shard: int, stock: int) -> dict[str, Any]:
        """A shard item's stock; never over a product whose SKU happens to be the shard's key."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"sku": {"S": shard_key(sku, shard)}},
                "UpdateExpression": "SET stock = :stock, shard_of = :of",
                "ConditionExpression": "attribute_not_exists(sku) OR shard_of = :of",
                "ExpressionAttributeValues": {":stock": {"N": str(stock)}, ":of": {"S": sku}},
            }
        }

    def _transact(self, items: list[dict[str, Any]]) -> None:
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            transient_as_busy(error)
            codes = cancellation_codes(error)
            if error.response["Error"]["Code"] == "TransactionCanceledException" and "ConditionalCheckFailed" in codes:
                raise _Refused(codes) from error
            raise

    # Transaction items, for the stores whose writes move stock ----------------
    def reserve(self, sku: str, shard: int, quantity: int) -> dict[str, Any]:
        """Take `quantity` off a stock shard; the transaction fails if it has less."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"sku": {"S": shard_key(sku, shard)}},
                "UpdateExpression": "SET stock = stock - :quantity",
                "ConditionExpression": "attribute_exists(sku) AND stock >= :quantity",
                "ExpressionAttributeValues": {":quantity": {"N": str(quantity)}},
            }
        }

    def release(self, sku: str, shard: int, quantity: int) -> dict[str, Any]:
        """Put `quantity` back on sale, on the shard it was taken from."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"sku": {"S": shard_key(sku, shard)}},
            "UpdateExpression": "ADD stock :quantity",
            "ExpressionAttributeValues": {":quantity": {"N": str(quantity)}},
        }
        if shard:  # keeps the item a shard (never a nameless product), even if it was deleted
            update["UpdateExpression"] += " SET shard_of = :of"
            update["ExpressionAttributeValues"][":of"] = {"S": sku}
        return {"Update": update}


class _Refused(Exception):
    """A restock's transaction was cancelled for a condition (codes: one per item)."""

    def __init__(self, codes: list[str]) -> None:
        super().__init__(", ".join(codes))
        self.codes = codes


def _stock(item: dict[str, Any] | None) -> int:
    return int(item["stock"]["N"]) if item and "stock" in item else 0
