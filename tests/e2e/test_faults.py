"""Transient faults are survived: with a fifth of the calls to the payment provider,
the carrier and the email sender failing (timeouts, throttling, 5xx) in the deployed
stack, every order still ends at its right status with every email sent once."""

from __future__ import annotations

import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from choreography.catalogue import SUBSCRIPTIONS
from tests.e2e.flows import (
    EMAILS_DECLINED,
    EMAILS_DELIVERED,
    EMAILS_UNDELIVERABLE,
    emails_for,
    new_product,
    order_body,
    stock_of,
    wait_final,
)
from tests.e2e.infra import CONSUMER_QUEUES, function_env, function_logs, queue_depth, settle, visibility_timeout

pytestmark = pytest.mark.usefixtures("needs_inbox")

FAULTY = ("BillingFunction", "ShipmentFunction", "EmailFunction")
# Their queues: SQS retries sooner what the faults failed. Only theirs: a 5 s visibility on
# the invoice queue, whose batches of PDFs may take longer on a loaded machine, had SQS
# hand out messages still being worked on until they reached the DLQ.
FAULTY_QUEUES = tuple(c.queue for c in SUBSCRIPTIONS if c.function in FAULTY)
ORDERS = 50
RATE = "0.2"


def _plan(i: int) -> tuple[str, str, tuple[str, int]]:
    """Order i: payment token, postal code, and (final status, emails) expected."""
    if i % 10 == 3:
        return "tok_chargeDeclined", "N1 9GU", ("PAYMENT_FAILED", EMAILS_DECLINED)
    if i % 10 == 7:
        return "tok_visa", "00000", ("REFUNDED", EMAILS_UNDELIVERABLE)
    return "tok_visa", "N1 9GU", ("DELIVERED", EMAILS_DELIVERED)


def _faults_in_logs(stack, since_ms: int) -> dict[str, int]:
    counts = {}
    for function in FAULTY:
        lines = [json.loads(line) for line in function_logs(stack, function, since_ms) if "fault_injected" in line]
        counts[function] = sum(1 for line in lines if line.get("fault_injected"))
    return counts


def test_fifty_orders_survive_a_fifth_of_dependency_calls_failing(stack, customer, other_customer):
    sku = new_product(stack, stock=ORDERS)
    since_ms = int(time.time() * 1000)
    customers = (customer, other_customer)

    with contextlib.ExitStack() as faults:
        for function in FAULTY:
            faults.enter_context(function_env(stack, function, FAULT_RATE=RATE))
        # SQS retries what the in-process retries could not absorb; shorter visibility
        # timeouts let those retries happen within the test.
        faults.enter_context(visibility_timeout(stack, 5, FAULTY_QUEUES))

        def place(i: int):
            token, postal_code, expected = _plan(i)
            body = order_body(sku, quantity=1, payment_token=token)
            body["shipping_address"]["postal_code"] = postal_code
            who = customers[i % 2]
            response = who.post_order(body)
            assert response.status == 201, response.body
            return who, response.body["order_id"], expected

        with ThreadPoolExecutor(max_workers=6) as pool:
            placed = list(pool.map(place, range(ORDERS)))

        statuses = {}
        for who, order_id, _ in placed:
            statuses[order_id] = wait_final(who, order_id, timeout=240)["status"]

        def all_emails_in() -> bool:
            return all(len(emails_for(who, oid)) >= n for who, oid, (_, n) in placed)

        assert stack.wait_for(all_emails_in, timeout=240, interval=2)
        settle(8)  # a late duplicate would show now

    wrong = {oid: (statuses[oid], status) for _, oid, (status, _) in placed if statuses[oid] != status}
    assert not wrong, wrong
    emails = {oid: len(emails_for(who, oid)) for who, oid, _ in placed}
    duplicates = {oid: n for who, oid, (_, want) in placed if (n := emails[oid]) != want}
    assert not duplicates, duplicates
    subjects = [e.subject for c in customers for e in c.emails()]
    assert len(subjects) == len(set(subjects))  # no email twice
    shipped = sum(1 for _, _, (status, _) in placed if status == "DELIVERED")
    assert stack.wait_for(lambda: stock_of(stack, sku) == ORDERS - shipped, timeout=30)
    for queue in CONSUMER_QUEUES:
        dlq = stack.queue_url(queue.replace("Queue", "DLQ"))
        assert queue_depth(stack, dlq) == 0, f"{queue}: a message gave up"

    faults = _faults_in_logs(stack, since_ms)
    print(
        f"\nfault run: {ORDERS} orders, FAULT_RATE={RATE}, faults injected {faults} "
        f"(total {sum(faults.values())}), final statuses ok, emails {sum(emails.values())} all exactly once"
    )
    assert all(count > 0 for count in faults.values()), faults
