"""The consumers' wiring is derived from the catalogue: committed blocks are fresh, and a
new consumer is one catalogue entry that brings everything it needs and changes nothing else."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from choreography import wiring
from choreography.catalogue import CONSUMERS, IDEMPOTENCY_TABLE, Consumer, table
from events.models import EventType
from scripts import operations
from scripts.local import dead_letter_queues
from tests.contract import built
from tests.contract.template import parse
from tests.contract.test_least_privilege import Unscoped, referenced

# The README's "Adding a service" example: a loyalty-points consumer of PAYMENT_CONFIRMED.
LOYALTY = Consumer(
    name="Loyalty",
    service="loyalty_service",
    handler="loyalty_service.handlers.handle_payment_confirmed",
    description="PAYMENT_CONFIRMED -> loyalty points for the customer",
    event_types=(EventType.PAYMENT_CONFIRMED,),
    label="Loyalty events",
    grants=(table("OrdersTable", "GetItem", env="ORDERS_TABLE"),),
    publishes=False,
)
# The catalogue without it (once the README is followed, it is in the real one) and with it.
WITHOUT_LOYALTY = tuple(c for c in CONSUMERS if c.name != LOYALTY.name)
WITH_LOYALTY = (*WITHOUT_LOYALTY, LOYALTY)
LOYALTY_RESOURCES = {
    "LoyaltyDLQ",
    "LoyaltyQueue",
    "LoyaltySubscription",
    "LoyaltyFunctionRole",
    "LoyaltyFunction",
    "LoyaltyDLQAlarm",
    "LoyaltyQueueAgeAlarm",
    # from the operations block, which reads the template's functions
    "LoyaltyFunctionLogGroup",
    "LoyaltyFunctionErrorsAlarm",
    "LoyaltyFunctionThrottlesAlarm",
}
# Resources that list every consumer (or every function), so they grow by one entry.
LISTING_EVERY_CONSUMER = {"ConsumerQueuesPolicy", "OperationsDashboard", "OrderTraceQuery"}


def _regenerated(text: str, consumers: tuple[Consumer, ...]) -> str:
    """What `python -m choreography.wiring --write` then `python -m scripts.operations --write` make."""
    return operations.rewritten(wiring.render_template(text, consumers), consumers)


def test_the_committed_consumer_blocks_are_what_the_catalogue_makes():
    template_text = wiring.TEMPLATE.read_text()

    assert wiring.render_template(template_text) == template_text, "run: python -m choreography.wiring --write"
    assert wiring.render_build(wiring.BUILD_MAKEFILE.read_text()) == wiring.BUILD_MAKEFILE.read_text()


def test_every_consumer_has_a_build_recipe_for_its_own_package():
    build = wiring.BUILD_MAKEFILE.read_text()

    for consumer in CONSUMERS:
        assert f"build-{consumer.function}:\n\t$(call build_service,{consumer.service})\n" in build


@pytest.fixture(scope="module")
def templates() -> tuple[dict[str, Any], dict[str, Any], str]:
    text = wiring.TEMPLATE.read_text()
    with_loyalty = _regenerated(text, WITH_LOYALTY)
    return parse(_regenerated(text, WITHOUT_LOYALTY)), parse(with_loyalty), with_loyalty


def test_one_entry_adds_the_consumers_resources_and_changes_nothing_else(templates):
    before, after, _ = templates

    assert set(after["Resources"]) - set(before["Resources"]) == LOYALTY_RESOURCES
    assert set(before["Resources"]) <= set(after["Resources"])
    changed = {name for name, res in before["Resources"].items() if after["Resources"][name] != res}
    assert changed == LISTING_EVERY_CONSUMER
    assert set(after["Outputs"]) - set(before["Outputs"]) == {"LoyaltyDLQUrl"}
    for section in ("Parameters", "Conditions", "Globals"):
        assert after[section] == before[section]
    assert all(after["Outputs"][name] == output for name, output in before["Outputs"].items())


def test_the_new_queue_is_subscribed_with_its_filter_and_has_a_dlq_with_alarms(templates):
    _, after, _ = templates
    resources = after["Resources"]

    subscription = resources["LoyaltySubscription"]["Properties"]
    assert subscription["Endpoint"] == {"GetAtt": ["LoyaltyQueue", "Arn"]}
    assert subscription["TopicArn"] == {"Ref": "OrderEventsTopic"}
    assert subscription["FilterPolicy"] == {"event_type": ["PAYMENT_CONFIRMED"]}
    assert subscription["RawMessageDelivery"] is True
    redrive = resources["LoyaltyQueue"]["Properties"]["RedrivePolicy"]
    assert redrive == {"deadLetterTargetArn": {"GetAtt": ["LoyaltyDLQ", "Arn"]}, "maxReceiveCount": 5}
    policy = resources["ConsumerQueuesPolicy"]["Properties"]
    assert {"Ref": "LoyaltyQueue"} in policy["Queues"]
    assert {"GetAtt": ["LoyaltyQueue", "Arn"]} in policy["PolicyDocument"]["Statement"][0]["Resource"]
    dimension = {
        "LoyaltyDLQAlarm": {"GetAtt": ["LoyaltyDLQ", "QueueName"]},
        "LoyaltyQueueAgeAlarm": {"GetAtt": ["LoyaltyQueue", "QueueName"]},
    }
    for alarm, queue_name in dimension.items():
        assert resources[alarm]["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": queue_name}]
    function = resources["LoyaltyFunction"]["Properties"]
    assert function["Handler"] == "loyalty_service.handlers.handle_payment_confirmed.handler"
    assert function["Environment"]["Variables"]["ORDERS_TABLE"] == {"Ref": "OrdersTable"}
    [source] = function["Events"].values()
    assert source["Properties"]["Queue"] == {"GetAtt": ["LoyaltyQueue", "Arn"]}
    assert "${LoyaltyQueue.QueueName}" in resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Sub"]


def test_the_new_role_grants_exactly_the_entrys_reach_once_sam_has_translated_it(templates, tmp_path: Path):
    _, _, with_loyalty = templates
    path = tmp_path / "template.yaml"
    path.write_text(with_loyalty)

    translated = built.translated(path)["Resources"]

    role = translated[LOYALTY.role]["Properties"]
    granted: dict[str, set[str]] = {}
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            services = {action.split(":")[0] for action in statement["Action"]}
            try:
                names = referenced(statement["Resource"])
            except Unscoped as error:  # a wildcard or a literal: not least privilege
                pytest.fail(f"{statement}: {error}")
            for service in services:
                granted.setdefault(service, set()).update(names)
    assert granted == {"sqs": {"LoyaltyQueue"}, "dynamodb": {IDEMPOTENCY_TABLE, "OrdersTable"}}
    assert granted == LOYALTY.reach()
    assert translated["LoyaltyFunction"]["Properties"]["Role"] == {"Fn::GetAtt": [LOYALTY.role, "Arn"]}


def test_the_new_dlq_can_be_listed_and_redriven_and_its_function_built():
    assert dead_letter_queues(WITH_LOYALTY) == {**dead_letter_queues(WITHOUT_LOYALTY), "loyalty": "LoyaltyDLQ"}
    makefile = wiring.BUILD_MAKEFILE.read_text()
    build = wiring.render_build(makefile, WITH_LOYALTY)
    assert build.replace("build-LoyaltyFunction:\n\t$(call build_service,loyalty_service)\n", "") == (
        wiring.render_build(makefile, WITHOUT_LOYALTY)
    )


def test_a_consumer_name_must_be_a_logical_id_stem():
    with pytest.raises(ValueError, match="CamelCase"):
        dataclasses.replace(LOYALTY, name="loyalty-points")
