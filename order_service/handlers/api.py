"""The REST API: GET /products, POST /orders, GET /orders/{order_id}, GET /openapi.json.

API Gateway's Cognito authorizer has checked the ID token before we run; the caller
is whoever its claims say (`sub`, `email`), and only once `email_verified` is true.

GET /openapi.json is the OpenAPI document, generated from the routes below and their
pydantic models when it is first asked for (nothing of it is built at import).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import ValidationException
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel

from events.correlation import bind_order, unbind_order
from events.observability import logger, metrics, tracer
from order_service.adapters.dynamodb import DynamoDBOrderStore, is_transient
from order_service.adapters.kms import TokenSealer
from order_service.adapters.s3 import InvoiceLinks
from order_service.domain import orders
from order_service.domain.errors import Forbidden, InvoiceNotReady, OrderError, ProductNotFound, StoreBusy
from order_service.models.api import (
    Customer,
    ErrorDetail,
    ErrorResponse,
    GatewayError,
    InventoryRequest,
    InvoiceLink,
    OrderPage,
    OrderSummary,
    OrderView,
    PaymentView,
    PlaceOrderRequest,
    ProductList,
    ProductView,
)
from order_service.settings import OrderSettings

settings = OrderSettings.from_env()
store = DynamoDBOrderStore(
    settings.orders_table,
    settings.products_table,
    settings.outbox_table,
    settings.idempotency_table,
    sealer=TokenSealer(settings.payment_token_key_id),
)


def _parse_json(body: str) -> Any:
    """json.loads, except that a body it cannot take (nesting deeper than the recursion
    limit, an integer of more than 4300 digits) is malformed JSON (400) rather than a crash."""
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as error:
        raise json.JSONDecodeError(f"unreadable JSON ({type(error).__name__})", body, 0) from error


def _cors() -> CORSConfig | None:
    """The web console's origin is the only one a browser may call from (API Gateway answers
    the preflight; these are the headers on the answers themselves)."""
    if not settings.console_origin:
        return None
    return CORSConfig(
        allow_origin=settings.console_origin,
        allow_headers=["Idempotency-Key"],
        expose_headers=["Idempotent-Replayed"],
        max_age=600,
    )


app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=_parse_json, cors=_cors())


class Unauthorized(OrderError):
    code = "UNAUTHORIZED"
    http_status = 401


def _json(status: int, body: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def _error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Response[str]:
    return _json(status, ErrorResponse(error=ErrorDetail(code=code, message=message, details=details or [])))


class EmailNotVerified(OrderError):
    code = "EMAIL_NOT_VERIFIED"
    http_status = 403


def _verified_claims() -> dict[str, Any]:
    """The ID token's claims, once it names a customer whose email Cognito verified.

    Until `email_verified` is true, `email` is only an address someone typed: mailing it
    would let anyone make the shop's SES identity write to any address. API Gateway (REST)
    passes every claim as a string ("true"/"false"); a missing claim is not verified."""
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.claims or {}) if authorizer else {}
    if not claims.get("sub") or not claims.get("email"):
        raise Unauthorized("no valid identity token")
    if str(claims.get("email_verified", "")).lower() != "true":
        raise EmailNotVerified("verify your email address first: this token's email is not verified")
    return dict(claims)


def current_customer() -> Customer:
    claims = _verified_claims()
    return Customer(customer_id=claims["sub"], email=claims["email"])


# ------------------------------------------------------------------ OpenAPI
API_TITLE = "Order choreography API"
API_VERSION = "2.0.0"  # 2: cancel is POST /orders/{id}/cancel (was DELETE); see docs/openapi.json
API_DESCRIPTION = (
    "Places orders and reads them back; the order then moves through invoice, payment and shipment "
    "by events. Paths are relative to the stage URL this document is served from (`.../v1`). "
    "Money is a decimal string with two places. Every error the API answers is an `ErrorResponse`."
)
SECURITY_SCHEME = "CognitoIdToken"
NEEDS_ID_TOKEN: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]


def _documented(
    description: str, model: Any, headers: dict[str, OpenAPIResponseHeader] | None = None
) -> OpenAPIResponse:
    documented: OpenAPIResponse = {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }
    if headers is not None:
        documented["headers"] = headers
    return documented


UNAUTHORIZED = _documented(
    "No token, or not a valid ID token of the user pool: API Gateway's authorizer answers "
    '`{"message": "Unauthorized"}`; a token without identity claims is an `ErrorResponse` (UNAUTHORIZED)',
    ErrorResponse | GatewayError,
)
BUSY = _documented(
    "STORE_BUSY: the order store is busy (a write conflict or throttling); nothing was changed. "
    "Retry after `Retry-After` seconds, with the same Idempotency-Key",
    ErrorResponse,
    headers={"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}},
)
UNVERIFIED = _documented(
    "EMAIL_NOT_VERIFIED: the ID token's `email_verified` claim is not true (confirm the address first)",
    ErrorResponse,
)
INVALID = _documented(
    "VALIDATION_ERROR: the request does not match the schema; `details` names the fields", ErrorResponse
)


@app.get(
    "/products",
    summary="List the catalogue",
    description="Every product with its price and available stock. Public: no token needed.",
    tags=["catalogue"],
    responses={200: _documented("The catalogue", ProductList)},
)
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


@app.post(
    "/orders",
    summary="Place an order",
    description=(
        "Prices every line from the catalogue (a client price is ignored), stores the order and reserves "
        "its stock in one transaction, then announces ORDER_CREATED. The same `sku` twice is one line. "
        "With an `Idempotency-Key`, a retry with the same body returns the same order (header "
        "`Idempotent-Replayed: true`) and places nothing new."
    ),
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        201: _documented(
            "The order, placed (or replayed for a retried Idempotency-Key)",
            OrderView,
            headers={
                "Idempotent-Replayed": {
                    "description": "`true` when an earlier request with the same Idempotency-Key placed the order",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        ),
        400: _documented("MALFORMED_JSON: the body is not JSON", ErrorResponse),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        409: _documented(
            "OUT_OF_STOCK: a quantity above available stock (`details` names the SKUs); "
            "UNKNOWN_SKU: a SKU not in the catalogue (`details` names them); "
            "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used with another body",
            ErrorResponse,
        ),
        422: _documented(
            "VALIDATION_ERROR: the body does not match the schema (`details` names the fields)", ErrorResponse
        ),
        503: BUSY,
    },
)
def place_order(request: PlaceOrderRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    customer = current_customer()
    # This request starts the order's saga: its id is the correlation id of every event
    # and log line of the order (events.correlation).
    placed = orders.place_order(request, customer, store, idempotency_key, correlation_id=_request_id())
    order = placed.order
    bind_order(order.order_id, order.correlation_id)
    if placed.replayed:
        logger.info("order request replayed", extra={"order_id": order.order_id})
        response = _json(201, OrderView.of(order))
        response.headers["Idempotent-Replayed"] = "true"
        return response
    logger.info("order placed", extra={"lines": len(order.lines), "total_cents": order.total_cents})
    metrics.add_metric(name="OrderPlaced", unit="Count", value=1)
    return _json(201, OrderView.of(order))


@app.get(
    "/orders/<order_id>",
    summary="Read an order",
    description=(
        "The caller's own order with its status and the timeline of events that reached it. "
        "Another customer's order is as unknown as a missing one."
    ),
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: _documented("The order", OrderView),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: _documented("ORDER_NOT_FOUND: no such order, or another customer's", ErrorResponse),
        422: INVALID,
    },
)
def get_order(order_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    order = orders.get_customer_order(order_id, current_customer().customer_id, store)
    bind_order(order.order_id, order.correlation_id)
    return _json(200, OrderView.of(order))


NOT_FOUND = _documented("ORDER_NOT_FOUND: no such order, or another customer's", ErrorResponse)


@app.get(
    "/orders",
    summary="List my orders",
    description=(
        "The caller's own orders, newest first, `limit` at a time (1 to 100, default 20). Pass the "
        "`next` cursor of a page to get the following one; it is null on the last page."
    ),
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: _documented("A page of orders", OrderPage),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: _documented(
            "INVALID_CURSOR: `next` names no page of the caller's (not a cursor this API gave them)", ErrorResponse
        ),
        422: INVALID,
    },
)
def list_orders(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(
            alias="next",
            min_length=1,
            max_length=2048,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="The `next` of the previous page, as it was given (opaque, base64url)",
        ),
    ] = None,
) -> Response[str]:
    page, following = orders.list_customer_orders(current_customer().customer_id, store, limit, cursor)
    return _json(200, OrderPage(orders=[OrderSummary.of(order) for order in page], next=following))


# POST .../cancel rather than DELETE: the order stays readable (CANCELLED, then perhaps
# REFUNDED), and a DELETE promises that it would be gone.
@app.post(
    "/orders/<order_id>/cancel",
    summary="Cancel an order",
    description=(
        "Asks to cancel an order that has not shipped, as far as this service knows: it becomes CANCELLING "
        "and ORDER_CANCELLED is announced. The shipment service decides: stopped before the carrier booked "
        "it (the order ends CANCELLED, its stock released, a payment refunded: REFUNDED), or too late "
        "(CANCELLATION_REJECTED; the order ships, charged). Asking again answers the same. An order known "
        "to be shipped answers 409."
    ),
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        202: _documented("The order, CANCELLING (shipment's verdict and any refund follow)", OrderView),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: NOT_FOUND,
        409: _documented(
            "ORDER_ALREADY_SHIPPED, or ORDER_NOT_CANCELLABLE (its payment failed or it could not ship)",
            ErrorResponse,
        ),
        422: INVALID,
        503: BUSY,
    },
)
def cancel_order(order_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    cancellation = orders.cancel_order(order_id, current_customer().customer_id, store)
    bind_order(order_id, cancellation.order.correlation_id)
    logger.info("order cancelled", extra={"already": cancellation.already})
    if not cancellation.already:
        metrics.add_metric(name="OrderCancelled", unit="Count", value=1)
    return _json(202, OrderView.of(cancellation.order))


@app.get(
    "/orders/<order_id>/payment",
    summary="Read an order's payment",
    description="State, amount, currency, the provider's charge id and any refunds; never the payment token.",
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: _documented("The payment", PaymentView),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: NOT_FOUND,
        422: INVALID,
    },
)
def get_payment(order_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    order = orders.get_customer_order(order_id, current_customer().customer_id, store)
    bind_order(order.order_id, order.correlation_id)
    return _json(200, PaymentView.of(order))


@app.get(
    "/orders/<order_id>/invoice",
    summary="Get a link to an order's invoice",
    description="A fresh, time-limited pre-signed link to the invoice PDF.",
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: _documented("The link", InvoiceLink),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: NOT_FOUND,
        409: _documented(
            "INVOICE_NOT_READY: the order exists but is not invoiced yet (seconds after it was placed); "
            "ask again after `Retry-After` seconds",
            ErrorResponse,
            headers={
                "Retry-After": {
                    "description": "Seconds to wait before asking again",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                }
            },
        ),
        422: INVALID,
    },
)
def get_invoice(order_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    order = orders.get_customer_order(order_id, current_customer().customer_id, store)
    bind_order(order.order_id, order.correlation_id)
    if not order.invoice_pdf_key or not order.invoice_number:
        raise InvoiceNotReady(order_id)
    url = invoice_links().link(order.invoice_pdf_key)
    return _json(
        200,
        InvoiceLink(
            order_id=order_id, invoice_number=order.invoice_number, url=url, expires_in=settings.invoice_link_seconds
        ),
    )


@app.get(
    "/products/<sku>",
    summary="Read a product",
    description="One product with its price and available stock. Public: no token needed.",
    tags=["catalogue"],
    responses={
        200: _documented("The product", ProductView),
        404: _documented("PRODUCT_NOT_FOUND", ErrorResponse),
        422: INVALID,
    },
)
def get_product(sku: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    product = store.get_products([sku]).get(sku)
    if product is None:
        raise ProductNotFound(sku)
    return _json(200, ProductView.of(product))


@app.put(
    "/inventory/<sku>",
    summary="Set a product's stock (admins)",
    description=(
        "Sets the available stock, and optionally the price and name; a new SKU needs both. Only members "
        "of the Cognito group `admin` may; anyone else gets 403. Stock never goes below zero."
    ),
    tags=["catalogue"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: _documented("The product as it now is", ProductView),
        400: _documented("MALFORMED_JSON: the body is not JSON", ErrorResponse),
        401: UNAUTHORIZED,
        403: _documented(
            "FORBIDDEN: the caller is not in the group `admin`; EMAIL_NOT_VERIFIED: the ID token's "
            "`email_verified` claim is not true",
            ErrorResponse,
        ),
        404: _documented("PRODUCT_NOT_FOUND: a new SKU without name and price", ErrorResponse),
        422: INVALID,
        503: BUSY,
    },
)
def put_inventory(sku: Annotated[str, Path(min_length=1, max_length=64)], request: InventoryRequest) -> Response[str]:
    if "admin" not in caller_groups():
        raise Forbidden("only members of the group `admin` may change stock")
    price_cents = int(Decimal(request.price) * 100) if request.price is not None else None
    product = orders.set_inventory(sku, store, request.stock, price_cents=price_cents, name=request.name)
    logger.info("inventory set", extra={"sku": sku, "stock": request.stock})
    return _json(200, ProductView.of(product))


@cache
def invoice_links() -> InvoiceLinks:
    return InvoiceLinks(settings.invoice_bucket, settings.invoice_link_seconds)


def caller_groups() -> set[str]:
    """The caller's Cognito groups. The claim arrives as text: `admin`, `[admin staff]`
    (API Gateway REST) or `admin,staff`."""
    raw = str(_verified_claims().get("cognito:groups", ""))
    return {group for group in raw.strip("[]").replace(",", " ").split() if group}


@app.get(
    "/openapi.json",
    summary="This OpenAPI document",
    description="Generated from the API's routes and pydantic models. Public: no token needed.",
    tags=["meta"],
    responses={
        200: {
            "description": "An OpenAPI 3.1 document",
            "content": {content_types.APPLICATION_JSON: {"schema": {"type": "object"}}},
        }
    },
)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=_openapi_json())


@cache  # generated on the first request, then kept for the container's life
def _openapi_json() -> str:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    id_token = APIKey(
        name="Authorization",
        in_=APIKeyIn.header,
        description="A Cognito user-pool ID token, as the whole header value (no `Bearer` prefix)",
    )
    document = json.loads(
        app.get_openapi_json_schema(
            title=API_TITLE,
            version=API_VERSION,
            description=API_DESCRIPTION,
            security_schemes={SECURITY_SCHEME: id_token},
        )
    )
    return json.dumps(_without_powertools_defaults(document))


def _without_powertools_defaults(document: dict[str, Any]) -> dict[str, Any]:
    """Drop what Powertools adds that this API does not answer.

    Powertools gives every operation a 422 with its own `HTTPValidationError` body; the
    routes above document their 422 (an `ErrorResponse`) where they have one, so the
    stock ones left are dropped, and then the component schemas nobody references.
    Its default server (`/`) would point at the host's root rather than at the stage,
    so the document has none: paths are relative to where it is served from.
    """
    document.pop("servers", None)
    for operation in (op for path in document.get("paths", {}).values() for op in path.values()):
        responses = operation.get("responses", {})
        for status, response in list(responses.items()):
            if "HTTPValidationError" in json.dumps(response):
                del responses[status]
    schemas = document.get("components", {}).get("schemas", {})
    while True:
        referenced = json.dumps({key: value for key, value in document.items() if key != "components"})
        referenced += json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in referenced]
        if not unused:
            return document
        for name in unused:
            del schemas[name]


@app.exception_handler(OrderError)
def handle_order_error(error: OrderError) -> Response[str]:
    response = _error(error.http_status, error.code, error.message, error.details)
    retry_after = getattr(error, "retry_after", None)  # "not ready yet": when to ask again
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@app.exception_handler(ClientError)
def handle_store_refusal(error: ClientError) -> Response[str]:
    """Throttling that outlasted botocore's retries on a read or a plain write: the
    same 503 as a busy transaction. Any other AWS error is a bug, and stays a 5xx."""
    if not is_transient(error):
        raise error
    return handle_order_error(StoreBusy(error.response.get("Error", {}).get("Code", "")))


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


@app.exception_handler(ValueError)
def handle_unreadable_multipart(error: ValueError) -> Response[str]:
    """Powertools' multipart/form-data parser raises ValueError on a body it cannot read (no
    boundary, characters outside latin-1). This API takes JSON only: such a body is the
    unsupported content type it is, answered like text/plain. Any other ValueError is a bug."""
    content_type = app.current_event.headers.get("content-type") or ""
    if not content_type.lower().startswith("multipart/"):
        raise error
    details = [
        {"field": "body", "type": "unsupported_content_type", "message": f"Unsupported content type: {content_type}"}
    ]
    return _error(422, "VALIDATION_ERROR", "the request does not match the schema", details)


@app.not_found
def handle_not_found(_: Exception) -> Response[str]:
    return _error(404, "NOT_FOUND", "no such resource")


def _request_id() -> str | None:
    return app.current_event.request_context.request_id or None


# clear_state: a warm container's next request starts with no keys of the last one
# (no order_id or correlation_id of another customer's order).
@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(api_request_id=(event.get("requestContext") or {}).get("requestId"))
    response: dict[str, Any] | None = None
    try:
        response = app.resolve(event, context)
        return response
    finally:
        # One line per request, with the order's ids when it touched one (`make trace`).
        logger.info(
            "request handled",
            extra={
                "http_method": event.get("httpMethod"),
                "resource": event.get("resource"),
                "status": response.get("statusCode") if response else 500,
            },
        )
        unbind_order()
