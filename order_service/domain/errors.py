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
    code = "UNKNOWN_SKU"
    http_status = 422

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


class OrderNotFound(OrderError):
    code = "ORDER_NOT_FOUND"
    http_status = 404

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id
