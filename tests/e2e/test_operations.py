"""Operating the deployed stack: `make trace` draws a delivered order's whole journey from
the functions' logs, and the dashboard, alarms and log groups of the template are there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

from choreography.catalogue import SELF_SCHEDULED, SUBSCRIPTIONS
from events.models import EVENT_CLASS_BY_TYPE, EventType, Producer
from scripts import trace
from scripts.stack import Stack
from tests.e2e.conftest import ROOT
from tests.e2e.flows import TIMELINE_DELIVERED, new_product, order_body, wait_final

# The function that publishes each producer's events (ORDER_CREATED goes out through the outbox relay).
PUBLISHER = {
    EventType.ORDER_CREATED: "OrderOutboxFunction",
    EventType.INVOICE_CREATED: "InvoiceFunction",
    EventType.PAYMENT_CONFIRMED: "BillingFunction",
    EventType.SHIPPED: "ShipmentFunction",
    EventType.DELIVERED: "DeliveryFunction",
}


def _expected_handlers(event_types: list[str]) -> Counter[tuple[str, str]]:
    return Counter(
        (event_type, s.function)
        for event_type in event_types
        for s in (*SUBSCRIPTIONS, *SELF_SCHEDULED)
        if EventType(event_type) in s.event_types
    )


def test_make_trace_draws_a_delivered_orders_whole_journey(stack: Stack, customer) -> None:
    placed = customer.post_order(order_body(new_product(stack, stock=5), quantity=1))
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    assert wait_final(customer, order_id)["status"] == "DELIVERED"
    expected = _expected_handlers(TIMELINE_DELIVERED)

    def complete() -> list[trace.Step] | None:
        steps = trace.collect(stack, order_id)
        handled = [s for s in steps if s.what.startswith("handled")]
        return steps if len(handled) >= sum(expected.values()) else None

    steps = stack.wait_for(complete, timeout=30) or trace.collect(stack, order_id)

    handled = Counter((s.what.split()[1], s.function) for s in steps if s.what.startswith("handled"))
    assert handled == expected  # every consumer of every event, once each
    published = [(s.what.split()[1], s.function) for s in steps if s.what.startswith("published")]
    assert sorted(published) == sorted((t, PUBLISHER[EventType(t)]) for t in TIMELINE_DELIVERED)
    for event_type, function in published:  # the producer's service is the one that published it
        producer: Producer = EVENT_CLASS_BY_TYPE[EventType(event_type)].PRODUCER
        assert {s.service for s in steps if s.function == function} == {producer.value}
    [request] = [s for s in steps if s.what.startswith("POST")]
    assert request.what == "POST /orders -> 201" and request.function == "OrderApiFunction"
    assert len({s.correlation_id for s in steps}) == 1  # one saga id on every line
    assert all(s.hop_ms is not None and s.hop_ms >= 0 for s in steps if s.what.startswith("handled"))
    assert steps == sorted(steps, key=lambda s: (s.start_ms, s.end_ms))
    assert min(s.start_ms for s in steps) == request.start_ms  # the journey starts with the request

    # The command the README gives, as a user runs it.
    env = {**os.environ, "STACK_NAME": stack.name}
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "scripts.trace", order_id], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    print(output)
    assert output.startswith(f"order {order_id}\n")
    for event_type in TIMELINE_DELIVERED:
        assert f"handled {event_type}" in output and f"published {event_type}" in output


def test_the_dashboard_alarms_and_log_groups_are_deployed(stack: Stack) -> None:
    resources = stack.resources()
    functions = sorted(name for name in resources if name.endswith("Function"))
    assert len(functions) >= 8

    board = stack.client("cloudwatch").get_dashboard(DashboardName=resources["OperationsDashboard"])
    body = json.loads(board["DashboardBody"])
    assert len(body["widgets"]) == 10
    drawn = json.dumps(body)
    assert all(resources[f] in drawn for f in functions)  # function names resolved by the deploy

    alarm_names = [resources[f"{f}{kind}Alarm"] for f in functions for kind in ("Errors", "Throttles")]
    alarm_names += [resources["Api5XXAlarm"], resources["ApiLatencyAlarm"]]
    alarms = stack.client("cloudwatch").describe_alarms(AlarmNames=alarm_names)["MetricAlarms"]
    watched = Counter(alarm["MetricName"] for alarm in alarms)
    assert watched == {"Errors": len(functions), "Throttles": len(functions), "5XXError": 1, "Latency": 1}

    logs = stack.client("logs")
    for function in functions:
        group = f"/aws/lambda/{resources[function]}"
        [found] = [
            g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group
        ]
        assert found["retentionInDays"] == 30
    if stack.is_local:  # MiniStack has no Logs Insights: the saved query is left out there
        assert "OrderTraceQuery" not in resources
