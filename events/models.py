"""Event models: one versioned envelope, one pydantic model per event type.

Every event is self-contained (event-carried state transfer): it carries the order
snapshot its consumers need, so no service ever has to call another one.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, field_serializer

from events.clock import utcnow

# uuid5 namespace for events derived from another event: the same cause always
# yields the same event_id, so a handler that publishes twice (crash after publish,
# before its idempotency record completes) publishes a duplicate that every
# consumer already recognises.
EVENT_ID_NAMESPACE = uuid.UUID("6f1d2a70-3c52-4d7e-9b8e-3f1b2d7a9c10")


class EventType(StrEnum):
    ORDER_CREATED = "ORDER_CREATED"
    INVOICE_CREATED = "INVOICE_CREATED"
    PAYMENT_CONFIRMED = "PAYMENT_CONFIRMED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    SHIPPED = "SHIPPED"
    SHIPMENT_ERROR = "SHIPMENT_ERROR"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    PAYMENT_REFUNDED = "PAYMENT_REFUNDED"
    DELIVERED = "DELIVERED"
    SHIPMENT_CANCELLED = "SHIPMENT_CANCELLED"
    CANCELLATION_REJECTED = "CANCELLATION_REJECTED"


class Producer(StrEnum):
    ORDER_SERVICE = "order_service"
    INVOICE_SERVICE = "invoice_service"
    BILLING_SERVICE = "billing_service"
    SHIPMENT_SERVICE = "shipment_service"


class _Model(BaseModel):
    # Consumers ignore fields they do not know: producers may add optional fields
    # without a new event_version. defer_build: a model's validator is built when it is
    # first used, so each function builds only the events it handles (cold start).
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class Address(_Model):
    name: str = Field(min_length=1, max_length=100)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 code")


class OrderLine(_Model):
    sku: str
    name: str
    quantity: int = Field(gt=0)
    unit_price_cents: int = Field(ge=0)
    line_total_cents: int = Field(ge=0)


class OrderSnapshot(_Model):
    """What every consumer needs to know about the order."""

    customer_email: str
    lines: list[OrderLine] = Field(min_length=1)
    total_cents: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    shipping_address: Address


class _WithPaymentToken(_Model):
    # SecretStr keeps the token out of repr() and logs; it is revealed only when
    # the event is serialised to JSON for the topic.
    payment_token: SecretStr = Field(description="Payment-provider token; forwarded to billing, never stored or logged")

    @field_serializer("payment_token", when_used="json")
    def _reveal_token(self, token: SecretStr) -> str:
        return token.get_secret_value()


class OrderCreatedData(_WithPaymentToken):
    order: OrderSnapshot


class InvoiceCreatedData(_WithPaymentToken):
    order: OrderSnapshot
    invoice_number: str = Field(description="Sequential-looking number, the same for every retry")
    invoice_key: str = Field(description="S3 key of the rendered invoice (HTML)")
    invoice_pdf_key: str | None = Field(default=None, description="S3 key of the invoice as PDF")
    invoice_url: str | None = Field(
        default=None, description="Time-limited pre-signed link to the PDF (for the invoice email)"
    )
    subtotal_cents: int
    tax_cents: int
    total_cents: int


class PaymentConfirmedData(_Model):
    order: OrderSnapshot
    charge_id: str = Field(description="The payment provider's charge id")
    amount_cents: int
    currency: str


class PaymentFailedData(_Model):
    order: OrderSnapshot
    amount_cents: int
    currency: str
    reason: str = Field(description="Why, in words the customer can read")
    decline_code: str | None = Field(default=None, description="The provider's decline code")


class ShippedData(_Model):
    order: OrderSnapshot
    shipment_id: str
    carrier: str
    tracking_number: str = Field(description="The carrier's tracking number")


class ShipmentErrorData(_Model):
    order: OrderSnapshot
    reason: str = Field(description="Why the carrier refused the parcel")


class OrderCancelledData(_Model):
    order: OrderSnapshot
    previous_status: str = Field(description="The order's status when it was cancelled")
    reason: str = Field(default="cancelled by the customer")


class PaymentRefundedData(_Model):
    order: OrderSnapshot
    charge_id: str = Field(description="The refunded charge")
    refund_id: str = Field(description="The payment provider's refund id")
    amount_cents: int
    currency: str
    reason: str = Field(description="Why the money went back: the order was cancelled, or could not ship")


class ShipmentCancelledData(_Model):
    order: OrderSnapshot
    reason: str = Field(default="cancelled by the customer")


class CancellationRejectedData(_Model):
    order: OrderSnapshot
    reason: str = Field(description="Why the order could not be cancelled, in words the customer can read")
    carrier: str | None = None
    tracking_number: str | None = Field(default=None, description="The parcel the carrier already has")


class DeliveredData(_Model):
    order: OrderSnapshot
    shipment_id: str
    carrier: str
    tracking_number: str
    delivered_at: datetime = Field(description="When the carrier reported the parcel delivered (UTC)")


DataT = TypeVar("DataT", bound=BaseModel)
EventT = TypeVar("EventT", bound="Event[Any]")


class Event(_Model, Generic[DataT]):
    """The envelope every event travels in.

    Each event type below declares its `data` model instead of subclassing
    `Event[SomeData]`: pydantic builds a parametrised generic at import (defer_build does
    not apply to it); eleven of them made `import events.models` 39 ms of CPU instead of 16,
    in every handler's cold start. `Event[Any]` still types code that takes any event."""

    TYPE: ClassVar[EventType]
    PRODUCER: ClassVar[Producer]
    DESCRIPTION: ClassVar[str]

    event_id: str = Field(description="Unique id of this event; the consumers' idempotency key")
    event_type: EventType = Field(description="What happened, past tense; also an SNS message attribute")
    event_version: int = Field(default=1, description="Bumped on a breaking change of `data`")
    occurred_at: datetime = Field(description="UTC, ISO 8601")
    order_id: str = Field(description="The order this event is about")
    customer_id: str = Field(description="The customer's Cognito `sub`")
    correlation_id: str = Field(
        description="The saga's id, the same on every event of one order: the id of the request that placed it"
    )
    causation_id: str | None = Field(default=None, description="event_id of the event that caused this one")
    producer: Producer = Field(description="The service that published the event")
    data: DataT

    @classmethod
    def first(
        cls: type[EventT], *, order_id: str, customer_id: str, data: Any, correlation_id: str | None = None
    ) -> EventT:
        """An event that starts a chain (caused by a request, not by an event). The chain's
        correlation id is the id of that request (events.correlation); without one, this
        event's own id."""
        event_id = str(uuid.uuid4())
        return cls(
            event_id=event_id,
            event_type=cls.TYPE,
            occurred_at=utcnow(),
            order_id=order_id,
            customer_id=customer_id,
            correlation_id=correlation_id or event_id,
            causation_id=None,
            producer=cls.PRODUCER,
            data=data,
        )

    @classmethod
    def for_order(cls: type[EventT], *, order_id: str, customer_id: str, correlation_id: str, data: Any) -> EventT:
        """An event caused by a request about an existing order (it joins the order's chain)."""
        return cls(
            event_id=str(uuid.uuid4()),
            event_type=cls.TYPE,
            occurred_at=utcnow(),
            order_id=order_id,
            customer_id=customer_id,
            correlation_id=correlation_id,
            causation_id=None,
            producer=cls.PRODUCER,
            data=data,
        )

    @classmethod
    def caused_by(cls: type[EventT], cause: Event[Any], *, data: Any) -> EventT:
        """An event caused by `cause`: same order and correlation, deterministic id."""
        return cls(
            event_id=str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause.event_id}/{cls.TYPE.value}")),
            event_type=cls.TYPE,
            occurred_at=utcnow(),
            order_id=cause.order_id,
            customer_id=cause.customer_id,
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
            producer=cls.PRODUCER,
            data=data,
        )


