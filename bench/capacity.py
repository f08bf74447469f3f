"""`make capacity`: the figures of docs/capacity.md, from what this repository measured
and AWS's published quotas and prices.

Measured inputs (run the producers first; `make capacity` says which one is missing):
- .local/load/latest/load.json (`make load`): per function, handler duration per
  invocation, records per batch and log bytes, on the local emulator;
- .local/bench/profile.json (`python -m bench.profile`, which `make capacity` runs):
  AWS calls per record of each handler, and the handler's own time per record;
- .local/bench/coldstart.json (`make bench`): each handler's peak RSS at import;
- template.yaml: memory size, batch sizes, the API's throttle, consumer concurrency.

Quotas and prices are us-east-1 list prices and default quotas as published by AWS and
known to the author at the date below, written down here from that knowledge (this
machine has no internet access): check them against the AWS pages before a decision.

Writes the generated sections of docs/capacity.md between its
`<!-- capacity:NAME -->` ... `<!-- /capacity:NAME -->` markers (`--check` only compares).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from choreography.catalogue import CONSUMERS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "capacity.md"
PRICES_AS_OF = "2025 (us-east-1 list prices and default quotas, from the author's knowledge; no internet here)"

# ---------------------------------------------------------------- published figures (us-east-1)
PRICE = {
    "apigw_rest_per_million": 3.50,  # REST API, first 333 M requests/month
    "lambda_request_per_million": 0.20,
    "lambda_gb_second_arm64": 0.0000133334,
    "sns_publish_per_million": 0.50,  # per 64 KB chunk; deliveries to SQS are free
    "sqs_request_per_million": 0.40,  # standard queue, per 64 KB chunk
    "ddb_wru_per_million": 0.625,  # on-demand, after the November 2024 price cut
    "ddb_rru_per_million": 0.125,
    "kms_request_per_million": 3.00,  # $0.03 per 10,000
    "ses_email_per_thousand": 0.10,
    "s3_put_per_thousand": 0.005,
    "cw_logs_ingest_per_gb": 0.50,
    "sfn_standard_per_thousand_transitions": 0.025,
    "sfn_express_per_million_requests": 1.00,
    "sfn_express_gb_second": 0.00001667,
}
QUOTA = {
    "apigw_account_rps": 10_000,  # per region, shared by every API of the account (burst 5,000)
    "lambda_account_concurrency": 1_000,  # default, raised on request to tens of thousands
    "lambda_scaling_per_10s": 1_000,  # each function may add 1,000 concurrent executions every 10 s
    "sqs_esm_max_concurrency": 1_250,  # an SQS event source scales to at most this many invocations
    "sqs_esm_scale_per_minute": 300,  # ... adding up to 300 a minute
    "sns_publish_per_second": 30_000,  # standard topics, us-east-1 (soft)
    "kms_symmetric_per_second": 50_000,  # us-east-1 shared cryptographic-request quota (soft)
    "ses_send_per_second": 14,  # a production account's usual starting rate; sandbox: 1/s, 200/day
    "ddb_table_wru_per_second": 40_000,  # on-demand per-table maximum, default (soft)
    "ddb_table_rru_per_second": 40_000,
    "ddb_partition_wcu": 1_000,  # per partition, so per item: a hot key's ceiling (hard)
    "ddb_partition_rcu": 3_000,
    "stream_shards_guess": 4,  # a new on-demand table's partitions (and so stream shards), roughly
    "s3_put_per_prefix_second": 3_500,
}
# Round trip of one call to DynamoDB, SNS, SQS, KMS or S3 from Lambda in the same region:
# an assumption for the "on AWS" estimate (the emulator's figure is the other column).
AWS_CALL_MS = 8.0
RATES = (10, 100, 1_000, 10_000)
FLASH_SALE_RATE = 1_000
# DynamoDB transaction conflict model: two transactions on one item conflict when they
# overlap in time; a transaction holds its items for about this long.
TX_WINDOW_S = 0.015
TX_RETRIES = 3  # jittered retries of a conflicting reservation before the API gives up

# The happy path of one order: events published, and records each function handles.
HAPPY_EVENTS = ("ORDER_CREATED", "INVOICE_CREATED", "PAYMENT_CONFIRMED", "SHIPPED", "DELIVERED")
# Functions, their profile scenario, and records per order on the happy path.
# Relay: the outbox INSERT and the REMOVE its own delete causes (ignored, but delivered).
PATH = {
    "OrderApiFunction": ("api", 1),
    "OrderOutboxFunction": ("relay", 2),
    "InvoiceFunction": ("invoice", 1),
    "BillingFunction": ("billing", 1),
    "ShipmentFunction": ("shipment", 1),
    "DeliveryFunction": (None, 1),
    "EmailFunction": ("email", len(HAPPY_EVENTS)),
    "OrderStatusFunction": ("status", len(HAPPY_EVENTS)),
}
# AWS calls of the delivery function per record (not profiled: it needs a booked shipment):
# the shipment's read and conditional update to DELIVERED, one publish, the update that
# records the announcement (shipment_service.domain.delivery).
DELIVERY_CALLS = {"dynamodb.GetItem": 1, "dynamodb.UpdateItem": 2, "sns.Publish": 1}
# SQS messages per order: topic deliveries to the subscribed queues (invoice, billing,
# shipment, email, status) plus the carrier-tracking message.
SQS_MESSAGES = 3 + 3 + 3 + 2 + 2 + 1
# DynamoDB write units per call, by what the call writes (item sizes assumed: order item
# about 3 KB once its timeline has a few entries, everything else under 1 KB).
ORDER_ITEM_WRU = 3


@dataclass
class Inputs:
    memory_mb: int
    batch_size: int
    api_rate: float
    api_burst: int
    email_concurrency: int | None
    functions: dict[str, dict[str, Any]]  # from load.json (real stack)
    null: dict[str, Any]
    real: dict[str, Any]
    ratios: dict[str, Any]
    profile: dict[str, dict[str, Any]]
    coldstart: dict[str, dict[str, Any]]
    load_settings: dict[str, Any]


def _template() -> dict[str, Any]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return dict(yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader))  # noqa: S506 - SafeLoader subclass


def load_inputs(load_json: Path, profile_json: Path, coldstart_json: Path) -> Inputs:
    missing = [
        f"{path} (run `{how}`)"
        for path, how in (
            (load_json, "make load"),
            (profile_json, "python -m bench.profile"),
            (coldstart_json, "make bench"),
        )
        if not path.exists()
    ]
    if missing:
        raise SystemExit("make capacity needs measured figures first:\n  " + "\n  ".join(missing))
    template = _template()
    glob = template["Globals"]["Function"]
    resources = template["Resources"]
    throttle = resources["OrderApi"]["Properties"]["MethodSettings"][0]

    email_source = resources["EmailFunction"]["Properties"]["Events"]["Queue"]["Properties"]
    email_concurrency = (email_source.get("ScalingConfig") or {}).get("MaximumConcurrency")

    load = json.loads(load_json.read_text())
    return Inputs(
        memory_mb=int(glob["MemorySize"]),
        batch_size=int(resources["InvoiceFunction"]["Properties"]["Events"]["Queue"]["Properties"]["BatchSize"]),
        api_rate=float(throttle["ThrottlingRateLimit"]),
        api_burst=int(throttle["ThrottlingBurstLimit"]),
        email_concurrency=int(email_concurrency) if email_concurrency else None,
        functions=load["real"]["functions"],
        null=load["null"],
        real=load["real"],
        ratios=load["ratios"],
        profile=json.loads(profile_json.read_text())["handlers"],
        coldstart=json.loads(coldstart_json.read_text())["handlers"],
        load_settings=load["settings"],
    )


# ---------------------------------------------------------------- the model
def calls_per_record(inputs: Inputs, function: str) -> dict[str, float]:
    scenario = PATH[function][0]
    if scenario is None:
        return dict(DELIVERY_CALLS)
    return dict(inputs.profile[scenario]["calls_per_record"])


def per_record_ms(inputs: Inputs, function: str) -> tuple[float, float]:
    """(measured on the emulator, estimated on AWS) handler milliseconds per record."""
    stats = inputs.functions.get(function) or inputs.functions["ShipmentFunction"]
    records = max(stats.get("records_per_batch") or 1.0, 1.0)
    if function == "OrderApiFunction":
        records = 1.0
    measured = (stats["duration_ms"]["mean"] or 0.0) / records
    scenario = PATH[function][0]
    own = inputs.profile[scenario]["own_ms_per_record"] if scenario else 3.0
    aws = own + AWS_CALL_MS * sum(calls_per_record(inputs, function).values())
    return measured, aws


def working_records(function: str) -> int:
    """Records per order that cost the handler its calls: the relay's stream also delivers
    the REMOVE its own delete causes, which it skips without a call."""
    return 1 if function == "OrderOutboxFunction" else PATH[function][1]


def records_per_batch(inputs: Inputs, function: str, rate: float) -> float:
    """Full batches once a queue gets a batch's worth within a poll; one record at a trickle."""
    if function == "OrderApiFunction":
        return 1.0
    per_second = rate * PATH[function][1]
    return float(max(1.0, min(inputs.batch_size, per_second / 10)))  # pollers take ~10 receives/s


