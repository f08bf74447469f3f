"""The routing contract: filter policies, consumers and producers agree."""

from __future__ import annotations

import importlib
import re

import pytest

from choreography.catalogue import SELF_SCHEDULED, SUBSCRIPTIONS
from choreography.samples import SAMPLE_ENVIRONMENT
from events.models import EVENT_CLASSES, EventType
from tests.contract.template import ROOT, functions, sqs_queue_of, subscription_for, template

HANDLER_ENV = {**SAMPLE_ENVIRONMENT, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def test_every_consumer_function_is_in_the_routing_table_and_vice_versa():
    consumers = {name for name, fn in functions().items() if sqs_queue_of(fn)}

    assert consumers == {s.function for s in (*SUBSCRIPTIONS, *SELF_SCHEDULED)}


@pytest.mark.parametrize("subscription", SUBSCRIPTIONS, ids=lambda s: s.function)
def test_the_filter_policy_lets_through_exactly_what_the_consumer_handles(subscription, monkeypatch):
    function = functions()[subscription.function]
    assert sqs_queue_of(function) == subscription.queue
    sns_subscription = subscription_for(subscription.queue)["Properties"]
    assert sns_subscription["RawMessageDelivery"] is True
    assert sns_subscription["FilterPolicyScope"] == "MessageAttributes"
    assert set(sns_subscription["FilterPolicy"]) == {"event_type"}
    filtered = set(sns_subscription["FilterPolicy"]["event_type"])

    for key, value in HANDLER_ENV.items():
        monkeypatch.setenv(key, value)
    handler_module = importlib.import_module(subscription.handler)
    handled = {event_type.value for event_type in handler_module.consumer.handled_event_types}

    assert filtered == handled == {e.value for e in subscription.event_types}
    assert function["Properties"]["Handler"] == f"{subscription.handler}.handler"


def test_every_event_type_has_a_model_and_exactly_one_producer_that_publishes_it():
    assert {cls.TYPE for cls in EVENT_CLASSES} == set(EventType)
    services = [s.name for s in ROOT.iterdir() if s.name.endswith("_service") and s.is_dir()]
    for cls in EVENT_CLASSES:
        publishing = [
            service
            for service in services
            if any(
                re.search(rf"\b{cls.__name__}\.(first|caused_by|for_order)\(", path.read_text())
                for path in (ROOT / service).rglob("*.py")
            )
        ]
        assert publishing == [cls.PRODUCER.value], (cls.TYPE, publishing)


def test_every_event_type_reaches_at_least_one_consumer():
    for event_type in EventType:
        assert any(event_type in s.event_types for s in SUBSCRIPTIONS), event_type


def test_every_function_handler_module_exists():
    for name, function in functions().items():
        props = function["Properties"]
        module, attribute = props["Handler"].rsplit(".", 1)
        package = props["CodeUri"].strip("/")
        assert module.split(".")[0] == package, name
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), name
        assert attribute == "handler"


def test_the_template_declares_the_outputs_clients_rely_on():
    outputs = template()["Outputs"]

    assert {"ApiUrl", "UserPoolId", "UserPoolClientId", "OrderEventsTopicArn"} <= set(outputs)
    assert outputs["ApiUrl"]["Value"] == {"Sub": "https://${OrderApi}.execute-api.${AWS::Region}.amazonaws.com/v1"}
