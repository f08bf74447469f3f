"""The REST API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, WithJsonSchema, field_validator

from events.models import Address
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, TimelineEntry

MAX_QUANTITY = 100
MAX_LINES = 50


def _integral(value: object) -> object:
    """JSON Schema's `integer` takes 28.0 as well as 28, and so does this API; never "28" or true.
    (A model's before-validator: an Annotated validator would drop the bounds from the schema.)"""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class Customer(BaseModel):
    """Who the Cognito ID token says the caller is."""

    customer_id: str
    email: str


class OrderItemRequest(BaseModel):
    # Fields the server does not use (a client-sent price above all) are ignored.
    model_config = ConfigDict(extra="ignore")

    sku: str = Field(min_length=1, max_length=64)
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]

    _whole_quantity = field_validator("quantity", mode="before")(_integral)


class AddressRequest(Address):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# The example the OpenAPI document shows (choreography/samples.py builds the same body).
EXAMPLE_ORDER_REQUEST = {
    "items": [{"sku": "MUG-001", "quantity": 2}],
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    },
    "payment_token": "tok_visa",
}


class PlaceOrderRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [EXAMPLE_ORDER_REQUEST]},
    )

    items: list[OrderItemRequest] = Field(min_length=1, max_length=MAX_LINES)
    shipping_address: AddressRequest
    payment_token: str = Field(pattern=r"^tok_[A-Za-z0-9_]{1,64}$")


def money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


# What a response carries for an amount: pydantic writes a Decimal as a JSON string.
Money = Annotated[
    Decimal,
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "description": "A decimal string with two places"},
        mode="serialization",
    ),
]


class ProductView(BaseModel):
    sku: str
    name: str
    price: Money
    currency: str
    stock: int

    @classmethod
    def of(cls, product: Product) -> ProductView:
        return cls(
            sku=product.sku,
            name=product.name,
            price=money(product.price_cents),
            currency=product.currency,
            stock=product.stock,
        )


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

    @classmethod
    def of(cls, order: Order) -> OrderView:
        return cls(
            order_id=order.order_id,
            status=order.status,
            lines=[
                OrderLineView(
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=money(line.unit_price_cents),
                    line_total=money(line.line_total_cents),
                )
                for line in order.lines
            ],
            total=money(order.total_cents),
            currency=order.currency,
            shipping_address=order.shipping_address,
            created_at=order.created_at,
            timeline=sorted(order.timeline, key=lambda entry: entry.occurred_at),
            invoice_number=order.invoice_number,
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            failure_reason=order.failure_reason,
            cancelled_at=order.cancelled_at,
            delivered_at=order.delivered_at,
        )


class OrderSummary(BaseModel):
    order_id: str
    status: OrderStatus
    total: Money
    currency: str
    items: int = Field(description="Units ordered, all lines together")
    created_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderSummary:
        return cls(
            order_id=order.order_id,
            status=order.status,
            total=money(order.total_cents),
            currency=order.currency,
            items=sum(line.quantity for line in order.lines),
            created_at=order.created_at,
        )


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

    @classmethod
    def of(cls, order: Order) -> PaymentView:
        if order.refund_id:
            state = PaymentState.REFUNDED
        elif order.charge_id:
            state = PaymentState.CONFIRMED
        elif order.status == OrderStatus.PAYMENT_FAILED:
            state = PaymentState.FAILED
        elif order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
            state = PaymentState.NOT_CHARGED
        else:
            state = PaymentState.PENDING
        refunds = (
            [RefundView(refund_id=order.refund_id, amount=money(order.refunded_cents or 0), reason=order.refund_reason)]
            if order.refund_id
            else []
        )
        return cls(
            order_id=order.order_id,
            state=state,
            amount=money(order.paid_cents if order.paid_cents is not None else order.total_cents),
            currency=order.currency,
            charge_id=order.charge_id,
            decline_code=order.decline_code,
            failure_reason=order.failure_reason if state == PaymentState.FAILED else None,
            refunds=refunds,
        )


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

    _whole_stock = field_validator("stock", mode="before")(_integral)


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