def lambda_at(inputs: Inputs, rate: float) -> dict[str, dict[str, float]]:
    out = {}
    for function, (_scenario, records) in PATH.items():
        batch = records_per_batch(inputs, function, rate)
        invocations = rate * records / batch
        measured_ms, aws_ms = per_record_ms(inputs, function)
        working = working_records(function)
        out[function] = {
            "invocations_per_s": invocations,
            "batch": batch,
            "concurrency_measured": rate * working * measured_ms / 1000,
            "concurrency_aws": rate * working * aws_ms / 1000,
            "gb_s_per_order_aws": working * aws_ms / 1000 * inputs.memory_mb / 1024,
            "gb_s_per_order_measured": working * measured_ms / 1000 * inputs.memory_mb / 1024,
            "invocations_per_order": records / batch,
        }
    return out


def dynamodb_per_order(inputs: Inputs) -> dict[str, dict[str, float]]:
    """Write and read units per order, by table (happy path)."""
    # The consumers with Powertools idempotency records (the others keep their own rows).
    idempotency_records = sum(PATH[c.function][1] for c in CONSUMERS if c.idempotent and c.function in PATH)
    return {
        # placed in a transaction (2 WRU per KB); each status update a plain conditional
        # UpdateItem (1 WRU per KB) after a read of the order (1 RRU up to 4 KB)
        "orders": {
            "wru": 2 * ORDER_ITEM_WRU + PATH["OrderStatusFunction"][1] * ORDER_ITEM_WRU,
            "rru": PATH["OrderStatusFunction"][1],
        },
        "products": {"wru": 2, "rru": 0.5},  # reservation in the transaction; BatchGetItem of the price
        "outbox": {"wru": 2 + 1, "rru": 0},  # written in the transaction, deleted by the relay
        "idempotency": {"wru": 2 * idempotency_records, "rru": 0},  # put IN_PROGRESS + update COMPLETED
        "payments": {"wru": 2, "rru": 1},  # claim CHARGING, settle CONFIRMED; one read
        "shipments": {"wru": 4, "rru": 2},  # claim BOOKING, BOOKED, DELIVERED, announced; two reads
    }