class OrderCreated(Event):
    TYPE = EventType.ORDER_CREATED
    PRODUCER = Producer.ORDER_SERVICE
    DESCRIPTION = "An order was accepted: priced from the catalogue, stock reserved, stored."
    event_type: Literal[EventType.ORDER_CREATED] = EventType.ORDER_CREATED
    event_version: Literal[1] = 1
    data: OrderCreatedData


class InvoiceCreated(Event):
    TYPE = EventType.INVOICE_CREATED
    PRODUCER = Producer.INVOICE_SERVICE
    DESCRIPTION = "The order's invoice was rendered and stored in S3."
    event_type: Literal[EventType.INVOICE_CREATED] = EventType.INVOICE_CREATED
    event_version: Literal[1] = 1
    data: InvoiceCreatedData


class PaymentConfirmed(Event):
    TYPE = EventType.PAYMENT_CONFIRMED
    PRODUCER = Producer.BILLING_SERVICE
    DESCRIPTION = "The invoice total was charged to the customer's payment method."
    event_type: Literal[EventType.PAYMENT_CONFIRMED] = EventType.PAYMENT_CONFIRMED
    event_version: Literal[1] = 1
    data: PaymentConfirmedData


class PaymentFailed(Event):
    TYPE = EventType.PAYMENT_FAILED
    PRODUCER = Producer.BILLING_SERVICE
    DESCRIPTION = "The payment provider declined the charge; the order ends here."
    event_type: Literal[EventType.PAYMENT_FAILED] = EventType.PAYMENT_FAILED
    event_version: Literal[1] = 1
    data: PaymentFailedData


