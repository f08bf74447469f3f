"""Who consumes what, and the generated event catalogue (docs/events.md).

    python -m events.catalogue            print the catalogue (Markdown)
    python -m events.catalogue --write    regenerate docs/events.md

The contract tests check this routing against the SNS filter policies in
template.yaml and against the handlers, so the three cannot drift apart.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from events.models import EVENT_CLASSES, EventType

ALL_EVENTS = tuple(EventType)


@dataclass(frozen=True)
class Subscription:
    function: str  # logical id in template.yaml
    queue: str  # logical id of its SQS queue
    service: str
    handler: str  # module path of the Lambda handler
    event_types: tuple[EventType, ...]


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(
        "InvoiceFunction",
        "InvoiceQueue",
        "invoice_service",
        "invoice_service.handlers.handle_order_created",
        (EventType.ORDER_CREATED,),
    ),
    Subscription(
        "BillingFunction",
        "BillingQueue",
        "billing_service",
        "billing_service.handlers.handle_invoices_and_cancellations",
        (EventType.INVOICE_CREATED, EventType.ORDER_CANCELLED, EventType.SHIPMENT_ERROR, EventType.SHIPMENT_CANCELLED),
    ),
    Subscription(
        "ShipmentFunction",
        "ShipmentQueue",
        "shipment_service",
        "shipment_service.handlers.handle_payments_and_cancellations",
        (EventType.PAYMENT_CONFIRMED, EventType.ORDER_CANCELLED),
    ),
    Subscription(
        "EmailFunction", "EmailQueue", "email_service", "email_service.handlers.handle_customer_event", ALL_EVENTS
    ),
    Subscription(
        "OrderStatusFunction",
        "OrderStatusQueue",
        "order_service",
        "order_service.handlers.handle_order_events",
        ALL_EVENTS,
    ),
)


# Queues that no topic subscription feeds: a service writing to its own future.
SELF_SCHEDULED: tuple[Subscription, ...] = (
    Subscription(
        "DeliveryFunction",
        "CarrierTrackingQueue",
        "shipment_service",
        "shipment_service.handlers.handle_carrier_update",
        (EventType.SHIPPED,),
    ),
)


def consumers_of(event_type: EventType) -> list[str]:
    return [f"{s.service} ({s.function})" for s in SUBSCRIPTIONS if event_type in s.event_types]


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        nested = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        type_name = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        if name == "payment_token":
            type_name = "string (secret)"
        rows.append((prefix + name, type_name, field.description or ""))
        if nested is not None and nested.__name__ != "OrderSnapshot":
            rows += _fields(nested, prefix + name + ".")
    return rows


def render() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated from `events/models.py` and `events/catalogue.py` by `python -m events.catalogue --write`;",
        "a contract test fails when this file is out of date. Do not edit by hand.",
        "",
        "Every event travels on the `OrderEvents` SNS topic as JSON in this envelope, with the",
        "message attributes `event_type`, `event_version` and `order_id` (the subscriptions'",
        "filter policies match `event_type`).",
        "",
        "| envelope field | meaning |",
        "|---|---|",
    ]
    envelope = EVENT_CLASSES[0]
    for name, field in envelope.model_fields.items():
        if name != "data":
            lines.append(f"| `{name}` | {field.description or ''} |")
    lines += [
        "| `data` | the event's payload, below |",
        "",
        "`data.order` (every event) is the order snapshot: `customer_email`, `lines` (`sku`, `name`,",
        "`quantity`, `unit_price_cents`, `line_total_cents`), `total_cents`, `currency`, `shipping_address`",
        "(`name`, `line1`, `line2`, `city`, `postal_code`, `country`). Amounts are integer cents.",
        "",
        "| event type | version | producer | consumers | meaning |",
        "|---|---|---|---|---|",
    ]
    for cls in EVENT_CLASSES:
        version = cls.model_fields["event_version"].default
        lines.append(
            f"| `{cls.TYPE.value}` | {version} | {cls.PRODUCER.value} | "
            f"{', '.join(consumers_of(cls.TYPE))} | {cls.DESCRIPTION} |"
        )
    for cls in EVENT_CLASSES:
        data_model = cls.model_fields["data"].annotation
        assert isinstance(data_model, type) and issubclass(data_model, BaseModel)
        lines += ["", f"## {cls.TYPE.value}", "", cls.DESCRIPTION, "", "| data field | type | note |", "|---|---|---|"]
        for name, type_name, note in _fields(data_model):
            lines.append(f"| `{name}` | {type_name} | {note} |")
    return "\n".join(lines) + "\n"


CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "docs" / "events.md"


def main(argv: list[str]) -> int:
    text = render()
    if "--write" in argv:
        CATALOGUE_PATH.parent.mkdir(exist_ok=True)
        CATALOGUE_PATH.write_text(text)
        print(f"wrote {CATALOGUE_PATH}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
