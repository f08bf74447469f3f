"""`make load`: throughput and latency of the order stack under load, against the null
choreography (bench/null) measured in the same run on the same emulator.

For each stack in turn (the null one first): Locust (bench/load/locustfile.py, in
.venv-load) runs CUSTOMERS concurrent customers placing orders for DURATION seconds,
then this script waits until every accepted order is final. Timestamps are the
server's: every event's `occurred_at`, read from a tap queue subscribed (raw, no filter)
to the stack's topic, so both stacks are measured by the same probe; for the order
stack each order's status is also read back over GET /orders/{id} until it is final,
which includes the order-status consumer. Per function: invocations and handler
durations from the REPORT lines in the emulator's CloudWatch Logs, records per batch
from the functions' EMF metric lines (`*Handled`, `OutboxRelayed`) or the null
functions' `null_records` lines.

Writes .local/load/<run>/load.json (every figure and the raw per-order stage times)
and then .local/load/<run>/report.html (bench/load/report.py, plots with matplotlib);
.local/load/latest points at the newest run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from scripts.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
NULL_TEMPLATE = ROOT / "bench" / "null" / "template.yaml"
NULL_HANDLER = ROOT / "bench" / "null" / "handler.py"
NULL_STACK = "order-choreography-null"
STAGES = ["ORDER_CREATED", "INVOICE_CREATED", "PAYMENT_CONFIRMED", "SHIPPED"]
FAILED_ENDS = {"PAYMENT_FAILED", "SHIPMENT_ERROR", "ORDER_CANCELLED"}
FINAL_STATUSES = {"SHIPPED", "DELIVERED", "PAYMENT_FAILED", "SHIPMENT_FAILED", "CANCELLED", "REFUNDED"}
LOAD_SKUS = [f"LOAD-{i:03d}" for i in range(10)]
PASSWORD = "Load-Passw0rd"  # noqa: S105 - customers of the local emulator only
# Functions of the order stack on the order path, by logical id.
REAL_FUNCTIONS = [
    "OrderApiFunction",
    "OrderOutboxFunction",
    "InvoiceFunction",
    "BillingFunction",
    "ShipmentFunction",
    "EmailFunction",
    "OrderStatusFunction",
]
NULL_FUNCTIONS = [
    "ApiFunction",
    "InvoiceFunction",
    "BillingFunction",
    "ShipmentFunction",
    "EmailFunction",
    "OrderStatusFunction",
]


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float | int | None]:
    return {
        "count": len(values),
        "mean": statistics.fmean(values) if values else None,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else value / base


# ---------------------------------------------------------------------------- stacks
def deploy_null_stack(endpoint: str, runtime: str) -> Stack:
    """Deploys (or reuses, when its template is unchanged) the null choreography."""
    code = NULL_HANDLER.read_text()
    body = NULL_TEMPLATE.read_text().replace("__NULL_HANDLER__", json.dumps(code))
    cfn = boto3.client("cloudformation", endpoint_url=endpoint)
    with contextlib.suppress(cfn.exceptions.ClientError):
        existing = cfn.describe_stacks(StackName=NULL_STACK)["Stacks"][0]
        deployed = cfn.get_template(StackName=NULL_STACK)["TemplateBody"]
        if existing["StackStatus"].endswith("_COMPLETE") and deployed == body:
            return Stack.load(endpoint, NULL_STACK)
        log("null stack: template changed, replacing it")
        cfn.delete_stack(StackName=NULL_STACK)
        cfn.get_waiter("stack_delete_complete").wait(StackName=NULL_STACK)
    log("null stack: deploying bench/null/template.yaml")
    cfn.create_stack(
        StackName=NULL_STACK,
        TemplateBody=body,
        Parameters=[{"ParameterKey": "PythonRuntime", "ParameterValue": runtime}],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=NULL_STACK, WaiterConfig={"Delay": 2})
    return Stack.load(endpoint, NULL_STACK)


def customers(stack: Stack, count: int) -> list[str]:
    """ID tokens of `count` confirmed customers of the stack's user pool."""

    def one(i: int) -> str:
        email = f"load-{i:03d}@shop.local"
        stack.create_customer(email, PASSWORD)
        return stack.login(email, PASSWORD)["IdToken"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


class Tap:
    """A queue subscribed raw and unfiltered to a stack's topic: every event's type,
    order and server timestamp, read while the run goes on."""

    def __init__(self, stack: Stack) -> None:
        self.sqs = stack.client("sqs")
        self.sns = stack.client("sns")
        name = f"{stack.name}-load-tap"
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = stack.outputs["OrderEventsTopicArn"]
        existing = [
            sub["SubscriptionArn"]
            for sub in self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            if sub["Endpoint"] == arn
        ]
        self.subscription = (
            existing[0]
            if existing
            else self.sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=arn,
                Attributes={"RawMessageDelivery": "true"},
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
        )
        self.sqs.purge_queue(QueueUrl=self.url)
        self.events: dict[str, dict[str, float]] = {}  # order_id -> event_type -> occurred_at (epoch s)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drain, daemon=True)

    def _drain(self) -> None:
        while not self.stop.is_set():
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            for message in messages:
                event = json.loads(message["Body"])
                at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
                with self.lock:
                    self.events.setdefault(event["order_id"], {}).setdefault(event["event_type"], at)
            if messages:
                self.sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )

    def close(self) -> None:
        """Stops reading and removes the tap: the stack is left as it was found."""
        self.stop.set()
        self.thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self.sns.unsubscribe(SubscriptionArn=self.subscription)
        with contextlib.suppress(Exception):
            self.sqs.delete_queue(QueueUrl=self.url)

    def done(self, order_ids: list[str]) -> int:
        with self.lock:
            return sum(
                1
                for order_id in order_ids
                if "SHIPPED" in self.events.get(order_id, {}) or FAILED_ENDS & set(self.events.get(order_id, {}))
            )


