"""How the REST API answers what went wrong: every error is an `ErrorResponse` with a
machine-readable code, and this is the one place that says which HTTP status (and which
Retry-After) each domain error is. The domain's errors say what went wrong, never how
HTTP answers it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import ValidationException
from botocore.exceptions import ClientError

from order_service.adapters.dynamodb import is_transient
from order_service.domain.errors import (
    IdempotencyKeyReused,
    InvalidCursor,
    InvoiceNotReady,
    OrderBusy,
    OrderError,
    OrderNotCancellable,
    OrderNotFound,
    OutOfStock,
    ProductNotFound,
    SkuReserved,
    StoreBusy,
    UnknownProducts,
)
from order_service.models.api import ErrorDetail, ErrorResponse


# The caller, as the API sees it: errors of the HTTP layer, not of the domain.
class Unauthorized(OrderError):
    code = "UNAUTHORIZED"


class EmailNotVerified(OrderError):
    code = "EMAIL_NOT_VERIFIED"


class Forbidden(OrderError):
    code = "FORBIDDEN"


HTTP_STATUS: dict[type[OrderError], int] = {
    Unauthorized: 401,
    EmailNotVerified: 403,
    Forbidden: 403,
    ProductNotFound: 404,
    OrderNotFound: 404,
    # Like an order id that is not the caller's: a cursor this API did not give the caller
    # names no page of theirs.
    InvalidCursor: 404,
    # 409, not 422: the request is well formed; the catalogue (state) has no such product.
    UnknownProducts: 409,
    OutOfStock: 409,
    SkuReserved: 409,
    IdempotencyKeyReused: 409,
    OrderNotCancellable: 409,
    OrderBusy: 409,
    # 409 + Retry-After, not 404: the order exists and its invoice follows within seconds.
    InvoiceNotReady: 409,
    StoreBusy: 503,
}
UNMAPPED_STATUS = 400  # an OrderError of no class above
# "Not yet": when to ask again, in seconds.
RETRY_AFTER: dict[type[OrderError], int] = {StoreBusy: 1, InvoiceNotReady: 2}


def _first(table: dict[type[OrderError], int], error: OrderError) -> int | None:
    return next((table[cls] for cls in type(error).__mro__ if cls in table), None)


def http_status(error: OrderError) -> int:
    status = _first(HTTP_STATUS, error)
    return UNMAPPED_STATUS if status is None else status


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response[str]:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, details=details or []))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def order_error_response(error: OrderError) -> Response[str]:
    response = error_response(http_status(error), error.code, error.message, error.details)
    retry_after = _first(RETRY_AFTER, error)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def install(app: APIGatewayRestResolver) -> None:
    """Answer every error the routes of `app` raise, or Powertools raises for them."""

    @app.exception_handler(OrderError)
    def handle_order_error(error: OrderError) -> Response[str]:
        return order_error_response(error)

    @app.exception_handler(ClientError)
    def handle_store_refusal(error: ClientError) -> Response[str]:
        """Throttling that outlasted botocore's retries on a read or a plain write: the
        same 503 as a busy transaction. Any other AWS error is a bug, and stays a 5xx."""
        if not is_transient(error):
            raise error
        return order_error_response(StoreBusy(error.response.get("Error", {}).get("Code", "")))

    @app.exception_handler(ValidationException)
    def handle_validation_error(error: ValidationException) -> Response[str]:
        details = [
            {
                "field": ".".join(str(part) for part in err.get("loc", ())[1:]) or "body",
                "type": err.get("type"),
                "message": err.get("msg"),
            }
            for err in error.errors()
        ]
        malformed = any(err.get("type") == "json_invalid" for err in error.errors())
        if malformed:
            return error_response(400, "MALFORMED_JSON", "the request body is not valid JSON", details)
        return error_response(422, "VALIDATION_ERROR", "the request does not match the schema", details)

    @app.exception_handler(ValueError)
    def handle_unreadable_multipart(error: ValueError) -> Response[str]:
        """Powertools' multipart/form-data parser raises ValueError on a body it cannot read (no
        boundary, characters outside latin-1). This API takes JSON only: such a body is the
        unsupported content type it is, answered like text/plain. Any other ValueError is a bug."""
        content_type = app.current_event.headers.get("content-type") or ""
        if not content_type.lower().startswith("multipart/"):
            raise error
        details = [
            {
                "field": "body",
                "type": "unsupported_content_type",
                "message": f"Unsupported content type: {content_type}",
            }
        ]
        return error_response(422, "VALIDATION_ERROR", "the request does not match the schema", details)

    @app.not_found
    def handle_not_found(_: Exception) -> Response[str]:
        return error_response(404, "NOT_FOUND", "no such resource")
