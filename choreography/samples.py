"""Sample invocation payloads for every function, for `sam local invoke -e`.

    python -m choreography.samples --write     regenerate choreography/samples/*.json

They are generated from the models (deterministic ids and times), and a contract
test fails when the files are out of date or no longer validate.
"""

from __future__ import annotations

import copy
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from choreography.catalogue import CONSUMERS, Consumer
from events.models import (
    Address,
    CancellationRejected,
    CancellationRejectedData,
    Delivered,
    DeliveredData,
    Event,
    EventType,
    InvoiceCreated,
    InvoiceCreatedData,
    OrderCancelled,
    OrderCancelledData,
    OrderCreated,
    OrderCreatedData,
    OrderLine,
    OrderSnapshot,
    PaymentConfirmed,
    PaymentConfirmedData,
    PaymentFailed,
    PaymentFailedData,
    PaymentRefunded,
    PaymentRefundedData,
    ShipmentCancelled,
    ShipmentCancelledData,
    ShipmentError,
    ShipmentErrorData,
    Shipped,
    ShippedData,
)
from events.publisher import message_attributes
from order_service.models.api import PLACE_ORDER_EXAMPLE

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
REGION = "us-east-1"
ACCOUNT = "123456789012"
_NS = uuid.UUID("0b7c5c1e-2f8a-4f43-9a57-1d2b8c3e4f50")
SAMPLE_TOKEN = "tok_visa"  # noqa: S105 - the simulated provider's test token
_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _id(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


def sample_chain() -> dict[EventType, Event[Any]]:
    """One order's events, every type once, with fixed ids and times."""
    address = Address(name="Ada Lovelace", line1="12 Analytical Row", city="London", postal_code="N1 9GU", country="GB")
    order = OrderSnapshot(
        customer_email="customer@example.com",
        lines=[OrderLine(sku="MUG-001", name="Coffee mug", quantity=2, unit_price_cents=1299, line_total_cents=2598)],
        total_cents=2598,
        currency="EUR",
        shipping_address=address,
    )
    order_id, customer_id = _id("order"), _id("customer")
    created = OrderCreated(
        event_id=_id("ORDER_CREATED"),
        event_type=EventType.ORDER_CREATED,
        occurred_at=_AT,
        order_id=order_id,
        customer_id=customer_id,
        correlation_id=_id("ORDER_CREATED"),
        producer=OrderCreated.PRODUCER,
        data=OrderCreatedData(order=order, payment_token=SAMPLE_TOKEN),
    )
    invoiced = InvoiceCreated.caused_by(
        created,
        data=InvoiceCreatedData(
            order=order,
            payment_token=SAMPLE_TOKEN,
            invoice_number="INV-20260101-0A1B2C3D",
            invoice_key=f"invoices/{order_id}/INV-20260101-0A1B2C3D.html",
            subtotal_cents=2165,
            tax_cents=433,
            total_cents=2598,
        ),
    )
    paid = PaymentConfirmed.caused_by(
        invoiced,
        data=PaymentConfirmedData(order=order, charge_id="ch_0123456789abcdef", amount_cents=2598, currency="EUR"),
    )
    failed = PaymentFailed.caused_by(
        invoiced,
        data=PaymentFailedData(
            order=order,
            amount_cents=2598,
            currency="EUR",
            reason="Your card was declined.",
            decline_code="card_declined",
        ),
    )
    shipped = Shipped.caused_by(
        paid,
        data=ShippedData(order=order, shipment_id="shp_0123456789", carrier="SimPost", tracking_number="SP123456789GB"),
    )
    error = ShipmentError.caused_by(paid, data=ShipmentErrorData(order=order, reason="address is undeliverable"))
    cancelled = OrderCancelled.for_order(
        order_id=order_id,
        customer_id=customer_id,
        correlation_id=created.correlation_id,
        data=OrderCancelledData(order=order, previous_status="PAID"),
    ).model_copy(update={"event_id": _id("ORDER_CANCELLED")})
    stopped = ShipmentCancelled.caused_by(cancelled, data=ShipmentCancelledData(order=order))
    rejected = CancellationRejected.caused_by(
        cancelled,
        data=CancellationRejectedData(
            order=order,
            reason="your order had already left our warehouse with the carrier",
            carrier="SimPost",
            tracking_number="SP123456789GB",
        ),
    )
    refunded = PaymentRefunded.caused_by(
        stopped,
        data=PaymentRefundedData(
            order=order,
            charge_id="ch_0123456789abcdef",
            refund_id="re_0123456789abcdef",
            amount_cents=2598,
            currency="EUR",
            reason="the order was cancelled",
        ),
    )
    delivered = Delivered.caused_by(
        shipped,
        data=DeliveredData(
            order=order,
            shipment_id="shp_0123456789",
            carrier="SimPost",
            tracking_number="SP123456789GB",
            delivered_at=_AT,
        ),
    )
    events: list[Event[Any]]
    events = [created, invoiced, paid, failed, shipped, error, cancelled, refunded, delivered, stopped, rejected]
    return {e.event_type: e.model_copy(update={"occurred_at": _AT}) for e in events}


def sqs_record(event: Event[Any] | str, message_id: str) -> dict[str, Any]:
    """One SQS record as Lambda receives it from a raw-delivery SNS subscription."""
    body = event if isinstance(event, str) else event.model_dump_json()
    attributes = {} if isinstance(event, str) else message_attributes(event)
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767268800000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1767268800000",
        },
        "messageAttributes": {
            name: {
                "stringValue": attr["StringValue"],
                "dataType": attr["DataType"],
                "stringListValues": [],
                "binaryListValues": [],
            }
            for name, attr in attributes.items()
        },
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue",
        "awsRegion": REGION,
    }