def usage_at(inputs: Inputs, rate: float) -> dict[str, Any]:
    """The figures at `rate` orders/s (floats), and `max_table`: the name of the busiest table."""
    ddb = dynamodb_per_order(inputs)
    lam = lambda_at(inputs, rate)
    return {
        "api_rps": rate,
        "sns_publish": rate * len(HAPPY_EVENTS),
        "ses_send": rate * len(HAPPY_EVENTS),
        "kms": rate * 2,
        "s3_put": rate * 2,
        "concurrency_aws": sum(f["concurrency_aws"] for f in lam.values()),
        "concurrency_measured": sum(f["concurrency_measured"] for f in lam.values()),
        "email_concurrency_aws": lam["EmailFunction"]["concurrency_aws"],
        "relay_records": rate * PATH["OrderOutboxFunction"][1],
        "max_table_wru": max(t["wru"] for t in ddb.values()) * rate,
        "max_table": max(ddb, key=lambda name: ddb[name]["wru"]),
        "sku_wcu_if_one_sku": 2 * rate,
    }


def limits_at(inputs: Inputs, rate: float) -> list[tuple[str, float, float, str]]:
    """(limit, used, available, what to do) for every limit on the path, most used first."""
    use = usage_at(inputs, rate)
    # Half of a stream batch is the REMOVE records of the relay's own deletes (no calls).
    relay_per_shard = 2 * 1000 / per_record_ms(inputs, "OrderOutboxFunction")[1]
    rows = [
        (
            "API Gateway: the template's stage throttle (POST /orders)",
            use["api_rps"],
            inputs.api_rate,
            f"raise `ThrottlingRateLimit` (now {inputs.api_rate:g}/s, burst {inputs.api_burst}) with the expected peak",
        ),
        (
            "API Gateway: account requests/s (region)",
            use["api_rps"],
            QUOTA["apigw_account_rps"],
            "quota increase; GETs of customers polling their orders count too",
        ),
        (
            "SES: sending rate (5 emails per order)",
            use["ses_send"],
            QUOTA["ses_send_per_second"],
            "SES quota increase; the email consumer's event source sends at most "
            f"{inputs.email_concurrency or 'unbounded'} batches at once (ScalingConfig.MaximumConcurrency)",
        ),
        (
            "Lambda: account concurrency (all functions, on AWS)",
            use["concurrency_aws"],
            QUOTA["lambda_account_concurrency"],
            "quota increase; MaximumConcurrency on the busiest consumers' event sources",
        ),
        (
            "Lambda: one SQS event source's concurrency (email, on AWS)",
            use["email_concurrency_aws"],
            QUOTA["sqs_esm_max_concurrency"],
            "a second queue and function (split emails by event type)",
        ),
        (
            "Outbox relay: stream shards x records per invocation",
            use["relay_records"],
            QUOTA["stream_shards_guess"] * relay_per_shard,
            "ParallelizationFactor up to 10 per shard and a larger stream BatchSize",
        ),
        (
            "SNS: Publish per second",
            use["sns_publish"],
            QUOTA["sns_publish_per_second"],
            "quota increase (soft)",
        ),
        (
            "KMS: symmetric requests per second (seal + unseal)",
            use["kms"],
            QUOTA["kms_symmetric_per_second"],
            "quota increase, or data keys cached per container (encryption SDK)",
        ),
        (
            f"DynamoDB: one table's on-demand WRU/s ({use['max_table']})",
            use["max_table_wru"],
            QUOTA["ddb_table_wru_per_second"],
            "table quota increase; warm throughput before a known peak",
        ),
        (
            "DynamoDB: one SKU's stock item (per-partition WCU), all orders on one SKU",
            use["sku_wcu_if_one_sku"],
            QUOTA["ddb_partition_wcu"],
            "sharded stock counters (see the flash sale)",
        ),
        (
            "S3: PUT per second per prefix (invoices/<order>/ spreads them)",
            use["s3_put"] / max(rate, 1),
            QUOTA["s3_put_per_prefix_second"],
            "none: one prefix per order",
        ),
    ]
    return sorted(rows, key=lambda row: row[1] / row[2], reverse=True)


