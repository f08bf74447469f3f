"""`make bench`: cold-start cost of every handler and the order latency, each as a
ratio against a baseline measured in the same run (these machines are shared and
noisy: absolute numbers vary, ratios much less).

1. Import (cold start): a fresh interpreter imports each handler module; wall time
   and peak RSS, against a minimal handler in a fresh interpreter that imports boto3
   (which every Lambda Python runtime has anyway) and creates the same AWS clients the
   handler creates (found by importing it). Written to .local/bench/coldstart.json,
   which `make capacity` reads.
2. Latency: N orders placed one after another on the running local stack; time from
   POST /orders to SHIPPED, from the order's own timeline (server clocks) and as the
   client saw it (polling). Baseline: the API round trip of GET /products.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from choreography.catalogue import SELF_SCHEDULED, SUBSCRIPTIONS
from choreography.samples import SAMPLE_ENVIRONMENT

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
    "PYDANTIC_DISABLE_PLUGINS": "__all__",  # as template.yaml's Globals set it
}
# Wall time, peak RSS and CPU time (user + system: what the process itself spent, the
# figure least disturbed by other work on a shared machine) of one import.
_MEASURE = (
    "import resource, time; u = resource.getrusage(resource.RUSAGE_SELF); t = time.perf_counter(); {code}; "
    "w = time.perf_counter() - t; r = resource.getrusage(resource.RUSAGE_SELF); "
    "print(w, r.ru_maxrss, r.ru_utime + r.ru_stime - u.ru_utime - u.ru_stime)"
)
_PROBE = _MEASURE.replace("{code}", "import {module}")
# A minimal handler: boto3 and the clients the real handler creates, nothing else.
_BARE = _MEASURE.replace("{code}", "import boto3; [boto3.client(s) for s in {services!r}]")
# Which clients a handler creates at import: every one goes through boto3.Session.client.
_DISCOVER = (
    "import boto3.session, json; made = []; original = boto3.session.Session.client\n"
    "def client(self, name, *a, **k):\n    made.append(name); return original(self, name, *a, **k)\n"
    "boto3.session.Session.client = client; import {module}; print(json.dumps(sorted(set(made))))"
)
# The goals of issue 8: import <= 1.25x and peak RSS <= 1.3x the minimal handler.
TIME_GOAL, RSS_GOAL = 1.25, 1.3


def _run_probe(code: str, traced: bool = False) -> str:
    # LAMBDA_TASK_ROOT makes the code believe it runs in Lambda, as for its cold start.
    env = {
        **os.environ,
        **HANDLER_ENV,
        "LAMBDA_TASK_ROOT": str(ROOT),
        "POWERTOOLS_TRACE_DISABLED": "false" if traced else "true",
    }
    env.pop("AWS_ENDPOINT_URL", None)  # no call is made; keep the probes alike everywhere
    return subprocess.run(  # noqa: S603 - our own interpreter and module names
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _cost(code: str, traced: bool = False) -> tuple[float, float, float]:
    out = _run_probe(code, traced).split()
    return float(out[0]), float(out[1]) / 1024, float(out[2])  # wall seconds, MiB, CPU seconds


def _import_cost(module: str, traced: bool = False) -> tuple[float, float, float]:
    return _cost(_PROBE.format(module=module), traced)


def clients_of(module: str) -> list[str]:
    """The AWS clients a handler module creates when it is imported."""
    return list(json.loads(_run_probe(_DISCOVER.format(module=module)).strip().splitlines()[-1]))


def bench_imports(rounds: int) -> dict[str, dict[str, Any]]:
    print(f"Cold start: import in a fresh interpreter, median of {rounds}. Baseline of each handler: a minimal")
    print("handler that imports boto3 and creates the same clients; 'traced' is with X-Ray tracing on (AWS default)")
    services = {module: clients_of(module) for module in HANDLERS}
    bare = {module: _BARE.format(services=services[module]) for module in HANDLERS}
    _cost(_BARE.format(services=[]))  # warm the bytecode caches for every side
    for module in HANDLERS:
        _import_cost(module)
        _cost(bare[module])
    plain: dict[str, list[tuple[float, float, float]]] = {m: [] for m in HANDLERS}
    base: dict[str, list[tuple[float, float, float]]] = {m: [] for m in HANDLERS}
    traced: dict[str, list[float]] = {m: [] for m in HANDLERS}
    boto: list[tuple[float, float, float]] = []
    for _ in range(rounds):  # interleaved, so drift hits every module alike
        boto.append(_cost(_BARE.format(services=[])))
        for module in HANDLERS:
            base[module].append(_cost(bare[module]))
            plain[module].append(_import_cost(module))
            traced[module].append(_import_cost(module, traced=True)[0])
    boto_t = statistics.median(t for t, _, _ in boto)
    print(f"  import boto3 alone: {boto_t * 1000:.0f}ms, {statistics.median(m for _, m, _ in boto):.1f}MB")
    print(
        f"  {'handler':52} {'clients':24} {'bare':>6} {'time':>6} {'x bare':>6} {'CPU x':>6} {'traced':>6}"
        f" {'x bare':>6} {'bare RSS':>8} {'RSS':>7} {'x bare':>6}"
    )
    table: dict[str, dict[str, Any]] = {}
    for module in HANDLERS:
        bt, bm, bc = (statistics.median(v[i] for v in base[module]) for i in range(3))
        t, m, c = (statistics.median(v[i] for v in plain[module]) for i in range(3))
        tt = statistics.median(traced[module])
        table[module] = {
            "clients": services[module],
            "bare_s": bt,
            "import_s": t,
            "traced_s": tt,
            "bare_cpu_s": bc,
            "cpu_s": c,
            "bare_rss_mb": bm,
            "rss_mb": m,
        }
        flag = "" if t / bt <= TIME_GOAL and m / bm <= RSS_GOAL else "  over goal"
        print(
            f"  {module:52} {','.join(services[module]):24} {bt * 1000:4.0f}ms {t * 1000:4.0f}ms {t / bt:6.2f}"
            f" {c / bc:6.2f} {tt * 1000:4.0f}ms {tt / bt:6.2f} {bm:6.1f}MB {m:5.1f}MB {m / bm:6.2f}{flag}"
        )
    print(f"  goals: time <= {TIME_GOAL}x bare, peak RSS <= {RSS_GOAL}x bare ('CPU x': the same ratio in CPU time)")
    return table


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
    parser.add_argument("--json", type=Path, default=ROOT / ".local" / "bench" / "coldstart.json")
    args = parser.parse_args()
    table = bench_imports(args.rounds)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"measured_at": datetime.now().isoformat(timespec="seconds"), "handlers": table}, indent=1)
    )
    print(f"  written to {args.json}")
    if not args.no_latency:
        bench_latency(args.orders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
