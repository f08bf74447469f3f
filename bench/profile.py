"""Where a warm batch's time goes, handler by handler, in-process against moto.

For each function on the order path: import it (cold start, not measured), run one
warm-up batch, then run BATCH fresh records under cProfile while counting every AWS
call the handler makes. Prints, per handler: wall time per record, AWS calls per
record by operation, and the functions of ours (and the libraries') that took the most
cumulative time. moto answers in-process, so AWS round trips cost less here than on
the emulator or AWS; the call counts are what carry over.

Usage: .venv/bin/python -m bench.profile [--batch 10] [--top 12] [--only invoice,...]
Writes the figures to .local/bench/profile.json (read by `make capacity`).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import os
import pstats
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "profile",
        "AWS_SECRET_ACCESS_KEY": "profile",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "profile",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": "OrderChoreography",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
import botocore.client
from moto import mock_aws

from tests import builders

CALLS: Counter[str] = Counter()
AWS_SECONDS = [0.0]  # time inside AWS calls (moto's work included)
_original_call = botocore.client.BaseClient._make_api_call


def _counting_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    CALLS[f"{self.meta.service_model.service_name}.{operation_name}"] += 1
    started = time.perf_counter()
    try:
        return _original_call(self, operation_name, api_params)
    finally:
        AWS_SECONDS[0] += time.perf_counter() - started


botocore.client.BaseClient._make_api_call = _counting_call


def load(module: str, env: dict[str, str]) -> Any:
    os.environ.update(env)
    from events.aws import client

    client.cache_clear()
    sys.modules.pop(module, None)
    return importlib.import_module(module)


def topic() -> str:
    return str(boto3.client("sns").create_topic(Name="order-events")["TopicArn"])


def table(name: str, key: str) -> str:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


# ------------------------------------------------------------------ scenarios
# Each returns (handler, make_event): make_event(n) builds a batch (or request) of n records.
Scenario = Callable[[], tuple[Callable[..., Any], Callable[[int], list[dict[str, Any]]]]]


def api_post() -> tuple[Callable[..., Any], Callable[[int], list[dict[str, Any]]]]:
    from tests.integration.order_service.tables import create_order_tables

    env = create_order_tables(stock={"MUG-001": 1_000_000})
    env["ORDER_EVENTS_TOPIC_ARN"] = topic()
    module = load("order_service.handlers.api", env)
    body = {
        "items": [{"sku": "MUG-001", "quantity": 1}],
        "shipping_address": builders.address().model_dump(),
        "payment_token": "tok_visa",
    }

    def make(n: int) -> list[dict[str, Any]]:
        # API Gateway invokes once per request: n invocations of one event each.
        return [
            builders.api_event("POST", "/orders", body, claims=builders.customer_claims(), resource="/orders")
            for _ in range(n)
        ]

    return module.handler, make


def relay() -> tuple[Callable[..., Any], Callable[[int], list[dict[str, Any]]]]:
    from tests.integration.order_service.tables import create_order_tables, outbox_stream_event

    env = create_order_tables(stock={"MUG-001": 1_000_000})
    env["ORDER_EVENTS_TOPIC_ARN"] = topic()
    api = load("order_service.handlers.api", env)
    module = load("order_service.handlers.relay_outbox", env)
    body = {
        "items": [{"sku": "MUG-001", "quantity": 1}],
        "shipping_address": builders.address().model_dump(),
        "payment_token": "tok_visa",
    }

    def make(n: int) -> list[dict[str, Any]]:
        boto3.client("dynamodb").delete_table(TableName="outbox")
        table("outbox", "event_id")
        for _ in range(n):
            event = builders.api_event("POST", "/orders", body, claims=builders.customer_claims(), resource="/orders")
            assert api.handler(event, builders.lambda_context())["statusCode"] == 201
        return [outbox_stream_event()]

    return module.handler, make


def consumer(
    module_name: str, env: Callable[[], dict[str, str]], event: Callable[[], Any]
) -> Callable[[], tuple[Callable[..., Any], Callable[[int], list[dict[str, Any]]]]]:
    def scenario() -> tuple[Callable[..., Any], Callable[[int], list[dict[str, Any]]]]:
        module = load(module_name, env())
        return module.handler, lambda n: [builders.sqs_batch(*(event() for _ in range(n)))]

    return scenario


def _invoice_env() -> dict[str, str]:
    boto3.client("s3").create_bucket(Bucket="invoices")
    return {
        "INVOICE_BUCKET": "invoices",
        "ORDER_EVENTS_TOPIC_ARN": topic(),
        "TAX_RATE": "0.20",
        "IDEMPOTENCY_TABLE": table("idempotency", "id"),
    }


def _billing_env() -> dict[str, str]:
    return {
        "PAYMENTS_TABLE": table("payments", "order_id"),
        "ORDER_EVENTS_TOPIC_ARN": topic(),
        "IDEMPOTENCY_TABLE": table("idempotency", "id"),
    }


def _shipment_env() -> dict[str, str]:
    queue = boto3.client("sqs").create_queue(QueueName="carrier-tracking")["QueueUrl"]
    return {
        "SHIPMENTS_TABLE": table("shipments", "order_id"),
        "ORDER_EVENTS_TOPIC_ARN": topic(),
        "IDEMPOTENCY_TABLE": table("idempotency", "id"),
        "CARRIER_TRACKING_QUEUE_URL": queue,
        "DELIVERY_DELAY_SECONDS": "5",
    }


def _email_env() -> dict[str, str]:
    boto3.client("sesv2").create_email_identity(EmailIdentity="orders@shop.example.com")
    return {"SENDER_EMAIL": "orders@shop.example.com", "IDEMPOTENCY_TABLE": table("idempotency", "id")}


def status() -> tuple[Callable[..., Any], Callable[[int], list[dict[str, Any]]]]:
    """The order-status consumer on the ORDER_CREATED of orders the API really placed."""
    from tests.integration.order_service.tables import create_order_tables, outbox_stream_event

    env = create_order_tables(stock={"MUG-001": 1_000_000})
    env["ORDER_EVENTS_TOPIC_ARN"] = topic()
    sqs = boto3.client("sqs")
    tap = sqs.create_queue(QueueName="tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(
        TopicArn=env["ORDER_EVENTS_TOPIC_ARN"],
        Protocol="sqs",
        Endpoint=tap_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    api = load("order_service.handlers.api", env)
    relay_module = load("order_service.handlers.relay_outbox", env)
    module = load("order_service.handlers.handle_order_events", env)
    body = {
        "items": [{"sku": "MUG-001", "quantity": 1}],
        "shipping_address": builders.address().model_dump(),
        "payment_token": "tok_visa",
    }

    def make(n: int) -> list[dict[str, Any]]:
        boto3.client("dynamodb").delete_table(TableName="outbox")
        table("outbox", "event_id")
        for _ in range(n):
            event = builders.api_event("POST", "/orders", body, claims=builders.customer_claims(), resource="/orders")
            assert api.handler(event, builders.lambda_context())["statusCode"] == 201
        relay_module.handler(outbox_stream_event(), builders.lambda_context())
        bodies: list[str] = []
        while len(bodies) < n:
            for message in sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10).get("Messages", []):
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=tap, ReceiptHandle=message["ReceiptHandle"])
        return [builders.sqs_batch(*bodies)]

    return module.handler, make


SCENARIOS: dict[str, Scenario] = {
    "api": api_post,
    "relay": relay,
    "invoice": consumer("invoice_service.handlers.handle_order_created", _invoice_env, builders.order_created),
    "billing": consumer(
        "billing_service.handlers.handle_invoices_and_cancellations", _billing_env, builders.invoice_created
    ),
    "shipment": consumer(
        "shipment_service.handlers.handle_payments_and_cancellations", _shipment_env, builders.payment_confirmed
    ),
    "email": consumer("email_service.handlers.handle_customer_event", _email_env, builders.order_created),
    "status": status,
}


def profile(name: str, scenario: Scenario, batch: int, top: int) -> dict[str, Any]:
    with mock_aws():
        handler, make = scenario()
        for event in make(batch):  # warm-up: first-use costs are not a warm batch's
            handler(event, builders.lambda_context())
        # The figures come from a batch run without the profiler (cProfile slows Python
        # code several times, AWS calls hardly at all); the report from a second batch.
        events = make(batch)
        CALLS.clear()
        AWS_SECONDS[0] = 0.0
        started = time.perf_counter()
        _run(name, handler, events)
        elapsed = time.perf_counter() - started
        calls, aws_seconds = dict(CALLS), AWS_SECONDS[0]
        profiler = cProfile.Profile()
        events = make(batch)
        profiler.enable()
        _run(name, handler, events)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"(order_service|invoice_service|billing_service|"
        r"shipment_service|email_service|events|powertools|pydantic|jinja2)/",
        top,
    )
    own = (elapsed - aws_seconds) / batch * 1000
    print(
        f"\n=== {name}: {batch} records, {elapsed / batch * 1000:.1f} ms per record (in-process, moto), "
        f"{own:.1f} ms of it outside AWS calls"
    )
    print("  AWS calls per record: " + ", ".join(f"{op} {n / batch:.1f}" for op, n in sorted(calls.items())))
    print("  " + "\n  ".join(line for line in out.getvalue().splitlines()[-top - 2 :] if line.strip()))
    return {
        "ms_per_record": elapsed / batch * 1000,
        "own_ms_per_record": own,
        "calls_per_record": {k: v / batch for k, v in calls.items()},
    }


def _run(name: str, handler: Callable[..., Any], events: list[dict[str, Any]]) -> None:
    for event in events:
        response = handler(event, builders.lambda_context())
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if failures:
            raise SystemExit(f"{name}: {len(failures)} records failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument(
        "--json", type=Path, default=Path(".local/bench/profile.json"), help="where to write the figures"
    )
    args = parser.parse_args()
    results = {}
    for name in args.only.split(","):
        results[name] = profile(name, SCENARIOS[name], args.batch, args.top)
    print("\nsummary per record: in-process ms (all), ms outside AWS calls (ours and libraries'), AWS calls")
    for name, result in results.items():
        calls = sum(result["calls_per_record"].values())
        print(f"  {name:10} {result['ms_per_record']:7.1f} ms {result['own_ms_per_record']:7.1f} ms {calls:5.1f} calls")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"batch": args.batch, "handlers": results}, indent=1))
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
