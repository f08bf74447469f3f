"""What an on-call engineer relies on is in the template: each function's log group
(with the retention parameter), error and throttle alarms; the API's 5XX and latency
alarms; a dashboard that shows every function, queue and business metric; the saved
trace query. And every metric the code emits is declared, documented and drawn."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from choreography.catalogue import SELF_SCHEDULED, SUBSCRIPTIONS
from scripts import operations
from tests.contract.template import ROOT, functions, resources, template

SERVICE_PACKAGES = (
    "events",
    "fault_injection",
    "order_service",
    "invoice_service",
    "billing_service",
    "shipment_service",
    "email_service",
)


def _alarm_on(metric: str, function: str) -> list[str]:
    return [
        name
        for name, alarm in resources("AWS::CloudWatch::Alarm").items()
        if alarm["Properties"]["MetricName"] == metric
        and alarm["Properties"]["Namespace"] == "AWS/Lambda"
        and {"Name": "FunctionName", "Value": {"Ref": function}} in alarm["Properties"]["Dimensions"]
    ]


def test_the_operations_block_is_what_its_generator_makes() -> None:
    text = (ROOT / "template.yaml").read_text()
    assert operations.rewritten(text) == text, "run `make operations` (python -m scripts.operations --write)"


def test_every_function_has_its_log_group_with_retention_and_its_error_and_throttle_alarms() -> None:
    groups = {
        json.dumps(group["Properties"]["LogGroupName"]): group["Properties"]
        for group in resources("AWS::Logs::LogGroup").values()
    }
    assert functions()
    for function in functions():
        group = groups.get(json.dumps({"Sub": f"/aws/lambda/${{{function}}}"}))
        assert group is not None, f"{function} has no log group"
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        for metric in ("Errors", "Throttles"):
            [alarm] = _alarm_on(metric, function)
            props = resources()[alarm]["Properties"]
            assert props["ComparisonOperator"] == "GreaterThanThreshold" and props["Threshold"] == 0
            assert props["AlarmActions"]["If"][0] == "HasAlarmTopic"


def test_the_api_alarms_on_5xx_and_on_p99_latency() -> None:
    api = {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["Namespace"] == "AWS/ApiGateway"
    }
    assert set(api) == {"5XXError", "Latency"}
    assert api["Latency"]["ExtendedStatistic"] == "p99"
    for alarm in api.values():
        assert {"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}} in alarm["Dimensions"]


def _dashboard_metrics() -> list[list[object]]:
    [board] = resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(board["Properties"]["DashboardBody"]["Sub"])
    return [metric for widget in body["widgets"] for metric in widget["properties"]["metrics"]]


def test_the_dashboard_shows_every_function_every_queue_and_the_api() -> None:
    shown = _dashboard_metrics()
    for metric in ("Invocations", "Errors", "Throttles", "Duration"):
        drawn = {m[3] for m in shown if m[:2] == ["AWS/Lambda", metric]}
        assert drawn == {f"${{{f}}}" for f in functions()}, metric
    consumer_queues = {s.queue for s in (*SUBSCRIPTIONS, *SELF_SCHEDULED)}
    queues_in_template = {q for q in resources("AWS::SQS::Queue") if q.endswith("Queue")}
    assert consumer_queues | set(operations.OPERATIONAL_QUEUES) == queues_in_template
    dlqs = {q.removesuffix("Queue") + "DLQ" for q in consumer_queues}
    for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
        drawn = {m[3] for m in shown if m[:2] == ["AWS/SQS", metric]}
        assert drawn == {f"${{{q}.QueueName}}" for q in consumer_queues | dlqs | set(operations.OPERATIONAL_QUEUES)}, (
            metric
        )
    assert {m[1] for m in shown if m[0] == "AWS/ApiGateway"} == {"4XXError", "5XXError", "Latency"}


def emitted_metric_names() -> set[str]:
    """Every metric name the code passes to `add_metric`, read from the source: a literal,
    an f-string (its placeholders become `<...>`), or a lookup in a module-level dict."""
    names: set[str] = set()
    for package in SERVICE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            dicts = {
                target.id: node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                for target in node.targets
                if isinstance(target, ast.Name)
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_metric":
                    [name] = [kw.value for kw in node.keywords if kw.arg == "name"]
                    names |= _names_of(name, dicts, path)
    return names


def _names_of(node: ast.expr, dicts: dict[str, ast.Dict], path: Path) -> set[str]:
    if isinstance(node, ast.Constant):
        return {str(node.value)}
    if isinstance(node, ast.JoinedStr):
        # The ignore below: an f-string's constant parts are str (typeshed: any constant's type)
        return {"".join(v.value if isinstance(v, ast.Constant) else "<>" for v in node.values)}  # type: ignore[misc]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in dicts:
        return {str(v.value) for v in dicts[node.value.id].values if isinstance(v, ast.Constant)}
    raise AssertionError(f"{path}: a metric name this test cannot read: {ast.dump(node)}")


def _matches(emitted: str, declared: str) -> bool:
    """`Shipment<>` (from an f-string) matches `ShipmentBooked`; `<>Handled` matches `<EVENT_TYPE>Handled`."""
    as_pattern = re.escape(emitted).replace("<>", ".+")
    return re.fullmatch(as_pattern, re.sub(r"<[A-Z_]+>", "<>", declared).replace("<>", "X")) is not None


def test_every_emitted_metric_is_declared_and_every_declared_metric_is_emitted() -> None:
    emitted = emitted_metric_names()
    declared = [m.name for m in operations.METRICS]
    assert {"OrderPlaced", "<>Handled", "Shipment<>"} <= emitted  # the scan reads all three forms
    undeclared = [name for name in emitted if not any(_matches(name, d) for d in declared)]
    assert not undeclared, f"emitted but not in scripts/operations.py METRICS: {undeclared}"
    unused = [d for d in declared if not any(_matches(name, d) for name in emitted)]
    assert not unused, f"declared but never emitted: {unused}"


def test_every_declared_metric_is_in_the_readme_table_and_the_order_outcomes_are_on_the_dashboard() -> None:
    readme = (ROOT / "README.md").read_text()
    for metric in operations.METRICS:
        row = re.search(
            rf"^\s*\| `{re.escape(metric.name)}` \| {metric.unit} \| `service`=[^|]+\|", readme, re.MULTILINE
        )
        assert row, f"README's metrics table has no row for {metric.name} (unit {metric.unit}, dimension service)"
    drawn = {(m[1], m[3]) for m in _dashboard_metrics() if m[0] == operations.NAMESPACE}
    for metric in operations.METRICS:
        if metric.dashboard:
            assert (metric.name, metric.service) in drawn, metric.name
    assert {name for _, name in operations.ORDER_OUTCOMES} <= {name for name, _ in drawn}


def test_the_trace_query_is_saved_on_aws_and_left_out_where_logs_insights_is_missing() -> None:
    [query] = resources("AWS::Logs::QueryDefinition").values()
    assert query["Condition"] == "SaveTraceQuery"
    assert template()["Conditions"]["SaveTraceQuery"] == {"Equals": [{"Ref": "SaveTraceQuery"}, "true"]}
    assert 'filter order_id = "ORDER_ID"' in query["Properties"]["QueryString"]
    assert len(query["Properties"]["LogGroupNames"]) == len(functions())
