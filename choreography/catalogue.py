"""The choreography's one declaration: who consumes which events, with what.

One `Consumer` entry per consuming function. Everything else about a consumer is derived
from its entry and never written by hand:

- in template.yaml (`python -m choreography.wiring --write`, between the `consumers`
  markers): its queue and DLQ, its filtered SNS subscription, its place in the queue
  policy, its role with exactly the grants below, its function and event source
  mapping, its DLQ and queue-age alarms, its DLQ's output; and, through
  `scripts/operations.py`, its log group, error and throttle alarms and dashboard rows;
- lambda_build/Makefile's build recipe for its function;
- `make dlq` / `make redrive` (scripts/local.py);
- the routing, delivery and least-privilege contract tests (tests/contract);
- the event catalogue docs/events.md, the AsyncAPI document, the sample events.

Developer tooling: nothing here ships in a Lambda function or the layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from events.models import EventType

ALL_EVENTS = tuple(EventType)


@dataclass(frozen=True)
class Grant:
    """What a consumer's role may do to one resource of template.yaml.

    `arn` is the policy's Resource as template text when it is not the resource's own
    `!GetAtt <resource>.Arn` (an object prefix of a bucket, an SES identity); `env`, when
    set, hands the function `!Ref <resource>` (a table's name, a queue's URL) in that
    environment variable."""

    resource: str  # logical id in template.yaml
    actions: tuple[str, ...]
    why: str = ""  # a comment on the statement in the template
    arn: str = ""
    env: str = ""
    condition: tuple[tuple[str, str, str], ...] = ()  # (operator, key, value as template text)

    @property
    def service(self) -> str:
        return self.actions[0].split(":")[0]


def table(name: str, *actions: str, env: str = "", why: str = "") -> Grant:
    return Grant(name, tuple(f"dynamodb:{a}" for a in actions), why=why, env=env)


def objects(bucket: str, prefix: str, *actions: str, env: str = "", why: str = "") -> Grant:
    """Objects under one prefix of a bucket."""
    return Grant(bucket, tuple(f"s3:{a}" for a in actions), why=why, arn=f'!Sub "${{{bucket}.Arn}}/{prefix}*"', env=env)


def sends_to(queue: str, *, env: str, why: str = "") -> Grant:
    return Grant(queue, ("sqs:SendMessage",), why=why, env=env)


def sends_email(identity: str, sender_parameter: str, *, why: str = "") -> Grant:
    """SES raw email from one verified identity, with one From address."""
    return Grant(
        identity,
        ("ses:SendRawEmail",),
        why=why,
        arn=f'!Sub "arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:identity/${{{identity}}}"',
        condition=(("StringEquals", "ses:FromAddress", f"!Ref {sender_parameter}"),),
    )


# What every consumer shares: one topic, one idempotency table.
TOPIC = "OrderEventsTopic"
IDEMPOTENCY_TABLE = "IdempotencyTable"
IDEMPOTENCY_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
# Delivery settings every consumer queue has; tests/contract/test_delivery.py holds them to
# the rules (visibility >= 6 x the function's timeout, a DLQ after 5 receives).
VISIBILITY_TIMEOUT_SECONDS = 60
MAX_RECEIVE_COUNT = 5
QUEUE_RETENTION_SECONDS = 345600  # 4 days
DLQ_RETENTION_SECONDS = 1209600  # 14 days, SQS's longest


@dataclass(frozen=True)
class Consumer:
    """One consuming function and everything it may use."""

    name: str  # CamelCase stem of its logical ids: <name>Queue, <name>DLQ, <name>Subscription, ...
    service: str  # the package its function is built from (CodeUri)
    handler: str  # module path of the Lambda handler (its `handler` attribute is called)
    description: str  # the function's Description
    event_types: tuple[EventType, ...]  # what its queue receives (its SNS filter policy)
    label: str  # what its queue holds, for alarm texts: "Billing events"
    grants: tuple[Grant, ...] = ()  # beyond its queue, the idempotency table and the topic
    environment: tuple[tuple[str, str], ...] = ()  # beyond the grants' `env`: (NAME, template text)
    function: str = ""  # logical id of the function; default <name>Function
    queue: str = ""  # logical id of the queue; default <name>Queue
    subscribed: bool = True  # False: no topic feeds the queue (a service writing to its own future)
    about_queue: str = ""  # a comment above the queue in the template
    idempotent: bool = True  # uses the Powertools idempotency table
    publishes: bool = True  # may publish to the topic
    batch_size: int = 10
    max_concurrency: int | None = None  # the event source mapping's MaximumConcurrency
    why_max_concurrency: str = ""
    memory_mb: int | None = None  # None: the template's Globals
    why_memory: str = ""
    max_age_seconds: int = 300  # the queue-age alarm's threshold
    about_age_alarm: str = ""  # the age alarm's description, when the default does not fit

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", self.name):
            raise ValueError(f"consumer name {self.name!r}: CamelCase, it names logical ids")
        object.__setattr__(self, "function", self.function or f"{self.name}Function")
        object.__setattr__(self, "queue", self.queue or f"{self.name}Queue")
        if not self.queue.endswith("Queue"):
            raise ValueError(f"{self.queue}: a queue's logical id ends with Queue")

    @property
    def stem(self) -> str:
        """The queue's stem: <stem>DLQ, <stem>Subscription, <stem>DLQAlarm."""
        return self.queue.removesuffix("Queue")

    @property
    def dlq(self) -> str:
        return f"{self.stem}DLQ"

    @property
    def subscription(self) -> str:
        return f"{self.stem}Subscription"

    @property
    def role(self) -> str:
        return f"{self.function}Role"

    @property
    def redrive_name(self) -> str:
        """The queue's name for `make redrive QUEUE=...`: CarrierTracking -> carrier-tracking."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.stem).lower()

    def all_grants(self) -> tuple[Grant, ...]:
        """Every grant of its role, the shared ones first."""
        shared = [Grant(self.queue, ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"))]
        if self.idempotent:
            shared.append(table(IDEMPOTENCY_TABLE, *IDEMPOTENCY_ACTIONS))
        own = list(self.grants)
        if self.publishes:
            own.append(Grant(TOPIC, ("sns:Publish",), arn=f"!Ref {TOPIC}"))
        return (*shared, *own)

    def reach(self) -> dict[str, set[str]]:
        """The logical ids its role may touch, by AWS service (the least-privilege table)."""
        reach: dict[str, set[str]] = {}
        for grant in self.all_grants():
            reach.setdefault(grant.service, set()).add(grant.resource)
        return reach


# ------------------------------------------------------------------ the choreography
CONSUMERS: tuple[Consumer, ...] = (
    Consumer(
        name="Invoice",
        service="invoice_service",
        handler="invoice_service.handlers.handle_order_created",
        description="ORDER_CREATED -> invoice rendered to S3 -> INVOICE_CREATED",
        event_types=(EventType.ORDER_CREATED,),
        label="Invoice events",
        grants=(
            objects(
                "InvoiceBucket",
                "invoices/",
                "PutObject",
                "GetObject",
                env="INVOICE_BUCKET",
                why="GetObject: pre-signed links to the PDF",
            ),
        ),
        environment=(("TAX_RATE", '"0.20"'), ("INVOICE_LINK_SECONDS", "!Ref InvoiceLinkSeconds")),
        memory_mb=1769,
        why_memory=(
            "Laying out and subsetting the fonts of a PDF is CPU-bound (a CJK invoice parses a\n"
            "5 MB font): 1769 MB is one full vCPU, so a batch of 10 stays well inside Timeout."
        ),
    ),
    Consumer(
        name="Billing",
        service="billing_service",
        handler="billing_service.handlers.handle_invoices_and_cancellations",
        description="INVOICE_CREATED -> charge -> PAYMENT_CONFIRMED | PAYMENT_FAILED",
        event_types=(
            EventType.INVOICE_CREATED,
            EventType.ORDER_CANCELLED,
            EventType.SHIPMENT_ERROR,
            EventType.SHIPMENT_CANCELLED,
        ),
        label="Billing events",
        grants=(table("PaymentsTable", "GetItem", "PutItem", env="PAYMENTS_TABLE"),),
        environment=(("FAULT_RATE", "!Ref FaultRate"),),
        # Idempotent by its own rows, not Powertools records: every effect goes through
        # claim-call-commit on the order's row (events/claim_call_commit.py), whose
        # conditional writes decide a repeated or concurrent event from the row alone and
        # replay what it announced under the same event id. A record per event on top
        # cost two writes per event and decided nothing the row does not.
        idempotent=False,
    ),
    Consumer(
        name="Shipment",
        service="shipment_service",
        handler="shipment_service.handlers.handle_payments_and_cancellations",
        description="PAYMENT_CONFIRMED -> book a carrier -> SHIPPED | SHIPMENT_ERROR",
        event_types=(EventType.PAYMENT_CONFIRMED, EventType.ORDER_CANCELLED),
        label="Shipment events",
        grants=(
            table("ShipmentsTable", "GetItem", "PutItem", "UpdateItem", env="SHIPMENTS_TABLE"),
            sends_to(
                "CarrierTrackingQueue", env="CARRIER_TRACKING_QUEUE_URL", why="schedules the carrier's delivery report"
            ),
        ),
        environment=(("FAULT_RATE", "!Ref FaultRate"), ("DELIVERY_DELAY_SECONDS", "!Ref DeliveryDelaySeconds")),
        idempotent=False,  # by its rows, as billing
    ),
    Consumer(
        name="Delivery",
        queue="CarrierTrackingQueue",
        subscribed=False,
        about_queue=(
            "The simulated carrier's delivery reports: the shipment service schedules one per\n"
            "parcel with an SQS delay (no sleeping Lambda); no topic feeds this queue."
        ),
        service="shipment_service",
        handler="shipment_service.handlers.handle_carrier_update",
        description="The carrier's delivery report (a delayed message) -> DELIVERED",
        event_types=(EventType.SHIPPED,),
        label="Delivery reports",
        grants=(table("ShipmentsTable", "GetItem", "UpdateItem", env="SHIPMENTS_TABLE"),),
        idempotent=False,  # by the shipment's row, as billing
        max_age_seconds=1200,
        about_age_alarm=(
            "A delivery report is older than 20 minutes (its delay is at most 15) - "
            "the delivery function fails or is throttled"
        ),
    ),
    Consumer(
        name="Email",
        service="email_service",
        handler="email_service.handlers.handle_customer_event",
        description="Every customer-facing event -> one SES email (HTML and text)",
        event_types=ALL_EVENTS,
        label="Email events",
        grants=(
            sends_email("SenderIdentity", "SenderEmail", why="the sender identity only (raw MIME: adapters/mime.py)"),
        ),
        environment=(
            ("SENDER_EMAIL", "!Ref SenderEmail"),
            ("SENDER_NAME", "!Ref SenderName"),
            ("REPLY_TO_EMAIL", "!Ref ReplyToEmail"),
            ("FAULT_RATE", "!Ref FaultRate"),
        ),
        publishes=False,
        max_concurrency=5,
        why_max_concurrency=(
            "At most 5 batches send at once, so a backlog reaches SES at a rate its quota\n"
            "takes (docs/capacity.md); raise with the account's SES sending rate. A literal:\n"
            "MiniStack 1.5.33 passes a parameter's value here as a string and its poller stops."
        ),
    ),
    Consumer(
        name="OrderStatus",
        service="order_service",
        handler="order_service.handlers.handle_order_events",
        description="Moves each order along its lifecycle on every event; releases stock on failures",
        event_types=ALL_EVENTS,
        label="Order-status events",
        grants=(
            table("OrdersTable", "GetItem", "UpdateItem", env="ORDERS_TABLE"),
            table("ProductsTable", "UpdateItem", env="PRODUCTS_TABLE"),
        ),
        idempotent=False,
        publishes=False,
    ),
)


def subscribed(consumers: tuple[Consumer, ...] = CONSUMERS) -> tuple[Consumer, ...]:
    """The consumers a filtered subscription of the topic feeds."""
    return tuple(c for c in consumers if c.subscribed)


# The names the tools and tests have always used.
SUBSCRIPTIONS = subscribed()
SELF_SCHEDULED = tuple(c for c in CONSUMERS if not c.subscribed)


def consumers_of(event_type: EventType, consumers: tuple[Consumer, ...] = CONSUMERS) -> list[Consumer]:
    return [c for c in subscribed(consumers) if event_type in c.event_types]