class Shipped(Event):
    TYPE = EventType.SHIPPED
    PRODUCER = Producer.SHIPMENT_SERVICE
    DESCRIPTION = "A carrier accepted the parcel and gave a tracking number."
    event_type: Literal[EventType.SHIPPED] = EventType.SHIPPED
    event_version: Literal[1] = 1
    data: ShippedData


class ShipmentError(Event):
    TYPE = EventType.SHIPMENT_ERROR
    PRODUCER = Producer.SHIPMENT_SERVICE
    DESCRIPTION = "The carrier could not take the parcel (e.g. undeliverable address)."
    event_type: Literal[EventType.SHIPMENT_ERROR] = EventType.SHIPMENT_ERROR
    event_version: Literal[1] = 1
    data: ShipmentErrorData


class OrderCancelled(Event):
    TYPE = EventType.ORDER_CANCELLED
    PRODUCER = Producer.ORDER_SERVICE
    DESCRIPTION = (
        "The customer asked to cancel an order that had not shipped, as far as the order service knew. "
        "Shipment decides: SHIPMENT_CANCELLED, or CANCELLATION_REJECTED when the parcel has left."
    )
    event_type: Literal[EventType.ORDER_CANCELLED] = EventType.ORDER_CANCELLED
    event_version: Literal[1] = 1
    data: OrderCancelledData


class PaymentRefunded(Event):
    TYPE = EventType.PAYMENT_REFUNDED
    PRODUCER = Producer.BILLING_SERVICE
    DESCRIPTION = "The charge was refunded: the order was cancelled after payment, or could not ship."
    event_type: Literal[EventType.PAYMENT_REFUNDED] = EventType.PAYMENT_REFUNDED
    event_version: Literal[1] = 1
    data: PaymentRefundedData


class Delivered(Event):
    TYPE = EventType.DELIVERED
    PRODUCER = Producer.SHIPMENT_SERVICE
    DESCRIPTION = "The carrier reported the parcel delivered."
    event_type: Literal[EventType.DELIVERED] = EventType.DELIVERED
    event_version: Literal[1] = 1
    data: DeliveredData


class ShipmentCancelled(Event):
    TYPE = EventType.SHIPMENT_CANCELLED
    PRODUCER = Producer.SHIPMENT_SERVICE
    DESCRIPTION = (
        "The cancellation reached the warehouse before the parcel was booked: it will never ship. "
        "Billing refunds a charge; the order is CANCELLED and its stock released."
    )
    event_type: Literal[EventType.SHIPMENT_CANCELLED] = EventType.SHIPMENT_CANCELLED
    event_version: Literal[1] = 1
    data: ShipmentCancelledData


class CancellationRejected(Event):
    TYPE = EventType.CANCELLATION_REJECTED
    PRODUCER = Producer.SHIPMENT_SERVICE
    DESCRIPTION = (
        "The cancellation came after the carrier took the parcel: the order goes on, charged, "
        "and nothing is refunded or released."
    )
    event_type: Literal[EventType.CANCELLATION_REJECTED] = EventType.CANCELLATION_REJECTED
    event_version: Literal[1] = 1
    data: CancellationRejectedData


EVENT_CLASSES: tuple[type[Event[Any]], ...] = (
    OrderCreated,
    InvoiceCreated,
    PaymentConfirmed,
    PaymentFailed,
    Shipped,
    ShipmentError,
    OrderCancelled,
    PaymentRefunded,
    Delivered,
    ShipmentCancelled,
    CancellationRejected,
)
EVENT_CLASS_BY_TYPE: dict[EventType, type[Event[Any]]] = {cls.TYPE: cls for cls in EVENT_CLASSES}

AnyEvent = Annotated[
    OrderCreated
    | InvoiceCreated
    | PaymentConfirmed
    | PaymentFailed
    | Shipped
    | ShipmentError
    | OrderCancelled
    | PaymentRefunded
    | Delivered
    | ShipmentCancelled
    | CancellationRejected,
    Field(discriminator="event_type"),
]


@cache
def _any_event() -> TypeAdapter[AnyEvent]:
    return TypeAdapter(AnyEvent)


def parse_event(raw: str | bytes) -> Event[Any]:
    """JSON text of an envelope -> the typed event. Raises pydantic.ValidationError.

    The envelope's `event_type` picks the one model to validate with, so a consumer
    builds only the models of the events it receives; anything else (no or an unknown
    type, not JSON) goes through the union of every event, which says what is wrong."""
    event_class = None
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        event_class = EVENT_CLASS_BY_TYPE.get(json.loads(raw).get("event_type"))
    if event_class is not None:
        return event_class.model_validate_json(raw)
    return _any_event().validate_json(raw)