def saturation_rates(inputs: Inputs) -> list[tuple[str, float, float, float, str]]:
    """(limit, orders/s at which it is reached, need per order/s, available, what to do),
    lowest first: every need grows in proportion to the order rate."""
    rows = []
    for name, used, available, action in limits_at(inputs, 1_000):
        per_order = used / 1_000
        if "S3" in name:  # per prefix, and a prefix is one order: never reached by rate
            continue
        rows.append((name, available / per_order, per_order, available, action))
    return sorted(rows, key=lambda row: row[1])


def conflict_probability(rate_per_item: float, window: float = TX_WINDOW_S) -> float:
    """P(a transaction overlaps another on the same item) for Poisson arrivals."""
    return 1 - math.exp(-rate_per_item * window)


def flash_sale(rate: float = FLASH_SALE_RATE) -> list[dict[str, float]]:
    rows = []
    for shards in (1, 2, 4, 8, 16, 32, 64, 100):
        per_shard = rate / shards
        p = conflict_probability(per_shard)
        # every attempt (first and retries) is a write on the shard
        attempts = sum(p**k for k in range(TX_RETRIES + 1))
        wcu = 2 * per_shard * attempts
        rows.append(
            {
                "shards": shards,
                "orders_per_shard": per_shard,
                "conflict_p": p,
                "fail_after_retries": p ** (TX_RETRIES + 1),
                "wcu_per_shard": wcu,
                "throttled_share": max(0.0, 1 - QUOTA["ddb_partition_wcu"] / wcu),
            }
        )
    return rows


def shards_needed(rate: float = FLASH_SALE_RATE) -> int:
    for row in flash_sale(rate):
        if row["fail_after_retries"] <= 0.001 and row["wcu_per_shard"] <= 0.5 * QUOTA["ddb_partition_wcu"]:
            return int(row["shards"])
    return 100


