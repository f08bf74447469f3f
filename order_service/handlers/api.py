"""The REST API: GET /products, POST /orders, GET /orders/{order_id}, GET /openapi.json.

API Gateway's Cognito authorizer has checked the ID token before we run; the caller
is whoever its claims say (`sub`, `email`), and only once `email_verified` is true.

GET /openapi.json is the OpenAPI document, generated from the routes below and their
pydantic models when it is first asked for (handlers/openapi.py, imported then: nothing
of it is built at import). What each route documents that it answers is in
handlers/responses.py; errors are answered by handlers/errors.py.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from events.correlation import bind_order, unbind_order
from events.observability import logger, metrics, tracer
from order_service.adapters.idempotency_keys import DynamoDBIdempotencyKeys
from order_service.adapters.kms import TokenSealer
from order_service.adapters.order_store import TransactionalOrderStore
from order_service.adapters.orders import DynamoDBOrders
from order_service.adapters.outbox import DynamoDBOutbox
from order_service.adapters.products import DynamoDBProducts
from order_service.adapters.s3 import InvoiceLinks
from order_service.domain import orders
from order_service.domain.commands import Customer
from order_service.domain.errors import InvoiceNotReady, ProductNotFound
from order_service.handlers import errors
from order_service.handlers.errors import EmailNotVerified, Forbidden, Unauthorized
from order_service.handlers.mapping import order_summary, order_view, payment_view, place_order_command, product_view
from order_service.handlers.responses import (
    BUSY,
    INVALID,
    NEEDS_ID_TOKEN,
    NOT_FOUND,
    UNAUTHORIZED,
    UNVERIFIED,
    documented,
)
from order_service.models.api import (
    ErrorResponse,
    InventoryRequest,
    InvoiceLink,
    OrderPage,
    OrderView,
    PaymentView,
    PlaceOrderRequest,
    ProductList,
    ProductView,
)
from order_service.settings import ApiSettings

settings = ApiSettings.from_env()
products = DynamoDBProducts(settings.products_table)
store = TransactionalOrderStore(
    orders=DynamoDBOrders(settings.orders_table, products),
    products=products,
    outbox=DynamoDBOutbox(settings.outbox_table, TokenSealer(settings.payment_token_key_id)),
    keys=DynamoDBIdempotencyKeys(settings.idempotency_table),
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
errors.install(app)  # every error answered as an ErrorResponse, with its HTTP status


def _json(status: int, body: BaseModel) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


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


@app.get(
    "/products",
    summary="List the catalogue",
    description="Every product with its price and available stock. Public: no token needed.",
    tags=["catalogue"],
    responses={200: documented("The catalogue", ProductList)},
)
def list_products() -> Response[str]:
    return _json(200, ProductList(products=[product_view(p) for p in store.list_products()]))


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
        201: documented(
            "The order, placed (or replayed for a retried Idempotency-Key)",
            OrderView,
            headers={
                "Idempotent-Replayed": {
                    "description": "`true` when an earlier request with the same Idempotency-Key placed the order",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        ),
        400: documented("MALFORMED_JSON: the body is not JSON", ErrorResponse),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        409: documented(
            "OUT_OF_STOCK: a quantity above available stock (`details` names the SKUs); "
            "UNKNOWN_SKU: a SKU not in the catalogue (`details` names them); "
            "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used with another body",
            ErrorResponse,
        ),
        422: documented(
            "VALIDATION_ERROR: the body does not match the schema (`details` names the fields)", ErrorResponse
        ),
        503: BUSY,
    },
)
def place_order(request: PlaceOrderRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    customer = current_customer()
    # This request starts the order's saga: its id is the correlation id of every event
    # and log line of the order (events.correlation).
    command = place_order_command(request)
    placed = orders.place_order(command, customer, store, idempotency_key, correlation_id=_request_id())
    order = placed.order
    bind_order(order.order_id, order.correlation_id)
    if placed.replayed:
        logger.info("order request replayed", extra={"order_id": order.order_id})
        response = _json(201, order_view(order))
        response.headers["Idempotent-Replayed"] = "true"
        return response
    logger.info("order placed", extra={"lines": len(order.lines), "total_cents": order.total_cents})
    metrics.add_metric(name="OrderPlaced", unit="Count", value=1)
    return _json(201, order_view(order))


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
        200: documented("The order", OrderView),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: documented("ORDER_NOT_FOUND: no such order, or another customer's", ErrorResponse),
        422: INVALID,
    },
)
def get_order(order_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    order = orders.get_customer_order(order_id, current_customer().customer_id, store)
    bind_order(order.order_id, order.correlation_id)
    return _json(200, order_view(order))


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
        200: documented("A page of orders", OrderPage),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: documented(
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
    return _json(200, OrderPage(orders=[order_summary(order) for order in page], next=following))


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
        202: documented("The order, CANCELLING (shipment's verdict and any refund follow)", OrderView),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: NOT_FOUND,
        409: documented(
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
    return _json(202, order_view(cancellation.order))


@app.get(
    "/orders/<order_id>/payment",
    summary="Read an order's payment",
    description="State, amount, currency, the provider's charge id and any refunds; never the payment token.",
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: documented("The payment", PaymentView),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: NOT_FOUND,
        422: INVALID,
    },
)
def get_payment(order_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    order = orders.get_customer_order(order_id, current_customer().customer_id, store)
    bind_order(order.order_id, order.correlation_id)
    return _json(200, payment_view(order))


@app.get(
    "/orders/<order_id>/invoice",
    summary="Get a link to an order's invoice",
    description="A fresh, time-limited pre-signed link to the invoice PDF.",
    tags=["orders"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: documented("The link", InvoiceLink),
        401: UNAUTHORIZED,
        403: UNVERIFIED,
        404: NOT_FOUND,
        409: documented(
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
        200: documented("The product", ProductView),
        404: documented("PRODUCT_NOT_FOUND", ErrorResponse),
        422: INVALID,
    },
)
def get_product(sku: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    product = store.get_products([sku]).get(sku)
    if product is None:
        raise ProductNotFound(sku)
    return _json(200, product_view(product))


@app.put(
    "/inventory/<sku>",
    summary="Set a product's stock (admins)",
    description=(
        "Sets the available stock, and optionally the price and name; a new SKU needs both. Only members "
        "of the Cognito group `admin` may; anyone else gets 403. Stock never goes below zero. `shards` "
        "spreads the stock over that many items (for a SKU ordered many times a second); the stock shown "
        "is always the total."
    ),
    tags=["catalogue"],
    security=NEEDS_ID_TOKEN,
    responses={
        200: documented("The product as it now is", ProductView),
        400: documented("MALFORMED_JSON: the body is not JSON", ErrorResponse),
        401: UNAUTHORIZED,
        403: documented(
            "FORBIDDEN: the caller is not in the group `admin`; EMAIL_NOT_VERIFIED: the ID token's "
            "`email_verified` claim is not true",
            ErrorResponse,
        ),
        404: documented("PRODUCT_NOT_FOUND: a new SKU without name and price", ErrorResponse),
        409: documented(
            "SKU_RESERVED: the SKU is another product's stock shard (`<SKU>#<k>`), or a shard this "
            "product needs is an existing product's SKU",
            ErrorResponse,
        ),
        422: INVALID,
        503: BUSY,
    },
)
def put_inventory(sku: Annotated[str, Path(min_length=1, max_length=64)], request: InventoryRequest) -> Response[str]:
    if "admin" not in caller_groups():
        raise Forbidden("only members of the group `admin` may change stock")
    price_cents = int(Decimal(request.price) * 100) if request.price is not None else None
    product = orders.set_inventory(
        sku, store, request.stock, price_cents=price_cents, name=request.name, shards=request.shards
    )
    logger.info("inventory set", extra={"sku": sku, "stock": request.stock, "shards": product.shards})
    return _json(200, product_view(product))


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
    from order_service.handlers import openapi  # only this route needs it

    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi.document_json(app))


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