# ---------------------------------------------------------------------------- one phase
def run_phase(
    name: str, stack: Stack, functions: list[str], args: argparse.Namespace, out: Path, check_status: bool
) -> dict[str, Any]:
    log(f"{name}: {args.customers} customers for {args.duration}s")
    tokens = customers(stack, args.customers)
    tokens_file = out / f"{name}-tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    tap = Tap(stack)
    tap.thread.start()
    if args.warmup:
        # Workers start warm for the measured part: a cold-start storm of every function at
        # once is `make bench`'s subject, not throughput's.
        warm = locust(stack, args.customers, args.warmup, args.rate, tokens_file, out / f"{name}-warmup")
        warm_ids = [p["order_id"] for p in warm if "order_id" in p]
        deadline = time.time() + args.settle_timeout
        while tap.done(warm_ids) < len(warm_ids) and time.time() < deadline:
            time.sleep(0.5)
        time.sleep(2)
        log(f"{name}: warmed up with {len(warm_ids)} orders")
    started = time.time()
    posts = locust(stack, args.customers, args.duration, args.rate, tokens_file, out / f"{name}")
    load_ended = time.time()
    accepted = [p for p in posts if "order_id" in p]
    order_ids = [p["order_id"] for p in accepted]
    log(f"{name}: {len(posts)} POSTs, {len(accepted)} accepted; waiting until every order is final")
    deadline = time.time() + args.settle_timeout
    while tap.done(order_ids) < len(order_ids) and time.time() < deadline:
        time.sleep(0.5)
    final_seen = time.time()
    statuses: dict[str, str] = {}
    if check_status and order_ids:
        statuses = wait_statuses(stack, tokens, accepted, deadline)
    tap.close()
    log(f"{name}: settled {final_seen - load_ended:.1f}s after the load stopped")
    with tap.lock:
        events = {order_id: dict(tap.events.get(order_id, {})) for order_id in order_ids}
    return analyse(name, stack, functions, posts, events, statuses, started, load_ended, final_seen)


