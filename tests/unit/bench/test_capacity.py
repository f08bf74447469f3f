"""`make capacity`'s model on fixed inputs: the shape of its answers, not AWS's prices."""

from __future__ import annotations

from bench import capacity
from bench.capacity import Inputs


def _inputs() -> Inputs:
    def fn(mean_ms: float, records: float) -> dict:
        return {"duration_ms": {"mean": mean_ms}, "records_per_batch": records, "log_bytes": 10_000}

    functions = {
        "OrderApiFunction": fn(50, 0),
        "OrderOutboxFunction": fn(100, 5),
        "InvoiceFunction": fn(200, 5),
        "BillingFunction": fn(150, 5),
        "ShipmentFunction": fn(150, 5),
        "EmailFunction": fn(100, 5),
        "OrderStatusFunction": fn(50, 5),
    }
    calls = {
        "api": {"dynamodb.TransactWriteItems": 1, "dynamodb.BatchGetItem": 1, "kms.Encrypt": 1},
        "relay": {"kms.Decrypt": 1, "sns.Publish": 1, "dynamodb.DeleteItem": 1},
        "invoice": {"dynamodb.PutItem": 1, "dynamodb.UpdateItem": 1, "s3.PutObject": 2, "sns.Publish": 1},
        "billing": {"dynamodb.PutItem": 3, "dynamodb.UpdateItem": 1, "dynamodb.GetItem": 1, "sns.Publish": 1},
        "shipment": {"dynamodb.PutItem": 2, "dynamodb.UpdateItem": 2, "dynamodb.GetItem": 1, "sns.Publish": 1},
        "email": {"dynamodb.PutItem": 1, "dynamodb.UpdateItem": 1, "sesv2.SendEmail": 1},
        "status": {"dynamodb.UpdateItem": 1},
    }
    return Inputs(
        memory_mb=512,
        batch_size=10,
        api_rate=50,
        api_burst=100,
        email_concurrency=5,
        functions=functions,
        null={"completed_per_second": 20.0},
        real={"completed_per_second": 10.0, "completed": 100},
        ratios={},
        profile={name: {"calls_per_record": c, "own_ms_per_record": 2.0} for name, c in calls.items()},
        coldstart={},
        load_settings={"customers": 5, "duration_seconds": 30},
    )


def test_limits_are_ranked_by_the_order_rate_that_reaches_them() -> None:
    ranked = capacity.saturation_rates(_inputs())
    rates = [row[1] for row in ranked]
    assert rates == sorted(rates)
    assert ranked[0][0].startswith("SES")  # five emails per order against 14/s


def test_more_stock_shards_mean_fewer_conflicts_and_less_load_per_shard() -> None:
    rows = capacity.flash_sale(1_000)
    conflicts = [row["conflict_p"] for row in rows]
    per_shard = [row["wcu_per_shard"] for row in rows]
    assert conflicts == sorted(conflicts, reverse=True)
    assert per_shard == sorted(per_shard, reverse=True)
    assert rows[0]["shards"] == 1 and rows[0]["wcu_per_shard"] > capacity.QUOTA["ddb_partition_wcu"]
    assert capacity.shards_needed(1_000) > 1
    assert capacity.shards_needed(10) == 1


def test_each_guarantee_costs_something_and_orchestration_costs_more() -> None:
    costs = {name: sum(v.values()) for name, v in capacity.cost_per_million(_inputs()).items()}
    assert costs["choreography without outbox and idempotency"] < costs["choreography (as built)"]
    assert costs["Step Functions Standard"] > costs["choreography (as built)"]


def test_generated_sections_replace_only_their_markers() -> None:
    doc = "intro\n<!-- capacity:costs -->\nold\n<!-- /capacity:costs -->\noutro\n"
    assert (
        capacity.render(doc, {"costs": "new"})
        == "intro\n<!-- capacity:costs -->\nnew\n<!-- /capacity:costs -->\noutro\n"
    )


def test_every_section_the_document_has_is_generated() -> None:
    generated = capacity.sections(_inputs())
    document = capacity.DOC.read_text()
    for name in generated:
        assert f"<!-- capacity:{name} -->" in document
    capacity.render(document, generated)  # raises if a marker is missing
