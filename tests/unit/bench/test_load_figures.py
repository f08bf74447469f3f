"""The figures `make load` computes from what it read (no emulator, no clock)."""

from __future__ import annotations

import json

from bench.load.run import _records_in, analyse_latencies, compare, percentile, summary


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile([], 50) is None
    assert summary([2.0, 4.0])["mean"] == 3.0


def test_records_per_invocation_come_from_emf_lines_and_null_lines() -> None:
    emf = {
        "_aws": {"CloudWatchMetrics": [{"Metrics": [{"Name": "ORDER_CREATEDHandled"}, {"Name": "CustomerEmailSent"}]}]},
        "ORDER_CREATEDHandled": [1.0, 1.0, 1.0],
        "CustomerEmailSent": [1.0, 1.0, 1.0],
    }
    single = {"_aws": {"CloudWatchMetrics": [{"Metrics": [{"Name": "OutboxRelayed"}]}]}, "OutboxRelayed": 1.0}
    assert _records_in(json.dumps(emf)) == 3
    assert _records_in(json.dumps(single)) == 1
    assert _records_in('{"null_records": 7}') == 7
    assert _records_in('{"level": "INFO", "message": "invoice issued"}') is None
    assert _records_in("START RequestId: 1") is None


def test_stage_latencies_are_measured_from_order_created() -> None:
    events = {
        "a": {"ORDER_CREATED": 100.0, "INVOICE_CREATED": 100.5, "PAYMENT_CONFIRMED": 101.0, "SHIPPED": 102.0},
        "b": {"ORDER_CREATED": 101.0, "INVOICE_CREATED": 101.2},
    }
    stages, rows = analyse_latencies(events)
    assert sorted(round(v, 6) for v in stages["INVOICE_CREATED"]) == [0.2, 0.5]
    assert stages["SHIPPED"] == [2.0]
    assert {row["order_id"] for row in rows} == {"a", "b"}


def _phase(per_second: float, shipped_p50: float) -> dict:
    stage = {"p50": shipped_p50, "p95": shipped_p50 * 2, "p99": shipped_p50 * 3}
    return {
        "completed_per_second": per_second,
        "post_answer_seconds": {"p50": 0.1},
        "stage_seconds": {s: stage for s in ("INVOICE_CREATED", "PAYMENT_CONFIRMED", "SHIPPED")},
    }


def test_goals_are_judged_against_the_null_choreography() -> None:
    met = compare(_phase(10.0, 1.0), _phase(6.0, 1.9))
    assert met["completed_per_second"] == 0.6
    assert met["goals"] == {"throughput_at_least_half_of_null": True, "p50_shipped_at_most_twice_null": True}
    missed = compare(_phase(10.0, 1.0), _phase(4.0, 2.5))
    assert missed["goals"] == {"throughput_at_least_half_of_null": False, "p50_shipped_at_most_twice_null": False}
