"""The REST API's request and response bodies: the wire format, which the domain never
sees. order_service/handlers/mapping.py maps them to the domain's commands and from its
models; nothing here imports the domain (its status names are repeated in OrderStatus,
and a test checks that the two lists agree)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, WithJsonSchema, field_validator

from events.models import Address
from events.money import amount

MAX_QUANTITY = 100
MAX_LINES = 50
MAX_STOCK_SHARDS = 100  # order_service.domain.stock.MAX_SHARDS (a test checks they agree)
# The example body the OpenAPI document shows for POST /orders.
PLACE_ORDER_EXAMPLE: dict[str, Any] = {
    "items": [{"sku": "MUG-001", "quantity": 2}],
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    },
    "payment_token": "tok_visa",  # the simulated payment provider's test token
}


def _integral(value: object) -> object:
    """JSON Schema's `integer` takes 28.0 as well as 28, and so does this API; never "28" or true.
    (A model's before-validator: an Annotated validator would drop the bounds from the schema.)"""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class OrderItemRequest(BaseModel):
    # Fields the server does not use (a client-sent price above all) are ignored.
    model_config = ConfigDict(extra="ignore")

    sku: str = Field(min_length=1, max_length=64)
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]

    _whole_quantity = field_validator("quantity", mode="before")(_integral)


class AddressRequest(Address):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlaceOrderRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [PLACE_ORDER_EXAMPLE]},
    )

    items: list[OrderItemRequest] = Field(min_length=1, max_length=MAX_LINES)
    shipping_address: AddressRequest
    payment_token: str = Field(pattern=r"^tok_[A-Za-z0-9_]{1,64}$")


def money(cents: int) -> Decimal:
    """What a response shows for an amount (events/money.py: exact, two places)."""
    return amount(cents)


# What a response carries for an amount: pydantic writes a Decimal as a JSON string.
Money = Annotated[
    Decimal,
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "A decimal string with two places"},
        mode="serialization",
    ),
]


# The statuses an order is shown in: the API's names for the domain's OrderStatus
# (order_service.domain.lifecycle), repeated here so the wire format is declared in one
# layer; tests/unit/order_service/test_mapping.py checks that the two agree.
class OrderStatus(StrEnum):
    CREATED = "CREATED"
    INVOICED = "INVOICED"
    PAID = "PAID"
    CANCELLING = "CANCELLING"
    SHIPPED = "SHIPPED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    SHIPMENT_FAILED = "SHIPMENT_FAILED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


# One event that reached the order; `status` is set when it changed the order's status.
class TimelineEntry(BaseModel):
    event_id: str
    event_type: str
    occurred_at: datetime
    status: OrderStatus | None = None


class ProductView(BaseModel):
    sku: str
    name: str
    price: Money
    currency: str
    stock: int


class ProductList(BaseModel):
    products: list[ProductView]


class OrderLineView(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class OrderView(BaseModel):
    order_id: str
    status: OrderStatus
    lines: list[OrderLineView]
    total: Money
    currency: str
    shipping_address: Address
    created_at: datetime
    timeline: list[TimelineEntry]
    invoice_number: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    failure_reason: str | None = None
    cancelled_at: datetime | None = None
    delivered_at: datetime | None = None


class OrderSummary(BaseModel):
    order_id: str
    status: OrderStatus
    total: Money
    currency: str
    items: int = Field(description="Units ordered, all lines together")
    created_at: datetime


class OrderPage(BaseModel):
    orders: list[OrderSummary] = Field(description="Newest first")
    next: str | None = Field(description="Opaque cursor of the next page; null on the last page")


class PaymentState(StrEnum):
    PENDING = "PENDING"  # not charged yet
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    NOT_CHARGED = "NOT_CHARGED"  # cancelled before payment


class RefundView(BaseModel):
    refund_id: str
    amount: Money
    reason: str | None


class PaymentView(BaseModel):
    """The order's payment as billing's events told the order service (never the token)."""

    order_id: str
    state: PaymentState
    amount: Money
    currency: str
    charge_id: str | None = None
    decline_code: str | None = None
    failure_reason: str | None = None
    refunds: list[RefundView] = []


class InvoiceLink(BaseModel):
    order_id: str
    invoice_number: str
    url: str = Field(description="Pre-signed link to the invoice PDF")
    expires_in: int = Field(description="Seconds the link stays valid")


# Exactly the prices PUT /inventory takes (0.01 to 100000.00, at most two decimals), as a
# pattern the OpenAPI document carries: a client (or schemathesis) reads what is accepted.
PRICE_PATTERN = r"^(?:[1-9][0-9]{0,4}(?:\.[0-9]{1,2})?|0\.[0-9][1-9]|0\.[1-9]0?|100000(?:\.00?)?)$"


class InventoryRequest(BaseModel):
    """PUT /inventory/{sku} (admins): the available stock, and optionally price and name."""

    model_config = ConfigDict(extra="forbid")

    stock: Annotated[StrictInt, Field(ge=0, le=1_000_000)]
    price: (
        Annotated[
            str,
            Field(
                pattern=PRICE_PATTERN,
                description="A decimal string from 0.01 to 100000.00, at most two decimals (e.g. `12.50`)",
                examples=["12.50"],
            ),
        ]
        | None
    ) = None
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    shards: (
        Annotated[
            StrictInt,
            Field(
                ge=1,
                le=MAX_STOCK_SHARDS,
                description=(
                    "How many items the stock is spread over, so that many orders a second for this SKU "
                    "do not all write one item (a flash sale: docs/capacity.md). Kept when not given; 1 for "
                    "a new product. The available stock shown stays the total."
                ),
                examples=[16],
            ),
        ]
        | None
    ) = None

    _whole_stock = field_validator("stock", "shards", mode="before")(_integral)


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable, e.g. VALIDATION_ERROR, UNKNOWN_SKU, OUT_OF_STOCK")
    message: str
    details: list[dict[str, object]] = Field(default=[], description="Which fields or SKUs, when it applies")


class ErrorResponse(BaseModel):
    """Every error the API itself answers."""

    error: ErrorDetail


class GatewayError(BaseModel):
    """An answer of API Gateway itself, before the function runs: `{"message": "Unauthorized"}`
    for a missing or invalid token."""

    model_config = ConfigDict(extra="allow")

    message: str | None
