"""`make bench`: cold-start cost of every handler and the order latency, each as a
ratio against a baseline measured in the same run (these machines are shared and
noisy: absolute numbers vary, ratios much less).

1. Import (cold start): a fresh interpreter imports each handler module; wall time
   and peak RSS, against a fresh interpreter that imports only boto3 (which every
   Lambda Python runtime has anyway).
2. Latency: N orders placed one after another on the running local stack; time from
   POST /orders to SHIPPED, from the order's own timeline (server clocks) and as the
   client saw it (polling). Baseline: the API round trip of GET /products.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from events.catalogue import SELF_SCHEDULED, SUBSCRIPTIONS
from events.samples import SAMPLE_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = [
    "order_service.handlers.api",
    "order_service.handlers.relay_outbox",
    "order_service.handlers.sweep_outbox",
    *(s.handler for s in (*SUBSCRIPTIONS, *SELF_SCHEDULED)),
]
HANDLER_ENV = {
    **SAMPLE_ENVIRONMENT,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
}
_PROBE = (
    "import resource, sys, time; t = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def _import_cost(module: str, traced: bool = False) -> tuple[float, float]:
    # LAMBDA_TASK_ROOT makes the code believe it runs in Lambda, as for its cold start.
    env = {
        **os.environ,
        **HANDLER_ENV,
        "LAMBDA_TASK_ROOT": str(ROOT),
        "POWERTOOLS_TRACE_DISABLED": "false" if traced else "true",
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter and module names
        [sys.executable, "-c", _PROBE.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]) / 1024  # seconds, MiB


def bench_imports(rounds: int) -> None:
    print(f"Cold start: import in a fresh interpreter, median of {rounds} (baseline: import boto3);")
    print("'traced' is with X-Ray tracing on, as deployed on AWS by default")
    _import_cost("boto3")  # warm the bytecode caches for every side
    for module in HANDLERS:
        _import_cost(module)
    modules = ["boto3", *HANDLERS]
    plain: dict[str, list[tuple[float, float]]] = {m: [] for m in modules}
    traced: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(rounds):  # interleaved, so drift hits every module alike
        for module in modules:
            plain[module].append(_import_cost(module))
            traced[module].append(_import_cost(module, traced=True)[0])
    base_t = statistics.median(t for t, _ in plain["boto3"])
    base_m = statistics.median(m for _, m in plain["boto3"])
    print(f"  {'module':52} {'time':>7} {'x base':>6} {'traced':>7} {'x base':>6} {'peak RSS':>8} {'x base':>6}")
    for module in modules:
        t = statistics.median(v for v, _ in plain[module])
        m = statistics.median(v for _, v in plain[module])
        tt = statistics.median(traced[module])
        print(
            f"  {module:52} {t * 1000:5.0f}ms {t / base_t:6.2f} {tt * 1000:5.0f}ms {tt / base_t:6.2f} "
            f"{m:6.1f}MB {m / base_m:6.2f}"
        )


def bench_latency(count: int) -> None:
    from scripts.local import DEMO_EMAIL
    from scripts.stack import Stack

    stack = Stack.load(os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"))
    stack.seed_catalogue(
        [{"sku": "BENCH-001", "name": "Bench item", "price_cents": 100, "currency": "EUR", "stock": 1_000_000}]
    )
    stack.create_customer(DEMO_EMAIL)
    token = stack.login(DEMO_EMAIL)["IdToken"]
    body = {
        "items": [{"sku": "BENCH-001", "quantity": 1}],
        "payment_token": "tok_visa",
        "shipping_address": {
            "name": "Bench",
            "line1": "1 Loop",
            "city": "Localhost",
            "postal_code": "12345",
            "country": "GB",
        },
    }
    baseline = []
    for _ in range(count):
        start = time.perf_counter()
        assert stack.request("GET", "/products").status == 200
        baseline.append(time.perf_counter() - start)
    server, client = [], []
    for _ in range(count):
        start = time.perf_counter()
        placed = stack.request("POST", "/orders", body, token=token)
        assert placed.status == 201, placed.body
        order_id = placed.body["order_id"]
        while True:
            order = stack.request("GET", f"/orders/{order_id}", token=token).body
            if order["status"] == "SHIPPED":
                break
            if time.perf_counter() - start > 120:
                raise SystemExit(f"order {order_id} stuck at {order['status']}")
            time.sleep(0.05)
        client.append(time.perf_counter() - start)
        shipped_at = next(e["occurred_at"] for e in order["timeline"] if e["event_type"] == "SHIPPED")
        elapsed = datetime.fromisoformat(shipped_at) - datetime.fromisoformat(order["created_at"])
        server.append(elapsed.total_seconds())
    base = statistics.median(baseline)
    print(f"\nLatency POST /orders -> SHIPPED, {count} orders one after another (baseline: GET /products round trip)")
    print(f"  baseline GET /products   median {base * 1000:7.1f}ms")
    for name, values in (("server (timeline)", server), ("client (polling)", client)):
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"  {name:24} median {median * 1000:7.0f}ms  p90 {p90 * 1000:7.0f}ms  x base {median / base:7.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="import measurements per module")
    parser.add_argument("--orders", type=int, default=20, help="orders for the latency run")
    parser.add_argument("--no-latency", action="store_true", help="skip the run against the local stack")
    args = parser.parse_args()
    bench_imports(args.rounds)
    if not args.no_latency:
        bench_latency(args.orders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