def cost_per_million(inputs: Inputs, rate: float = 1_000) -> dict[str, dict[str, float]]:
    """Dollars per million orders by service: the choreography as built, without outbox
    and idempotency, and Step Functions Standard and Express orchestrations of the flow."""
    million = 1_000_000
    lam = lambda_at(inputs, rate)
    ddb = dynamodb_per_order(inputs)
    wru = sum(t["wru"] for t in ddb.values())
    rru = sum(t["rru"] for t in ddb.values())
    invocations = sum(f["invocations_per_order"] for f in lam.values())
    gb_s = sum(f["gb_s_per_order_aws"] for f in lam.values())
    log_bytes = _log_bytes_per_order(inputs)
    sqs_requests = SQS_MESSAGES * (1 + 2 / inputs.batch_size)  # send + receive and delete per batch

    def lam_cost(inv: float, gbs: float) -> float:
        return (
            inv * million * PRICE["lambda_request_per_million"] / million
            + gbs * million * PRICE["lambda_gb_second_arm64"]
        )

    base = {
        "API Gateway (REST)": PRICE["apigw_rest_per_million"],
        "Lambda (requests + arm64 GB-s)": lam_cost(invocations, gb_s),
        "SNS publishes": len(HAPPY_EVENTS) * PRICE["sns_publish_per_million"],
        "SQS requests": sqs_requests * PRICE["sqs_request_per_million"],
        "DynamoDB on-demand": wru * PRICE["ddb_wru_per_million"] + rru * PRICE["ddb_rru_per_million"],
        "KMS (seal + unseal token)": 2 * PRICE["kms_request_per_million"],
        "S3 PUT (invoice HTML + PDF)": 2 * PRICE["s3_put_per_thousand"] * 1000,
        "SES (5 emails)": len(HAPPY_EVENTS) * PRICE["ses_email_per_thousand"] * 1000,
        "CloudWatch Logs ingestion": log_bytes * million / 1e9 * PRICE["cw_logs_ingest_per_gb"],
    }
    # Without the outbox (the API publishes itself) and without idempotency records.
    relay = lam["OrderOutboxFunction"]
    idempotency_wru = ddb["idempotency"]["wru"]
    outbox_wru = ddb["outbox"]["wru"]
    lean = dict(base)
    lean["Lambda (requests + arm64 GB-s)"] = lam_cost(
        invocations - relay["invocations_per_order"], gb_s - relay["gb_s_per_order_aws"]
    )
    lean["DynamoDB on-demand"] = (wru - idempotency_wru - outbox_wru) * PRICE["ddb_wru_per_million"] + rru * PRICE[
        "ddb_rru_per_million"
    ]
    lean["KMS (seal + unseal token)"] = 0.0
    # Step Functions: one execution per order, started from the outbox relay (the order
    # must still reach the workflow once stored). Happy path of the reference workflow:
    # Invoice, Email, Charge, Choice, Email, Ship, Email, Wait (delivery), Deliver, Email,
    # and 5 status updates (DynamoDB service integration, no Lambda) -> about 16 transitions.
    transitions = 16
    task_invocations = 1 + 1 + 1 + 1 + len(HAPPY_EVENTS)  # relay-start, invoice, charge, ship, deliver + emails
    task_invocations -= 1  # the relay is counted in `invocations` already
    sfn_gb_s = gb_s - lam["OrderStatusFunction"]["gb_s_per_order_aws"]
    standard = {
        "API Gateway (REST)": base["API Gateway (REST)"],
        "Lambda (requests + arm64 GB-s)": lam_cost(1 + relay["invocations_per_order"] + task_invocations + 1, sfn_gb_s),
        "Step Functions": transitions * PRICE["sfn_standard_per_thousand_transitions"] * 1000,
        "DynamoDB on-demand": base["DynamoDB on-demand"],
        "KMS (seal + unseal token)": base["KMS (seal + unseal token)"],
        "S3 PUT (invoice HTML + PDF)": base["S3 PUT (invoice HTML + PDF)"],
        "SES (5 emails)": base["SES (5 emails)"],
        "CloudWatch Logs ingestion": base["CloudWatch Logs ingestion"],
    }
    # Express: per request + duration at 64 MB; the delivery wait (60 s on AWS) is billed.
    express_seconds = 60 + 2
    express = dict(standard)
    express["Step Functions"] = (
        PRICE["sfn_express_per_million_requests"]
        + express_seconds * 64 / 1024 * million * PRICE["sfn_express_gb_second"]
    )
    return {
        "choreography (as built)": base,
        "choreography without outbox and idempotency": lean,
        "Step Functions Standard": standard,
        "Step Functions Express": express,
    }


