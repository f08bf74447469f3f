"""Every error the order domain can raise: what went wrong (a machine-readable code, a
message, details), never how a transport answers it. The REST API maps them to HTTP
statuses in one place (order_service/handlers/errors.py)."""

from __future__ import annotations


class OrderError(Exception):
    code = "ORDER_ERROR"

    def __init__(self, message: str, details: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UnknownProducts(OrderError):
    """The request is well formed; the catalogue (state) has no such product."""

    code = "UNKNOWN_SKU"

    def __init__(self, skus: list[str]) -> None:
        super().__init__(
            f"unknown sku: {', '.join(skus)}",
            [{"sku": sku, "reason": "not in the catalogue"} for sku in skus],
        )
        self.skus = skus


class OutOfStock(OrderError):
    code = "OUT_OF_STOCK"

    def __init__(self, skus: list[str]) -> None:
        super().__init__(
            f"not enough stock for: {', '.join(skus)}",
            [{"sku": sku, "reason": "quantity above available stock"} for sku in skus],
        )
        self.skus = skus


class StockShort(Exception):
    """Raised by the store when the stock shard an order meant to take from has less than it
    needs (`skus` names the lines): the domain reads every shard and picks again."""

    def __init__(self, skus: list[str]) -> None:
        super().__init__(", ".join(skus))
        self.skus = skus


class SkuReserved(OrderError):
    """The SKU is the key of another product's stock shard (`<SKU>#<k>`), or a shard key
    this product needs is an existing product's SKU."""

    code = "SKU_RESERVED"

    def __init__(self, sku: str) -> None:
        super().__init__(
            f"{sku} is the key of a stock shard (`<SKU>#<shard>`) and another product's SKU",
            [{"sku": sku, "reason": "a stock shard's key"}],
        )
        self.sku = sku


class IdempotencyKeyReused(OrderError):
    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str) -> None:
        super().__init__(
            "this Idempotency-Key was already used with a different request body",
            [{"header": "Idempotency-Key", "reason": "reused with another request"}],
        )
        self.key = key


class RequestAlreadyRecorded(Exception):
    """Raised by the store when an Idempotency-Key was claimed by a concurrent request."""


class OrderNotCancellable(OrderError):
    def __init__(self, order_id: str, status: str) -> None:
        shipped = status in ("SHIPPED", "DELIVERED")
        self.code = "ORDER_ALREADY_SHIPPED" if shipped else "ORDER_NOT_CANCELLABLE"
        super().__init__(
            f"order {order_id} is {status} and can no longer be cancelled",
            [{"order_id": order_id, "status": status}],
        )


class OrderBusy(OrderError):
    code = "ORDER_BUSY"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} kept changing while it was being cancelled; try again")


class StoreBusy(OrderError):
    """DynamoDB kept refusing for reasons that say nothing about the order: a transaction
    cancelled because another write touched one of its items (TransactionConflict), or
    throttling that outlasted the client's retries. Transient: the caller may try again in a
    moment (the API says when; a consumer fails the record and SQS delivers it again)."""

    code = "STORE_BUSY"

    def __init__(self, reason: str) -> None:
        super().__init__("the order store is busy; try again in a moment", [{"reason": reason}])


class ProductNotFound(OrderError):
    code = "PRODUCT_NOT_FOUND"

    def __init__(self, sku: str, message: str | None = None) -> None:
        super().__init__(message or f"no product {sku}", [{"sku": sku}])
        self.sku = sku


class InvoiceNotReady(OrderError):
    """Not missing: the order exists and its invoice follows within seconds."""

    code = "INVOICE_NOT_READY"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} has no invoice yet")


class InvalidCursor(OrderError):
    """A cursor is an opaque name of a page; one this API did not give the caller names
    no page of theirs (as unknown as an order id that is not the caller's)."""

    code = "INVALID_CURSOR"

    def __init__(self) -> None:
        super().__init__("the `next` cursor is not one this API gave you")


class OrderNotFound(OrderError):
    code = "ORDER_NOT_FOUND"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id