def sample_order_request(*items: tuple[str, int], **overrides: Any) -> dict[str, Any]:
    """A POST /orders body (a new dict each call): the API's documented example, with other
    items or fields for the demo and the tests."""
    body: dict[str, Any] = copy.deepcopy(PLACE_ORDER_EXAMPLE)
    if items:
        body["items"] = [{"sku": sku, "quantity": quantity} for sku, quantity in items]
    return {**body, **overrides}


def sample_environment(consumers: tuple[Consumer, ...] = CONSUMERS) -> dict[str, str]:
    """What every handler reads from its environment, with sample values: for
    `sam local invoke --env-vars`, for importing handlers in tests and benchmarks. A
    consumer's grants with an `env` add theirs (a table's name, a queue's URL)."""
    environment = {
        "ORDER_EVENTS_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events",
        "IDEMPOTENCY_TABLE": "idempotency",
        "ORDERS_TABLE": "orders",
        "PRODUCTS_TABLE": "products",
        "OUTBOX_TABLE": "outbox",
        "INVOICE_BUCKET": "invoices",
        "SENDER_EMAIL": "orders@example.com",
        "PAYMENT_TOKEN_KEY_ID": "00000000-0000-0000-0000-000000000000",
        "AWS_DEFAULT_REGION": REGION,
    }
    for grant in (grant for consumer in consumers for grant in consumer.grants if grant.env):
        if grant.service == "sqs":
            value = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{grant.resource}"
        else:
            value = grant.resource.removesuffix("Table").removesuffix("Bucket").lower()
        environment.setdefault(grant.env, value)
    return environment


SAMPLE_ENVIRONMENT = sample_environment()


def api_place_order() -> dict[str, Any]:
    body = sample_order_request()
    return {
        "resource": "/orders",
        "path": "/orders",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/orders",
            "httpMethod": "POST",
            "path": "/v1/orders",
            "stage": "v1",
            "requestId": _id("request"),
            "accountId": ACCOUNT,
            "apiId": "sample",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {
                "claims": {"sub": _id("customer"), "email": "customer@example.com", "email_verified": "true"}
            },
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def outbox_insert(event: Event[Any]) -> dict[str, Any]:
    """The outbox table's stream record of a queued event (DynamoDB JSON)."""
    image = {
        "event_id": {"S": event.event_id},
        "order_id": {"S": event.order_id},
        "event": {"S": event.model_dump_json()},
        "queued_at": {"N": "1767268800"},
    }
    return {
        "Records": [
            {
                "eventID": _id("outbox-record"),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": {
                    "ApproximateCreationDateTime": 1767268800,
                    "Keys": {"event_id": {"S": event.event_id}},
                    "NewImage": image,
                    "SequenceNumber": "100000000000000000001",
                    "SizeBytes": 1024,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/outbox/stream/2026-01-01T00:00:00.000",
            }
        ]
    }


def scheduled_sweep() -> dict[str, Any]:
    """EventBridge's scheduled event, as the outbox sweeper receives it every 5 minutes."""
    return {
        "version": "0",
        "id": _id("outbox-sweep"),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-01-01T12:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/order-outbox-sweep"],
        "detail": {},
    }


def generate() -> dict[str, dict[str, Any]]:
    chain = sample_chain()
    samples: dict[str, dict[str, Any]] = {
        "OrderApiFunction": api_place_order(),
        "OrderOutboxFunction": outbox_insert(chain[EventType.ORDER_CREATED]),
        "OrderOutboxSweepFunction": scheduled_sweep(),
    }
    for subscription in CONSUMERS:
        samples[subscription.function] = {
            "Records": [
                sqs_record(chain[event_type], _id(f"{subscription.function}/{event_type.value}"))
                for event_type in subscription.event_types
            ]
        }
    return samples


def render(sample: dict[str, Any]) -> str:
    return json.dumps(sample, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    samples = generate()
    if "--write" not in argv:
        print("\n".join(sorted(samples)))
        return 0
    SAMPLES_DIR.mkdir(exist_ok=True)
    for name, sample in samples.items():
        (SAMPLES_DIR / f"{name}.json").write_text(render(sample))
    print(f"wrote {len(samples)} samples to {SAMPLES_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
