"""Delivery guarantees written into the template: DLQs, partial batch responses,
visibility timeouts that outlast the function's retries."""

from __future__ import annotations

import pytest

from events.catalogue import SUBSCRIPTIONS
from tests.contract.template import functions, resources, sqs_queue_of, template

CONSUMERS = {name: fn for name, fn in functions().items() if sqs_queue_of(fn)}


def _timeout(function: dict) -> int:
    return int(function["Properties"].get("Timeout") or template()["Globals"]["Function"]["Timeout"])


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_each_consumer_reports_batch_item_failures(name):
    [event] = [e for e in CONSUMERS[name]["Properties"]["Events"].values() if e["Type"] == "SQS"]

    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_each_queue_has_a_dlq_after_five_receives_and_an_alarm_on_it(name):
    queue = resources("AWS::SQS::Queue")[sqs_queue_of(CONSUMERS[name])]
    redrive = queue["Properties"]["RedrivePolicy"]
    dlq_name = redrive["deadLetterTargetArn"]["GetAtt"][0]

    assert redrive["maxReceiveCount"] == 5
    assert dlq_name in resources("AWS::SQS::Queue")
    alarms = [a["Properties"] for a in resources("AWS::CloudWatch::Alarm").values()]
    assert any(
        a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"] == [{"Name": "QueueName", "Value": {"GetAtt": [dlq_name, "QueueName"]}}]
        and a["Threshold"] == 0
        and a["ComparisonOperator"] == "GreaterThanThreshold"
        for a in alarms
    )


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_visibility_timeout_is_at_least_six_times_the_function_timeout(name):
    queue = resources("AWS::SQS::Queue")[sqs_queue_of(CONSUMERS[name])]

    assert int(queue["Properties"]["VisibilityTimeout"]) >= 6 * _timeout(CONSUMERS[name])


def test_only_the_topic_may_send_to_the_consumer_queues():
    [policy] = resources("AWS::SQS::QueuePolicy").values()
    queues = {ref["Ref"] for ref in policy["Properties"]["Queues"]}
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]

    assert queues == {subscription.queue for subscription in SUBSCRIPTIONS}
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "OrderEventsTopic"}}}
