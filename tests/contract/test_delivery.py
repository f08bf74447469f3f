"""Delivery guarantees written into the template: DLQs, partial batch responses,
visibility timeouts that outlast the function's retries."""

from __future__ import annotations

import pytest

from choreography.catalogue import SUBSCRIPTIONS
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


# ------------------------------------------------------------------ the outbox
def _alarms() -> list[dict]:
    return [a["Properties"] for a in resources("AWS::CloudWatch::Alarm").values()]


def test_the_outbox_relay_gives_up_on_a_record_in_bounded_time_and_reports_it_to_an_alarmed_queue():
    [stream] = [
        e["Properties"]
        for e in functions()["OrderOutboxFunction"]["Properties"]["Events"].values()
        if e["Type"] == "DynamoDB"
    ]
    failed_queue = stream["DestinationConfig"]["OnFailure"]["Destination"]["GetAtt"][0]

    assert stream["BisectBatchOnFunctionError"] is True
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 <= stream["MaximumRetryAttempts"] <= 100
    # Long enough to ride out a short outage, well inside the stream's 24-hour retention.
    assert 60 <= stream["MaximumRecordAgeInSeconds"] <= 3600
    assert failed_queue in resources("AWS::SQS::Queue")
    assert any(
        a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"] == [{"Name": "QueueName", "Value": {"GetAtt": [failed_queue, "QueueName"]}}]
        and a["Threshold"] == 0
        for a in _alarms()
    )


def test_outbox_entries_have_no_ttl_and_a_scheduled_sweeper_publishes_what_waits():
    outbox = resources("AWS::DynamoDB::Table")["OutboxTable"]["Properties"]
    sweeper = functions()["OrderOutboxSweepFunction"]["Properties"]
    [schedule] = [e["Properties"] for e in sweeper["Events"].values() if e["Type"] == "Schedule"]
    sweep_after = int(sweeper["Environment"]["Variables"]["OUTBOX_SWEEP_AFTER_SECONDS"])

    assert "TimeToLiveSpecification" not in outbox  # nothing may delete an unpublished entry
    assert schedule["Schedule"] == "rate(5 minutes)"
    assert 60 <= sweep_after <= 900
    [backlog] = [a for a in _alarms() if a["MetricName"] == "OutboxOldestEntryAge"]
    assert (
        backlog["Namespace"]
        == template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    )
    assert backlog["Dimensions"] == [
        {"Name": "service", "Value": sweeper["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]}
    ]
    assert backlog["Threshold"] == 900 and backlog["TreatMissingData"] == "breaching"
    assert backlog["Period"] > 300  # one sweep every 5 minutes: every period holds one report