def _log_bytes_per_order(inputs: Inputs) -> float:
    completed = max(inputs.real.get("completed") or 1, 1)
    return sum((f.get("log_bytes") or 0) for f in inputs.functions.values()) / completed


# ---------------------------------------------------------------- the document
def _n(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def sections(inputs: Inputs) -> dict[str, str]:
    out: dict[str, str] = {}
    # measured inputs
    rows = [
        "| function | records per order | measured records/batch | measured ms/record (emulator) "
        "| estimated ms/record on AWS | AWS calls per record | peak RSS at import |",
        "|---|---|---|---|---|---|---|",
    ]
    rss = {
        "OrderApiFunction": "order_service.handlers.api",
        "OrderOutboxFunction": "order_service.handlers.relay_outbox",
        "InvoiceFunction": "invoice_service.handlers.handle_order_created",
        "BillingFunction": "billing_service.handlers.handle_invoices_and_cancellations",
        "ShipmentFunction": "shipment_service.handlers.handle_payments_and_cancellations",
        "DeliveryFunction": "shipment_service.handlers.handle_carrier_update",
        "EmailFunction": "email_service.handlers.handle_customer_event",
        "OrderStatusFunction": "order_service.handlers.handle_order_events",
    }
    for function, (_scenario, records) in PATH.items():
        measured, aws = per_record_ms(inputs, function)
        stats = inputs.functions.get(function, {})
        calls = sum(calls_per_record(inputs, function).values())
        module_rss = inputs.coldstart.get(rss[function], {}).get("rss_mb")
        rss_text = f"{module_rss:.0f} MB" if module_rss else "-"
        batch = stats.get("records_per_batch") if stats and function != "OrderApiFunction" else None
        rows.append(
            f"| {function} | {records} | {_n(batch) if batch else '-'} | "
            f"{_n(measured)} | {_n(aws)} | {calls:.0f} | {rss_text} |"
        )
    calls_per_order = sum(sum(calls_per_record(inputs, f).values()) * working_records(f) for f in PATH)
    rows.append("")
    rows.append(
        f"AWS calls per order on the happy path: {calls_per_order:.0f} (the null choreography makes 4: "
        "the API's publish and three republishes)."
    )
    rows.append("")
    rows.append(
        f"Memory size {inputs.memory_mb} MB (template Globals); batch size {inputs.batch_size}; load run: "
        f"{inputs.load_settings.get('customers')} customers, {inputs.load_settings.get('duration_seconds')} s; "
        f"completed orders/s on the emulator {inputs.real['completed_per_second']:.2f} "
        f"(null choreography {inputs.null['completed_per_second']:.2f}). On AWS, a call is assumed to take "
        f"{AWS_CALL_MS:g} ms; the emulator's figures are the upper bound."
    )
    out["inputs"] = "\n".join(rows)

    # limits: the order rate at which each is reached, then what each rate passes
    ranked = saturation_rates(inputs)
    parts = [
        "| limit | reached at (orders/s) | needed per order/s | available | what to do |",
        "|---|---|---|---|---|",
    ]
    for name, at, per_order, available, action in ranked:
        parts.append(f"| {name} | **{_n(at)}** | {_n(per_order)} | {_n(available)} | {action} |")
    parts.append("")
    for rate in RATES:
        use = usage_at(inputs, rate)
        passed = [row for row in ranked if row[1] <= rate]
        beyond_ses = [row for row in passed if not row[0].startswith("SES")]
        parts.append(f"### {rate:,} orders/s\n")
        parts.append(
            f"Lambda concurrency {use['concurrency_aws']:,.0f} on AWS (estimate; "
            f"{use['concurrency_measured']:,.0f} at the emulator's durations), "
            f"SNS {use['sns_publish']:,.0f} publishes/s, "
            f"SES {use['ses_send']:,.0f} emails/s, KMS {use['kms']:,.0f} requests/s, busiest table "
            f"`{use['max_table']}` {use['max_table_wru']:,.0f} WRU/s.\n"
        )
        if passed:
            parts.append(f"- **First limit hit: {passed[0][0]}** (at {_n(passed[0][1])} orders/s).")
        if beyond_ses:
            parts.append(
                f"- First on the order path itself: **{beyond_ses[0][0]}** (at {_n(beyond_ses[0][1])} orders/s)."
            )
        parts.append("- Past at this rate: " + ("; ".join(row[0] for row in passed) if passed else "nothing") + ".")
        parts.append("")
    out["limits"] = "\n".join(parts)

    # flash sale
    rows = [
        "| stock shards | orders/s per shard | P(conflict) per attempt | fails after "
        f"{TX_RETRIES} retries | WCU/s per shard (with retries) | share throttled |",
        "|---|---|---|---|---|---|",
    ]
    for row in flash_sale():
        rows.append(
            f"| {row['shards']} | {_n(row['orders_per_shard'])} | {row['conflict_p']:.1%} | "
            f"{row['fail_after_retries']:.2%} | {_n(row['wcu_per_shard'])} | {row['throttled_share']:.0%} |"
        )
    single = flash_sale()[0]
    rows.append("")
    rows.append(
        f"At {FLASH_SALE_RATE:,} orders/s on one SKU the single stock item needs {single['wcu_per_shard']:,.0f} WCU/s "
        f"(2 per transactional write, retries included) against {QUOTA['ddb_partition_wcu']:,} per item, and "
        f"{single['conflict_p']:.0%} of reservations conflict: the current design cannot carry it. "
        f"The smallest shard count that keeps failures after retries under 0.1% and each shard under half its "
        f"partition's WCU is **{shards_needed()}** (transaction window {TX_WINDOW_S * 1000:.0f} ms assumed)."
    )
    out["flash_sale"] = "\n".join(rows)

    # costs
    costs = cost_per_million(inputs)
    services = list(dict.fromkeys(k for variant in costs.values() for k in variant))
    header = "| service | " + " | ".join(costs) + " |"
    rows = [header, "|---|" + "---|" * len(costs)]
    for service in services:
        rows.append(f"| {service} | " + " | ".join(f"${v.get(service, 0):,.2f}" for v in costs.values()) + " |")
    rows.append("| **total** | " + " | ".join(f"**${sum(v.values()):,.2f}**" for v in costs.values()) + " |")
    without_ses = {name: sum(v.values()) - v.get("SES (5 emails)", 0) for name, v in costs.items()}
    rows.append("| total without SES | " + " | ".join(f"${v:,.2f}" for v in without_ses.values()) + " |")
    out["costs"] = "\n".join(rows)
    out["as_of"] = f"Prices and quotas: {PRICES_AS_OF}."
    return out


def render(doc: str, generated: dict[str, str]) -> str:
    for name, body in generated.items():
        start, end = f"<!-- capacity:{name} -->", f"<!-- /capacity:{name} -->"
        if start not in doc or end not in doc:
            raise SystemExit(f"docs/capacity.md has no {start} ... {end} section")
        head, rest = doc.split(start, 1)
        _, tail = rest.split(end, 1)
        doc = f"{head}{start}\n{body}\n{end}{tail}"
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", type=Path, default=ROOT / ".local" / "load" / "latest" / "load.json")
    parser.add_argument("--profile", type=Path, default=ROOT / ".local" / "bench" / "profile.json")
    parser.add_argument("--coldstart", type=Path, default=ROOT / ".local" / "bench" / "coldstart.json")
    parser.add_argument("--check", action="store_true", help="only say whether docs/capacity.md is up to date")
    args = parser.parse_args()
    inputs = load_inputs(args.load, args.profile, args.coldstart)
    current = DOC.read_text()
    updated = render(current, sections(inputs))
    if args.check:
        return 0 if updated == current else 1
    DOC.write_text(updated)
    for name, at, _per_order, _available, _action in saturation_rates(inputs):
        print(f"limit reached at {at:>9,.1f} orders/s: {name}")
    print(f"flash sale, {FLASH_SALE_RATE:,} orders/s on one SKU: {shards_needed()} stock shards needed")
    for name, variant in cost_per_million(inputs).items():
        print(f"cost per million orders, {name}: ${sum(variant.values()):,.2f}")
    print(f"written to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
