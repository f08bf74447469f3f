"""The simulated AWS world the whole choreography runs in, for the model-based tests.

Every service runs its real handler module (loaded twice: two Lambda instances per
function), its real domain code and its real adapters. Below the adapters:
- DynamoDB, S3 and KMS are moto, reached through botocore as in production (the
  clients of `events.aws.client`, with their timeouts and standard retries);
- SNS Publish, SQS SendMessage and SES SendEmail are answered by botocore event hooks
  that hand the message to the simulated topic, queues and mailbox;
- faults are injected in the same hooks, so production code cannot tell them from
  AWS's own: DynamoDB throttles (`ThrottlingException`,
  `ProvisionedThroughputExceededException`, retried by botocore as on AWS),
  `TransactionCanceledException` with reason `TransactionConflict`, lost answers to
  a publish; the payment provider, the carrier and SES fail as the fault switch makes
  them (fault_injection/): wrapped in the faulty decorators the handlers use when
  FAULT_RATE > 0.

Concurrency is real threads, interleaved deterministically: every AWS call (and every
call to the provider or the carrier) is a point where the running thread hands over to
one chosen by the history's seeded random generator, so a seed replays the very same
interleaving. Between two such points exactly one thread runs, so each call is atomic,
as each DynamoDB request is.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.awsrequest import AWSResponse

if TYPE_CHECKING:
    from moto.dynamodb.models.dynamo_type import Item

_T = TypeVar("_T")

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events"
TRACKING_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/carrier-tracking"
MAX_RECEIVE_COUNT = 5  # as the queues' redrive policies in template.yaml

KEYS = {
    "orders": "order_id",
    "products": "sku",
    "outbox": "event_id",
    "idempotency": "id",
    "payments": "order_id",
    "shipments": "order_id",
}
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "Decrypt", "GeneratePresignedUrl"})


# ---------------------------------------------------------------- interleaving
class Interleaver:
    """Runs a few functions on real threads, one at a time, switching at yield points.

    Who runs next is drawn from `rng` whenever every live thread is parked at a yield
    point, so the interleaving is a function of the seed. With probability
    `reads_first` a thread about to read is preferred to one about to write: both
    parties check before either writes, the race that conditional writes must settle.
    """

    def __init__(self, rng: random.Random, reads_first: float = 0.5) -> None:
        self.rng = rng
        self.reads_first = reads_first
        self.cond = threading.Condition()
        self.turn: int | None = None
        self.parked: dict[int, str] = {}  # thread index -> operation it is about to do
        self.alive: set[int] = set()
        self.local = threading.local()

    def current(self) -> int | None:
        return getattr(self.local, "index", None)

    def yield_point(self, operation: str) -> None:
        index = self.current()
        if index is None:
            return
        with self.cond:
            self.parked[index] = operation
            self.turn = None
            self._choose()
            while self.turn != index:
                self.cond.wait()
            del self.parked[index]

    def _choose(self) -> None:
        if self.turn is not None or not self.alive or set(self.parked) != self.alive:
            return
        waiting = sorted(self.parked)
        readers = [i for i in waiting if self.parked[i] in READ_OPERATIONS]
        if readers and len(readers) < len(waiting) and self.rng.random() < self.reads_first:
            waiting = readers
        self.turn = self.rng.choice(waiting)
        self.cond.notify_all()

    def run(self, functions: list[Callable[[], Any]]) -> list[Any]:
        results: list[Any] = [None] * len(functions)

        def body(index: int, function: Callable[[], Any]) -> None:
            self.local.index = index
            self.yield_point("start")
            try:
                results[index] = function()
            except BaseException as error:  # reported to the caller
                results[index] = error
            finally:
                with self.cond:
                    self.alive.discard(index)
                    self.local.index = None
                    self.turn = None
                    self._choose()

        self.alive = set(range(len(functions)))
        threads = [threading.Thread(target=body, args=(i, f), daemon=True) for i, f in enumerate(functions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
            if thread.is_alive():
                raise RuntimeError("a simulated Lambda instance never finished (deadlock in the interleaver)")
        return results


# ---------------------------------------------------------------- the cloud below the adapters
class Cloud:
    """One per process: moto started once, the tables made once, the clients hooked.

    Each history uses its own order ids and SKUs, so histories share the tables
    without seeing each other; the per-history state lives in `World`.
    """

    _instance: Cloud | None = None

    @classmethod
    def get(cls) -> Cloud:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __init__(self) -> None:
        import os

        self.world: World | None = None  # the history being run
        import boto3
        from moto import mock_aws

        self.saved_environ = dict(os.environ)
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            os.environ.pop(name, None)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "CRITICAL",
            }
        )
        self.mock = mock_aws()
        self.mock.start()
        _patch_moto_transactions()
        Clock.install()
        ddb = boto3.client("dynamodb", region_name=REGION)
        self.harness = ddb  # the simulation's own reads: no hooks, no faults
        for table, key in KEYS.items():
            ddb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="invoices")
        key_id = boto3.client("kms", region_name=REGION).create_key(Description="tokens")["KeyMetadata"]["KeyId"]
        self.env = {
            "ORDERS_TABLE": "orders",
            "PRODUCTS_TABLE": "products",
            "OUTBOX_TABLE": "outbox",
            "IDEMPOTENCY_TABLE": "idempotency",
            "PAYMENTS_TABLE": "payments",
            "SHIPMENTS_TABLE": "shipments",
            "INVOICE_BUCKET": "invoices",
            "PAYMENT_TOKEN_KEY_ID": key_id,
            "ORDER_EVENTS_TOPIC_ARN": TOPIC_ARN,
            "CARRIER_TRACKING_QUEUE_URL": TRACKING_QUEUE_URL,
            "DELIVERY_DELAY_SECONDS": "0",
            "SENDER_EMAIL": "orders@shop.test",
            "TAX_RATE": "0.20",
            "FAULT_RATE": "0",
        }
        os.environ.update(self.env)
        from events import aws

        aws.client.cache_clear()
        for service in ("dynamodb", "s3", "kms", "sns", "sqs", "ses"):
            self._hook(aws.client(service))
        # The invoice PDF's drawing (a pure function, tested on its own in
        # tests/unit/invoice_service) is a third of a history's time and matters to no
        # invariant here: a stand-in draws it. Everything else of the invoice service runs.
        from invoice_service.domain import invoices

        self.render_invoice_pdf = invoices.render_invoice_pdf
        invoices.render_invoice_pdf = lambda invoice: b"%PDF-1.4 simulated " + invoice.invoice_number.encode()
        self.instances: dict[str, list[ModuleType]] = {}
        self.api = self._load("order_service.handlers.api", "sim_api")
        self.relay = self._load("order_service.handlers.relay_outbox", "sim_relay")

    def _load(self, module: str, alias: str) -> ModuleType:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None
        fresh = importlib.util.spec_from_file_location(alias, spec.origin)
        assert fresh is not None and fresh.loader is not None
        loaded = importlib.util.module_from_spec(fresh)
        sys.modules[alias] = loaded
        fresh.loader.exec_module(loaded)
        return loaded

    @classmethod
    def close(cls) -> None:
        """Leave the process as it was: other test modules may run in it next."""
        import os

        cloud, cls._instance = cls._instance, None
        if cloud is None:
            return
        from events import aws
        from invoice_service.domain import invoices

        cloud.mock.stop()
        os.environ.clear()
        os.environ.update(cloud.saved_environ)
        invoices.render_invoice_pdf = cloud.render_invoice_pdf
        Clock.offset = 0.0
        aws.client.cache_clear()
        for alias in [name for name in sys.modules if name.startswith("sim_")]:
            del sys.modules[alias]

    def outbox_items(self) -> list[dict[str, Any]]:
        """The outbox table's items as a stream shows them (read from moto directly)."""
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ACCOUNT][REGION].get_table("outbox")
        # The outbox has no sort key: moto keeps one Item per partition key (a dict of them
        # per partition key only for tables with a sort key, hence its declared type).
        items = cast("list[Item]", list(table.items.values()))
        return [item.to_json()["Attributes"] for item in items]

    def instances_of(self, function: str, module: str) -> list[ModuleType]:
        """Two instances of a function: the module loaded twice, as two Lambda sandboxes."""
        if function not in self.instances:
            self.instances[function] = [self._load(module, f"sim_{function}_{i}") for i in range(2)]
        return self.instances[function]

    # hooks --------------------------------------------------------------
    def _hook(self, client: Any) -> None:
        events = client.meta.events
        events.register_first("before-parameter-build", self._remember_params)
        events.register_first("before-call", self._before_call)
        events.register_first("after-call", self._after_call)

    def _remember_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.world is not None:
            self.world.local.params = copy.deepcopy(params)

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        world = self.world
        if world is None:
            return None
        operation = model.name
        world.interleaver.yield_point(operation)
        service = model.service_model.service_id.hyphenize()
        api_params = getattr(world.local, "params", None) or {}
        if service == "dynamodb":
            return world.dynamodb(operation, json.loads(params["body"] or b"{}"))
        if service == "sns" and operation == "Publish":
            return world.publish(api_params)
        if service == "sns" and operation == "PublishBatch":
            return world.publish_batch(api_params)
        if service == "sqs" and operation == "SendMessage":
            return world.send_message(api_params)
        if service == "ses" and operation == "SendRawEmail":
            return world.send_email(api_params)
        return None

    def _after_call(self, model: Any, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        world = self.world
        if world is not None and http_response.status_code < 300:
            world.observe(model.name, getattr(world.local, "params", None) or {}, parsed)


class Clock:
    """Simulated time for what expires: SQS redelivers a failed message only after its
    visibility timeout (60 s), by when the Powertools in-progress record of the failed
    attempt (valid for the function's timeout, 10 s) has expired. The simulation moves
    this clock instead of waiting."""

    offset = 0.0
    in_flight = 0  # invocations running now: time may not jump under them
    _lock = threading.Lock()

    @classmethod
    def advance(cls, seconds: float) -> None:
        cls.offset += seconds

    @classmethod
    @contextlib.contextmanager
    def invocation(cls) -> Iterator[None]:
        with cls._lock:
            cls.in_flight += 1
        try:
            yield
        finally:
            with cls._lock:
                cls.in_flight -= 1

    @classmethod
    def install(cls) -> None:
        import datetime as real

        from aws_lambda_powertools.utilities.idempotency import base
        from aws_lambda_powertools.utilities.idempotency.persistence import base as persistence
        from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb

        class SimulatedDatetime(real.datetime):
            @classmethod
            # The ignore below: the simulated clock, narrower than datetime.now's overloads
            def now(cls, tz: Any = None) -> real.datetime:  # type: ignore[override]
                return real.datetime.now(tz) + real.timedelta(seconds=Clock.offset)

        shim = type(real)("datetime_shim")
        shim.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
        shim.datetime = SimulatedDatetime  # type: ignore[attr-defined]  # a module built at run time
        for module in (base, persistence, dynamodb):
            # The ignore below: Powertools' module-level datetime import, patched on purpose
            module.dt = shim  # type: ignore[attr-defined]


def _patch_moto_transactions() -> None:
    """moto backs up whole tables (deepcopy) before every TransactWriteItems, which
    makes a transaction cost grow with the table. Back up only the touched items:
    the same all-or-nothing result, at a cost independent of the table's size."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_item_level", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, Any]] = []
        for entry in transact_items:
            op = next(iter(entry.values()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            hash_key = key.get(table.hash_key_attr)
            if hash_key is None:
                continue
            from moto.dynamodb.models.dynamo_type import DynamoType

            typed = DynamoType(hash_key)
            saved.append((table, typed, copy.deepcopy(table.items.get(typed))))
        real_deepcopy = copy.deepcopy

        def no_copy(x: _T, memo: dict[int, Any] | None = None, _nil: Any = None) -> _T:
            return x

        copy.deepcopy = no_copy  # the whole-table backups
        try:
            original(self, transact_items)
        except Exception:
            for table, typed, item in saved:
                if item is None:
                    table.items.pop(typed, None)
                else:
                    table.items[typed] = item
            raise
        finally:
            copy.deepcopy = real_deepcopy

    transact_write_items._item_level = True  # type: ignore[attr-defined]  # a marker on the patched function
    # The ignore below: moto patched on purpose (item-level transactions)
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# ---------------------------------------------------------------- one history's world
@dataclass(eq=False)  # a message is itself: two copies of one event are two messages
class Message:
    message_id: str
    body: str
    attributes: dict[str, Any]
    receive_count: int = 0


@dataclass
class Queue:
    name: str
    function: str
    module: str
    event_types: frozenset[str]
    messages: list[Message] = field(default_factory=list)
    dlq: list[Message] = field(default_factory=list)
    processed: int = 0


@dataclass
class Email:
    to: str
    subject: str
    event_id: str | None
    event_type: str | None
    order_id: str | None


class World:
    """One history: its queues, what was published and sent, the ledgers, the faults."""

    def __init__(self, cloud: Cloud, seed: int, dynamodb_fault_rate: float, dependency_fault_rate: float) -> None:
        from choreography.catalogue import SELF_SCHEDULED, SUBSCRIPTIONS

        self.cloud = cloud
        self.seed = seed
        self.rng = random.Random(seed)
        self.fault_rng = random.Random(seed * 7919 + 1)
        self.dynamodb_fault_rate = dynamodb_fault_rate
        self.dependency_fault_rate = dependency_fault_rate
        self.interleaver = Interleaver(random.Random(seed * 104729 + 3))
        self.local = threading.local()
        self.queues: dict[str, Queue] = {}
        for sub in (*SUBSCRIPTIONS, *SELF_SCHEDULED):
            self.queues[sub.queue] = Queue(
                sub.queue, sub.function, sub.handler, frozenset(t.value for t in sub.event_types)
            )
        self.tracking_queue = next(s.queue for s in SELF_SCHEDULED)
        self.published: list[dict[str, Any]] = []  # every event body the topic took, in order
        self.emails: list[Email] = []
        self.log: list[str] = []  # the history, as readable steps
        self.seq = 0
        self.writes: list[tuple[int, str, dict[str, Any]]] = []  # (seq, operation, params) on domain tables
        self.streamed: set[str] = set()  # outbox entries whose stream record the relay got
        self.faults_on = True
        self.ambiguous_emails: set[str] = set()
        self.provider, self.carrier = self._dependencies()

    def tick(self) -> int:
        self.seq += 1
        return self.seq

    def note(self, text: str) -> None:
        self.log.append(text)

    # dependencies ---------------------------------------------------------
    def _dependencies(self) -> tuple[Any, Any]:
        from billing_service.adapters.faulty_provider import FaultyPaymentProvider
        from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
        from fault_injection.injector import FaultInjector
        from shipment_service.adapters.carrier import SimulatedCarrier
        from shipment_service.adapters.faulty_carrier import FaultyCarrier

        world = self

        class Provider(FaultyPaymentProvider):
            """The provider's own books: every charge and refund it made, and when it began."""

            def __init__(self) -> None:
                faults = FaultInjector(world.dependency_fault_rate, rng=world.fault_rng)
                super().__init__(SimulatedPaymentProvider(), faults)
                self.began: dict[str, int] = {}  # idempotency key -> seq of its first attempt
                self.orders: dict[str, str] = {}  # idempotency key -> order id

            def charge(self, amount_cents: int, currency: str, token: str, idempotency_key: str, description: str):
                world.interleaver.yield_point("Charge")
                self.began.setdefault(idempotency_key, world.tick())
                self.orders[idempotency_key] = description.rsplit(" ", 1)[-1]
                if not world.faults_on:
                    self.faults.rate = 0.0
                return super().charge(amount_cents, currency, token, idempotency_key, description)

            def refund(self, charge_id: str, amount_cents: int, currency: str, idempotency_key: str):
                world.interleaver.yield_point("Refund")
                if not world.faults_on:
                    self.faults.rate = 0.0
                return super().refund(charge_id, amount_cents, currency, idempotency_key)

        class Carrier(FaultyCarrier):
            def __init__(self) -> None:
                super().__init__(SimulatedCarrier(), FaultInjector(world.dependency_fault_rate, rng=world.fault_rng))
                self.orders: dict[str, str] = {}  # idempotency key -> order id

            def book(self, order_id, address, lines, idempotency_key):
                world.interleaver.yield_point("Book")
                self.orders[idempotency_key] = order_id
                if not world.faults_on:
                    self.faults.rate = 0.0
                return super().book(order_id, address, lines, idempotency_key)

        return Provider(), Carrier()

    def install(self) -> None:
        """Point every function instance at this history's dependencies."""
        from email_service.adapters.faulty_mailer import FaultyMailer
        from fault_injection.injector import FaultInjector

        self.cloud.world = self
        for function, module in self.functions():
            for module_instance in self.cloud.instances_of(function, module):
                instance: Any = module_instance  # its adapters are module globals, set at cold start
                if hasattr(instance, "provider"):
                    instance.provider = self.provider
                if hasattr(instance, "carrier"):
                    instance.carrier = self.carrier
                if hasattr(instance, "mailer"):
                    faults = FaultInjector(self.dependency_fault_rate, rng=self.fault_rng)
                    if isinstance(instance.mailer, FaultyMailer):  # wrapped for an earlier history
                        instance.mailer.faults = faults
                    else:
                        instance.mailer = FaultyMailer(instance.mailer, faults)
                    self._track_email_events(instance)

    def functions(self) -> Iterator[tuple[str, str]]:
        for queue in self.queues.values():
            yield queue.function, queue.module

    def _track_email_events(self, instance: ModuleType) -> None:
        consumer = instance.consumer
        if getattr(consumer, "_sim_tracked", False):
            return
        cloud = self.cloud

        def tracked(handler: Callable[[Any], None]) -> Callable[[Any], None]:
            def handle(event: Any) -> None:
                world = cloud.world
                assert world is not None
                world.local.event = event
                try:
                    handler(event)
                finally:
                    world.local.event = None

            return handle

        consumer.handlers = {t: tracked(h) for t, h in consumer.handlers.items()}
        consumer._sim_tracked = True

    # the topic, the queues, the mailbox -----------------------------------------
    def _ok(self, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://sim", 200, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _lost_answer(self) -> bool:
        """The call took effect but its answer is lost (a read timeout after the fact)."""
        return self.faults_on and self.fault_rng.random() < self.dependency_fault_rate / 4

    def publish(self, params: dict[str, Any]) -> Any:
        from botocore.exceptions import ReadTimeoutError

        if self.faults_on and self.fault_rng.random() < self.dependency_fault_rate / 4:
            raise ReadTimeoutError(endpoint_url="https://sns.sim")  # nothing published
        self._fan_out(params["Message"], params["MessageAttributes"])
        if self._lost_answer():
            raise ReadTimeoutError(endpoint_url="https://sns.sim")
        return self._ok({"MessageId": str(uuid.uuid4())})

    def publish_batch(self, params: dict[str, Any]) -> Any:
        """PublishBatch: the whole request may fail (nothing published) or lose its answer
        (all published), and each entry may be refused on its own (SNS's Failed list)."""
        from botocore.exceptions import ReadTimeoutError

        if self.faults_on and self.fault_rng.random() < self.dependency_fault_rate / 4:
            raise ReadTimeoutError(endpoint_url="https://sns.sim")  # nothing published
        successful, failed = [], []
        for entry in params["PublishBatchRequestEntries"]:
            if self.faults_on and self.fault_rng.random() < self.dependency_fault_rate / 4:
                failed.append({"Id": entry["Id"], "Code": "InternalError", "SenderFault": False})
                continue
            self._fan_out(entry["Message"], entry["MessageAttributes"])
            successful.append({"Id": entry["Id"], "MessageId": str(uuid.uuid4())})
        if self._lost_answer():
            raise ReadTimeoutError(endpoint_url="https://sns.sim")
        return self._ok({"Successful": successful, "Failed": failed})

    def _fan_out(self, message: str, attributes: dict[str, Any]) -> None:
        body = json.loads(message)
        event_type = attributes["event_type"]["StringValue"]
        self.published.append(body)
        self.note(f"  published {event_type} {body['event_id'][:8]} ({body['producer']})")
        for queue in self.queues.values():
            if queue.name != self.tracking_queue and event_type in queue.event_types:
                queue.messages.append(Message(str(uuid.uuid4()), message, attributes))

    def send_message(self, params: dict[str, Any]) -> Any:
        queue = self.queues[self.tracking_queue]
        queue.messages.append(Message(str(uuid.uuid4()), params["MessageBody"], params.get("MessageAttributes", {})))
        return self._ok({"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": ""})

    def send_email(self, params: dict[str, Any]) -> Any:
        from email import message_from_bytes, policy

        raw = params["RawMessage"]["Data"]
        message = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default)
        event = getattr(self.local, "event", None)
        self.emails.append(
            Email(
                to=str(message["To"].addresses[0].addr_spec),
                subject=str(message["Subject"]),
                event_id=event.event_id if event else None,
                event_type=event.event_type.value if event else None,
                order_id=event.order_id if event else None,
            )
        )
        return self._ok({"MessageId": str(uuid.uuid4())})

    # DynamoDB faults and the write log -------------------------------------
    def dynamodb(self, operation: str, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        """A DynamoDB request, answered by moto's DynamoDB (its own request handler, called
        in-process: what botocore validated and serialised goes in, the response botocore
        would have parsed comes out), or by a fault.

        Throttles are drawn per attempt, as botocore's standard retry mode (4 attempts,
        the clients' configuration) retries them: only when every attempt is throttled does
        the caller see it. A conflict with another transaction is not retried by botocore."""
        if self.faults_on and self.dynamodb_fault_rate:
            table = body.get("TableName", "")
            if self.fault_rng.random() < self.dynamodb_fault_rate / 3:
                if operation == "TransactWriteItems":
                    items = body["TransactItems"]
                    conflicted = self.fault_rng.randrange(len(items))
                    reasons = [
                        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
                        if i == conflicted
                        else {"Code": "None"}
                        for i in range(len(items))
                    ]
                    return _error("TransactionCanceledException", "Transaction cancelled", CancellationReasons=reasons)
                if operation in ("PutItem", "UpdateItem", "DeleteItem") and table in TRANSACTED:
                    return _error("TransactionConflictException", "Transaction is ongoing for the item")
            if all(self.fault_rng.random() < self.dynamodb_fault_rate for _ in range(BOTOCORE_ATTEMPTS)):
                code = self.fault_rng.choice(["ThrottlingException", "ProvisionedThroughputExceededException"])
                return _error(code, "Rate of requests exceeds the allowed throughput")
        from moto.dynamodb.responses import DynamoHandler

        handler = DynamoHandler()
        handler.current_account = ACCOUNT
        handler.region = REGION
        handler.params = handler.body = body
        try:
            result = getattr(handler, _snake(operation))()
        except Exception as error:
            description = getattr(error, "description", None)
            if not description:
                raise
            answer = json.loads(description)
            code = str(answer.pop("__type", "")).rsplit("#", 1)[-1]
            message = answer.pop("message", None) or answer.pop("Message", "")
            return _error(code, message, **answer)
        parsed = result.result if hasattr(result, "result") else json.loads(result)
        return AWSResponse("https://dynamodb.sim", 200, {}, None), {
            **(parsed or {}),
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def observe(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        """Keep, in the order they took effect, the writes to the products and payments tables."""
        if operation == "TransactWriteItems":
            entries = [next(iter(entry.items())) for entry in params.get("TransactItems", [])]
            order_id = next(
                (
                    (body.get("Key") or body.get("Item") or {}).get("order_id", {}).get("S")
                    for _, body in entries
                    if body.get("TableName") == "orders"
                ),
                None,
            )
            for op, body in entries:
                if body.get("TableName") in ("products", "payments"):
                    self.writes.append((self.tick(), op, {**body, "_order_id": order_id}))
        elif operation in ("PutItem", "UpdateItem") and params.get("TableName") in ("products", "payments"):
            self.writes.append((self.tick(), operation, params))


BOTOCORE_ATTEMPTS = 4  # events.aws.client: standard retry mode, max_attempts 4


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _error(code: str, message: str, **extra: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """An error answer, as botocore parses DynamoDB's: it raises the modelled exception."""
    return AWSResponse("https://dynamodb.sim", 400, {}, None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
        **extra,
    }


# The tables that transactions write to: only their items can be "in a transaction".
TRANSACTED = frozenset({"orders", "products", "outbox"})


@contextlib.contextmanager
def instant_sleep() -> Iterator[None]:
    """Backoff sleeps (botocore's retries, ours) take no time in the simulation."""
    real = time.sleep
    time.sleep = lambda _seconds: None
    try:
        yield
    finally:
        time.sleep = real


__all__ = ["Clock", "Cloud", "Interleaver", "Queue", "World", "instant_sleep"]
