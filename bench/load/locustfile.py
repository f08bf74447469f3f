"""Locust users of `make load`: each is one customer (own Cognito ID token) placing
orders over the REST API, as fast as the stack answers (closed loop) or at a fixed
rate per customer (LOAD_RATE_PER_USER). Run by bench/load/run.py, which reads back
what every POST answered from LOAD_RESULTS (a JSON list written when Locust quits).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

from locust import FastHttpUser, constant, constant_throughput, events, task

TOKENS: list[str] = json.loads(open(os.environ["LOAD_TOKENS"]).read())  # noqa: SIM115
BASE_PATH = os.environ["LOAD_BASE_PATH"]
SKUS = os.environ.get("LOAD_SKUS", "LOAD-000").split(",")
RATE = float(os.environ.get("LOAD_RATE_PER_USER", "0"))
RESULTS: list[dict] = []
_next_token = itertools.count()


class Customer(FastHttpUser):
    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)
    connection_timeout = 10.0
    network_timeout = 60.0

    def on_start(self) -> None:
        self.token = TOKENS[next(_next_token) % len(TOKENS)]

    @task
    def place_order(self) -> None:
        body = {
            "items": [{"sku": random.choice(SKUS), "quantity": 1}],
            "shipping_address": {
                "name": "Load Tester",
                "line1": "1 Throughput Way",
                "city": "Localhost",
                "postal_code": "12345",
                "country": "GB",
            },
            "payment_token": "tok_visa",
        }
        sent = time.time()
        with self.client.post(
            BASE_PATH + "/orders",
            json=body,
            headers={"Authorization": self.token},
            name="POST /orders",
            catch_response=True,
        ) as response:
            answered = time.time()
            if response.status_code == 201:
                RESULTS.append({"order_id": response.json()["order_id"], "sent": sent, "answered": answered})
                response.success()
            else:
                RESULTS.append({"status": response.status_code, "sent": sent, "answered": answered})
                response.failure(f"HTTP {response.status_code}")


@events.quitting.add_listener
def _write_results(environment, **_kwargs) -> None:
    with open(os.environ["LOAD_RESULTS"], "w") as out:
        json.dump(RESULTS, out)
