"""template.yaml as data, with CloudFormation's short tags kept as {"Tag": value}."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


_Loader.add_multi_constructor("!", _tag)


@cache
def template() -> dict[str, Any]:
    return parse((ROOT / "template.yaml").read_text())


def parse(text: str) -> dict[str, Any]:
    """A CloudFormation template's text as data."""
    document: dict[str, Any] = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    return document


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template()["Resources"].items() if kind is None or res["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    return resources("AWS::Serverless::Function")


def sqs_queue_of(function: dict[str, Any]) -> str | None:
    for event in function["Properties"].get("Events", {}).values():
        if event["Type"] == "SQS":
            return str(event["Properties"]["Queue"]["GetAtt"][0])
    return None


def subscription_for(queue: str) -> dict[str, Any]:
    [subscription] = [
        res
        for res in resources("AWS::SNS::Subscription").values()
        if res["Properties"]["Endpoint"] == {"GetAtt": [queue, "Arn"]}
    ]
    return subscription