def locust(
    stack: Stack, users: int, seconds: int, rate: float, tokens_file: Path, prefix: Path
) -> list[dict[str, Any]]:
    """Runs Locust headless against the stack's API; returns what every POST answered."""
    results_file = prefix.with_name(prefix.name + "-posts.json")
    env = {
        **os.environ,
        "LOAD_TOKENS": str(tokens_file),
        "LOAD_BASE_PATH": f"/_aws/execute-api/{stack.outputs['ApiId']}/v1",
        "LOAD_RESULTS": str(results_file),
        "LOAD_SKUS": ",".join(LOAD_SKUS),
        "LOAD_RATE_PER_USER": str(rate / users if rate else 0),
    }
    subprocess.run(  # noqa: S603 - our own virtualenv's Locust
        [
            str(ROOT / ".venv-load" / "bin" / "locust"),
            "-f",
            str(ROOT / "bench" / "load" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            stack.endpoint_url or "",
            "--csv",
            str(prefix) + "-locust",
            "--only-summary",
            "--stop-timeout",
            "30",
        ],
        env=env,
        check=True,
        cwd=ROOT,
    )
    return list(json.loads(results_file.read_text()))


def wait_statuses(stack: Stack, tokens: list[str], accepted: list[dict[str, Any]], deadline: float) -> dict[str, str]:
    """GET /orders/{id} of every accepted order until its status is final (the order-status
    consumer has caught up). Customers own their orders: any of them may not read another's,
    so each order is read with every token until one answers."""
    statuses: dict[str, str] = {}
    owner: dict[str, str] = {}

    def read(order_id: str) -> str | None:
        for token in [owner[order_id]] if order_id in owner else tokens:
            response = stack.request("GET", f"/orders/{order_id}", token=token)
            if response.status == 200:
                owner[order_id] = token
                return str(response.body["status"])
        return None

    pending = [p["order_id"] for p in accepted]
    with ThreadPoolExecutor(max_workers=4) as pool:
        while pending and time.time() < deadline:
            for order_id, status in zip(pending, pool.map(read, pending), strict=True):
                if status:
                    statuses[order_id] = status
            pending = [o for o in pending if statuses.get(o) not in FINAL_STATUSES]
            if pending:
                time.sleep(1)
    return statuses


# ---------------------------------------------------------------------------- figures
def function_stats(stack: Stack, logical_ids: list[str], since: float, api_until: float) -> dict[str, dict[str, Any]]:
    """Invocations, records per batch and handler durations from the functions' logs. The
    API function's end at `api_until`: the status reads after it are not part of the load."""
    logs = stack.client("logs")
    physical = stack.resources()
    stats: dict[str, dict[str, Any]] = {}
    for logical in logical_ids:
        group = f"/aws/lambda/{physical[logical]}"
        durations: list[float] = []
        records: list[int] = []
        memory: list[float] = []
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": int(since * 1000)}
        if "Api" in logical:
            kwargs["endTime"] = int(api_until * 1000)
        messages: list[str] = []
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            while True:
                page = logs.filter_log_events(**kwargs)
                messages += [e["message"] for e in page.get("events", [])]
                if not page.get("nextToken") or not page.get("events"):
                    break
                kwargs["nextToken"] = page["nextToken"]
        for message in messages:
            if message.startswith("REPORT RequestId"):
                fields = dict(part.split(": ", 1) for part in message.split("\t") if ": " in part)
                durations.append(float(fields["Duration"].split()[0]))
                with contextlib.suppress(KeyError, ValueError):
                    memory.append(float(fields["Max Memory Used"].split()[0]))
                continue
            count = _records_in(message)
            if count is not None:
                records.append(count)
        stats[logical] = {
            "invocations": len(durations),
            "records": sum(records),
            "records_per_batch": (sum(records) / len(records)) if records else None,
            "duration_ms": summary(durations),
            "max_memory_mb": max(memory) if memory else None,
            "log_bytes": sum(len(message) + 26 for message in messages),  # + CloudWatch's per-event overhead
        }
    return stats


def _records_in(message: str) -> int | None:
    """Records one invocation handled, from its EMF metrics line or a null function's line."""
    if not message.startswith("{"):
        return None
    try:
        line = json.loads(message)
    except ValueError:
        return None
    if "null_records" in line:
        return int(line["null_records"])
    if "_aws" not in line:
        return None
    count = 0
    for directive in line["_aws"].get("CloudWatchMetrics", []):
        for metric in directive.get("Metrics", []):
            name = metric["Name"]
            if name.endswith("Handled") or name == "OutboxRelayed":
                value = line.get(name)
                count += len(value) if isinstance(value, list) else 1
    return count


def analyse_latencies(
    events: dict[str, dict[str, float]],
) -> tuple[dict[str, list[float]], list[dict[str, Any]]]:
    """Seconds from each order's ORDER_CREATED to each later stage; one row per order."""
    stage_latency: dict[str, list[float]] = {stage: [] for stage in STAGES[1:]}
    per_order = []
    for order_id, ev in events.items():
        created = ev.get("ORDER_CREATED")
        if created is None:
            continue
        row: dict[str, Any] = {"order_id": order_id, "created": created}
        for stage in STAGES[1:]:
            if stage in ev:
                stage_latency[stage].append(ev[stage] - created)
                row[stage] = ev[stage] - created
        per_order.append(row)
    return stage_latency, per_order


def analyse(
    name: str,
    stack: Stack,
    functions: list[str],
    posts: list[dict[str, Any]],
    events: dict[str, dict[str, float]],
    statuses: dict[str, str],
    started: float,
    load_ended: float,
    final_seen: float,
) -> dict[str, Any]:
    accepted = [p for p in posts if "order_id" in p]
    completed = [o for o, ev in events.items() if "SHIPPED" in ev]
    stage_latency, per_order = analyse_latencies(events)
    first = min((ev["ORDER_CREATED"] for ev in events.values() if "ORDER_CREATED" in ev), default=started)
    last = max((ev["SHIPPED"] for ev in events.values() if "SHIPPED" in ev), default=final_seen)
    window = max(last - first, 1e-9)
    post_latency = [p["answered"] - p["sent"] for p in accepted]
    return {
        "name": name,
        "stack": stack.name,
        "posts": len(posts),
        "accepted": len(accepted),
        "rejected": {
            str(s): sum(1 for p in posts if p.get("status") == s) for s in {p.get("status") for p in posts} - {None}
        },
        "completed": len(completed),
        "failed_ends": sum(1 for ev in events.values() if FAILED_ENDS & set(ev)),
        "statuses": {s: list(statuses.values()).count(s) for s in set(statuses.values())},
        "window_seconds": window,
        "offered_per_second": len(accepted) / max(load_ended - started, 1e-9),
        "completed_per_second": len(completed) / window,
        "settle_seconds": final_seen - load_ended,
        "post_answer_seconds": summary(post_latency),
        "stage_seconds": {stage: summary(values) for stage, values in stage_latency.items()},
        "functions": function_stats(stack, functions, started, final_seen),
        "per_order": per_order,
        "posts_raw": [{"sent": p["sent"] - first, "answered": p["answered"] - first} for p in accepted],
    }


def compare(null: dict[str, Any], real: dict[str, Any]) -> dict[str, Any]:
    ratios: dict[str, Any] = {
        "completed_per_second": ratio(real["completed_per_second"], null["completed_per_second"]),
        "post_answer_p50": ratio(real["post_answer_seconds"]["p50"], null["post_answer_seconds"]["p50"]),
        "stages": {},
    }
    for stage in STAGES[1:]:
        ratios["stages"][stage] = {
            q: ratio(real["stage_seconds"][stage][q], null["stage_seconds"][stage][q]) for q in ("p50", "p95", "p99")
        }
    shipped = ratios["stages"]["SHIPPED"]["p50"]
    ratios["goals"] = {
        "throughput_at_least_half_of_null": (ratios["completed_per_second"] or 0) >= 0.5,
        "p50_shipped_at_most_twice_null": shipped is not None and shipped <= 2.0,
    }
    return ratios


def print_table(result: dict[str, Any]) -> None:
    null, real, ratios = result["null"], result["real"], result["ratios"]

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1000:8.0f}ms"

    def x(v: float | None) -> str:
        return "-" if v is None else f"{v:6.2f}x"

    print(f"\n{'':34} {'order stack':>12} {'null':>12} {'ratio':>8}")
    print(
        f"{'completed orders/s':34} {real['completed_per_second']:12.2f} {null['completed_per_second']:12.2f} "
        f"{x(ratios['completed_per_second']):>8}"
    )
    print(
        f"{'orders accepted / completed':34} {real['accepted']:>5}/{real['completed']:<6} "
        f"{null['accepted']:>5}/{null['completed']:<6}"
    )
    print(
        f"{'POST answered p50 (client)':34} {ms(real['post_answer_seconds']['p50']):>12} "
        f"{ms(null['post_answer_seconds']['p50']):>12} {x(ratios['post_answer_p50']):>8}"
    )
    for stage in STAGES[1:]:
        for q in ("p50", "p95", "p99"):
            print(
                f"{'POST -> ' + stage + ' ' + q:34} {ms(real['stage_seconds'][stage][q]):>12} "
                f"{ms(null['stage_seconds'][stage][q]):>12} {x(ratios['stages'][stage][q]):>8}"
            )
    print(
        f"\n{'function':24} {'invocations':>11} {'rec/batch':>9} {'mean':>9} {'p95':>9}"
        "   (null: inv, rec/batch, mean, p95)"
    )
    null_by_role = {k.replace("Api", "OrderApi"): v for k, v in null["functions"].items()}
    for logical, stats in real["functions"].items():
        base = null_by_role.get(logical)
        d = stats["duration_ms"]
        line = (
            f"{logical:24} {stats['invocations']:>11} {stats['records_per_batch'] or 0:9.2f} "
            f"{d['mean'] or 0:7.1f}ms {d['p95'] or 0:7.1f}ms"
        )
        if base:
            b = base["duration_ms"]
            line += (
                f"   ({base['invocations']}, {base['records_per_batch'] or 0:.2f}, {b['mean'] or 0:.1f}ms, "
                f"{b['p95'] or 0:.1f}ms; mean x{ratio(d['mean'], b['mean']) or 0:.1f})"
            )
        print(line)
    goals = ratios["goals"]
    print(
        "\ngoals: completed orders/s >= 50% of null: "
        f"{'met' if goals['throughput_at_least_half_of_null'] else 'NOT met'}; "
        f"p50 POST->SHIPPED <= 2x null: {'met' if goals['p50_shipped_at_most_twice_null'] else 'NOT met'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=int(os.environ.get("LOAD_CUSTOMERS", "20")))
    parser.add_argument("--duration", type=int, default=int(os.environ.get("LOAD_DURATION", "60")), help="seconds")
    parser.add_argument(
        "--rate",
        type=float,
        default=float(os.environ.get("LOAD_RATE", "0")),
        help="orders/s in all (0: as fast as it goes)",
    )
    parser.add_argument("--settle-timeout", type=float, default=600)
    parser.add_argument(
        "--warmup", type=int, default=int(os.environ.get("LOAD_WARMUP", "15")), help="seconds of unmeasured load first"
    )
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "load")
    args = parser.parse_args()
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    runtime = "python" + os.environ.get("LOCAL_PY", "{}.{}".format(*sys.version_info[:2]))
    run_dir = args.out / datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)

    real_stack = Stack.load(endpoint)
    real_stack.seed_catalogue(
        [
            {"sku": s, "name": f"Load item {s}", "price_cents": 500, "currency": "EUR", "stock": 10_000_000}
            for s in LOAD_SKUS
        ],
        reset=True,
    )
    null_stack = deploy_null_stack(endpoint, runtime)
    result: dict[str, Any] = {
        "started_at": datetime.now().isoformat(timespec="seconds"),
        "settings": {
            "customers": args.customers,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "rate": args.rate or "max",
        },
    }
    result["null"] = run_phase("null", null_stack, NULL_FUNCTIONS, args, run_dir, check_status=False)
    result["real"] = run_phase("real", real_stack, REAL_FUNCTIONS, args, run_dir, check_status=True)
    result["ratios"] = compare(result["null"], result["real"])
    (run_dir / "load.json").write_text(json.dumps(result, indent=1))
    print_table(result)
    latest = args.out / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(run_dir.name)
    report = subprocess.run(  # noqa: S603 - our own virtualenv's python
        [
            str(ROOT / ".venv-load" / "bin" / "python"),
            str(ROOT / "bench" / "load" / "report.py"),
            str(run_dir / "load.json"),
        ],
        check=False,
    )
    print(f"\nreport: {run_dir / 'report.html'}\ndata:   {run_dir / 'load.json'}")
    return report.returncode


if __name__ == "__main__":
    sys.exit(main())
