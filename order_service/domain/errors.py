"""Every error the order domain can raise; mapped to HTTP answers in one place
(order_service/handlers/api.py)."""

from __future__ import annotations


class OrderError(Exception):
    code = "ORDER_ERROR"
    http_status = 400

    def __init__(self, message: str, details: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UnknownProducts(OrderError):
    # 409, not 422: the request is well formed; the catalogue (state) has no such product.
    code = "UNKNOWN_SKU"
    http_status = 409

    def __init__(self, skus: list[str]) -> None:
        super().__init__(
            f"unknown sku: {', '.join(skus)}",
            [{"sku": sku, "reason": "not in the catalogue"} for sku in skus],
        )
        self.skus = skus


class OutOfStock(OrderError):
    code = "OUT_OF_STOCK"
    http_status = 409

    def __init__(self, skus: list[str]) -> None:
        super().__init__(
            f"not enough stock for: {', '.join(skus)}",
            [{"sku": sku, "reason": "quantity above available stock"} for sku in skus],
        )
        self.skus = skus


class IdempotencyKeyReused(OrderError):
    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 409

    def __init__(self, key: str) -> None:
        super().__init__(
            "this Idempotency-Key was already used with a different request body",
            [{"header": "Idempotency-Key", "reason": "reused with another request"}],
        )
        self.key = key


class RequestAlreadyRecorded(Exception):
    """Raised by the store when an Idempotency-Key was claimed by a concurrent request."""


class OrderNotCancellable(OrderError):
    http_status = 409

    def __init__(self, order_id: str, status: str) -> None:
        shipped = status in ("SHIPPED", "DELIVERED")
        self.code = "ORDER_ALREADY_SHIPPED" if shipped else "ORDER_NOT_CANCELLABLE"
        super().__init__(
            f"order {order_id} is {status} and can no longer be cancelled",
            [{"order_id": order_id, "status": status}],
        )


class OrderBusy(OrderError):
    code = "ORDER_BUSY"
    http_status = 409

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} kept changing while it was being cancelled; try again")


class StoreBusy(OrderError):
    """DynamoDB kept refusing for reasons that say nothing about the order: a transaction
    cancelled because another write touched one of its items (TransactionConflict), or
    throttling that outlasted the client's retries. Transient: the API answers 503 with
    Retry-After; a consumer fails the record and SQS delivers it again."""

    code = "STORE_BUSY"
    http_status = 503
    retry_after = 1  # seconds

    def __init__(self, reason: str) -> None:
        super().__init__("the order store is busy; try again in a moment", [{"reason": reason}])


class ProductNotFound(OrderError):
    code = "PRODUCT_NOT_FOUND"
    http_status = 404

    def __init__(self, sku: str, message: str | None = None) -> None:
        super().__init__(message or f"no product {sku}", [{"sku": sku}])
        self.sku = sku


class Forbidden(OrderError):
    code = "FORBIDDEN"
    http_status = 403


class InvoiceNotReady(OrderError):
    # 409 + Retry-After, not 404: the order exists and its invoice follows within seconds.
    code = "INVOICE_NOT_READY"
    http_status = 409
    retry_after = 2  # seconds

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} has no invoice yet")


class InvalidCursor(OrderError):
    # 404, like an order id that is not the caller's: a cursor is an opaque name of a page,
    # and one this API did not give the caller names no page of theirs.
    code = "INVALID_CURSOR"
    http_status = 404

    def __init__(self) -> None:
        super().__init__("the `next` cursor is not one this API gave you")


class OrderNotFound(OrderError):
    code = "ORDER_NOT_FOUND"
    http_status = 404

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id
