"""The REST API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, WithJsonSchema

from events.models import Address
from events.samples import sample_order_request
from order_service.domain.lifecycle import OrderStatus
from order_service.domain.model import Order, Product, TimelineEntry

MAX_QUANTITY = 100
MAX_LINES = 50


class Customer(BaseModel):
    """Who the Cognito ID token says the caller is."""

    customer_id: str
    email: str


class OrderItemRequest(BaseModel):
    # Fields the server does not use (a client-sent price above all) are ignored.
    model_config = ConfigDict(extra="ignore")

    sku: str = Field(min_length=1, max_length=64)
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class AddressRequest(Address):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PlaceOrderRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [sample_order_request()]},
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
        )


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
