"""The REST API: GET /products, POST /orders, GET /orders/{order_id}.

API Gateway's Cognito authorizer has checked the ID token before we run; the caller
is whoever its claims say (`sub`, `email`).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import ValidationException
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from events.observability import logger, metrics, tracer
from order_service.adapters.dynamodb import DynamoDBOrderStore
from order_service.domain import orders
from order_service.domain.errors import OrderError
from order_service.models.api import (
    Customer,
    ErrorDetail,
    ErrorResponse,
    OrderView,
    PlaceOrderRequest,
    ProductList,
    ProductView,
)
from order_service.settings import OrderSettings

settings = OrderSettings.from_env()
store = DynamoDBOrderStore(
    settings.orders_table, settings.products_table, settings.outbox_table, settings.idempotency_table
)
app = APIGatewayRestResolver(enable_validation=True)


class Unauthorized(OrderError):
    code = "UNAUTHORIZED"
    http_status = 401


def _json(status: int, body: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def _error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response[str]:
    return _json(status, ErrorResponse(error=ErrorDetail(code=code, message=message, details=details or [])))


def current_customer() -> Customer:
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.claims or {}) if authorizer else {}
    if not claims.get("sub") or not claims.get("email"):
        raise Unauthorized("no valid identity token")
    return Customer(customer_id=claims["sub"], email=claims["email"])


@app.get("/products")
def list_products() -> Response[str]:
    return _json(200, ProductList(products=[ProductView.of(p) for p in store.list_products()]))


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Client-chosen key: a retry with the same key and body returns the same order",
    ),
]


@app.post("/orders")
def place_order(request: PlaceOrderRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    customer = current_customer()
    placed = orders.place_order(request, customer, store, idempotency_key)
    order = placed.order
    logger.set_correlation_id(order.order_id)
    if placed.replayed:
        logger.info("order request replayed", extra={"order_id": order.order_id})
        response = _json(201, OrderView.of(order))
        response.headers["Idempotent-Replayed"] = "true"
        return response
    logger.info("order placed", extra={"lines": len(order.lines), "total_cents": order.total_cents})
    metrics.add_metric(name="OrderPlaced", unit="Count", value=1)
    return _json(201, OrderView.of(order))


@app.get("/orders/<order_id>")
def get_order(order_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    order = orders.get_customer_order(order_id, current_customer().customer_id, store)
    return _json(200, OrderView.of(order))


@app.exception_handler(OrderError)
def handle_order_error(error: OrderError) -> Response[str]:
    return _error(error.http_status, error.code, error.message, error.details)


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
        return _error(400, "MALFORMED_JSON", "the request body is not valid JSON", details)
    return _error(422, "VALIDATION_ERROR", "the request does not match the schema", details)


@app.not_found
def handle_not_found(_: Exception) -> Response[str]:
    return _error(404, "NOT_FOUND", "no such resource")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
