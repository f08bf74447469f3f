"""Least privilege, proved on the built template: each function's role may touch only
its own queue, tables, bucket, topic and identity, named by reference (Ref, GetAtt or
Sub of that resource), never `*`, never another account, never a whole service.

The template is first translated by the SAM translator (tests/contract/built.py), so
the roles checked are the ones CloudFormation creates: inline policies, expanded SAM
policy templates, and the managed policies SAM attaches on its own for event sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from choreography.catalogue import CONSUMERS
from tests.contract import built
from tests.contract.template import functions, resources

# ------------------------------------------------------------------ the expectation
# What each function may touch, by the service of the action. The consumers' rows come
# from the catalogue (choreography/catalogue.py: their queue, the idempotency table, the
# topic and their grants), the same declaration their roles are generated from; the test
# proves what SAM makes of those roles grants that and nothing more. The functions that
# consume no queue have a row here. A service a row leaves empty is one the function may
# not call at all (kms included: add a column when a key appears).
REACH_TABLE = """
function                 | sqs                    | dynamodb                                               | sns              | s3            | kms
OrderApiFunction         |                        | OrdersTable ProductsTable OutboxTable IdempotencyTable |                  | InvoiceBucket | PaymentTokenKey
OrderOutboxFunction      | OutboxRelayFailedQueue | OutboxTable                                            | OrderEventsTopic |               | PaymentTokenKey
OrderOutboxSweepFunction |                        | OutboxTable                                            | OrderEventsTopic |               | PaymentTokenKey
"""  # noqa: E501 - a table reads best on one line per function


def _parse_reach(table: str) -> dict[str, dict[str, set[str]]]:
    header, *rows = [[cell.strip() for cell in line.split("|")] for line in table.strip().splitlines()]
    services = header[1:]
    return {
        row[0]: {service: set(cell.split()) for service, cell in zip(services, row[1:], strict=True) if cell}
        for row in rows
    }


REACH = {**_parse_reach(REACH_TABLE), **{consumer.function: consumer.reach() for consumer in CONSUMERS}}

# What a logical id of each service's column must be in template.yaml.
RESOURCE_TYPE_OF_SERVICE = {
    "sqs": "AWS::SQS::Queue",
    "dynamodb": "AWS::DynamoDB::Table",
    "sns": "AWS::SNS::Topic",
    "s3": "AWS::S3::Bucket",
    "ses": "AWS::SES::EmailIdentity",
    "kms": "AWS::KMS::Key",
}

# Services whose actions AWS only grants on "*" (no resource-level permissions for
# writing logs and traces). Every other service's actions are data actions.
RESOURCELESS_SERVICES = {"logs", "xray"}

# The AWS managed policies a role may carry, as AWS publishes them, so that what they
# grant is checked like any inline statement. An unknown one fails the test.
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
AWS_MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "service-role/AWSLambdaBasicExecutionRole": [{"Effect": "Allow", "Action": _LOGS, "Resource": "*"}],
    "AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
    # What SAM attaches to a generated role for an SQS event source: every queue.
    "service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS],
            "Resource": "*",
        }
    ],
    # ... and for a DynamoDB stream event source: every stream.
    "service-role/AWSLambdaDynamoDBExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
                *_LOGS,
            ],
            "Resource": "*",
        }
    ],
}


# ------------------------------------------------------------------ reading policies
@dataclass(frozen=True)
class Grant:
    source: str  # where the statement comes from, for the failure message
    statement: dict[str, Any]


def _branches(value: Any) -> list[Any]:
    """Both sides of every Fn::If (a condition may be true on some deploy), no NoValue."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, when_true, when_false = value["Fn::If"]
        return _branches(when_true) + _branches(when_false)
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def _items(value: Any) -> list[Any]:
    """A policy field that may be one value, a list, or Fn::If of either, as a flat list."""
    out: list[Any] = []
    for branch in _branches(value):
        for item in branch if isinstance(branch, list) else [branch]:
            out.extend(_branches(item))
    return out


def _statements(document: Any, source: str) -> Iterator[Grant]:
    for doc in _branches(document):
        for statement in _items(doc.get("Statement", [])):
            yield Grant(source, statement)


def _refers_to(value: Any, name: str) -> bool:
    return any(item in ({"Ref": name}, name) for item in _items(value))


def _role_of(function_name: str) -> str:
    role = built.resources("AWS::Lambda::Function")[function_name]["Properties"]["Role"]
    assert isinstance(role, dict) and "Fn::GetAtt" in role, f"{function_name}: role {role!r} is not one of this stack"
    name = role["Fn::GetAtt"][0] if isinstance(role["Fn::GetAtt"], list) else role["Fn::GetAtt"].split(".")[0]
    assert name in built.resources("AWS::IAM::Role"), f"{function_name}: {name} is not an AWS::IAM::Role"
    return str(name)


def _managed_policy_name(arn: Any) -> str | None:
    text = arn.get("Fn::Sub") if isinstance(arn, dict) else arn
    match = re.fullmatch(r"arn:(?:aws|\$\{AWS::Partition\}):iam::aws:policy/(.+)", text or "")
    return match.group(1) if match else None


def grants_of(function_name: str) -> list[Grant]:
    """Every Allow/Deny statement that applies to the function's role, wherever declared."""
    role_name = _role_of(function_name)
    role = built.resources("AWS::IAM::Role")[role_name]["Properties"]
    grants: list[Grant] = []
    for policy in _items(role.get("Policies", [])):
        grants += _statements(policy["PolicyDocument"], f"{role_name} inline {policy.get('PolicyName')}")
    for name, res in built.resources().items():
        props = res.get("Properties", {})
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and _refers_to(props.get("Roles"), role_name):
            grants += _statements(props["PolicyDocument"], f"{res['Type']} {name}")
        if res["Type"] == "AWS::IAM::RolePolicy" and _refers_to(props.get("RoleName"), role_name):
            grants += _statements(props["PolicyDocument"], f"AWS::IAM::RolePolicy {name}")
    for arn in _items(role.get("ManagedPolicyArns", [])):
        if isinstance(arn, dict) and arn.get("Ref") in built.resources("AWS::IAM::ManagedPolicy"):
            managed = built.resources()[arn["Ref"]]["Properties"]
            if not _refers_to(managed.get("Roles"), role_name):  # else read above
                grants += _statements(managed["PolicyDocument"], f"AWS::IAM::ManagedPolicy {arn['Ref']}")
        elif (aws_managed := _managed_policy_name(arn)) in AWS_MANAGED_POLICIES:
            grants += [Grant(f"AWS managed policy {aws_managed}", s) for s in AWS_MANAGED_POLICIES[aws_managed]]
        # anything else fails test_every_managed_policy_is_known
    return grants


# ------------------------------------------------------------------ reading resources
class Unscoped(Exception):
    """A resource that is not provably one of the stack's own, by reference."""


_PLACEHOLDER = re.compile(r"\$\{([^!}][^}]*)\}")  # ${!Literal} is an escaped literal
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def referenced(resource: Any) -> set[str]:
    """The logical ids a policy Resource names; Unscoped if it is a literal, a wildcard
    outside an own resource's path, a hard-coded account, or an unreadable intrinsic."""
    if isinstance(resource, str):
        raise Unscoped(f"literal {resource!r}")
    if not isinstance(resource, dict) or len(resource) != 1:
        raise Unscoped(f"unreadable {resource!r}")
    [(function, argument)] = resource.items()
    if function == "Ref":
        if str(argument).startswith("AWS::"):
            raise Unscoped(f"pseudo parameter {argument}")
        return {str(argument)}
    if function == "Fn::GetAtt":
        return {str(argument[0] if isinstance(argument, list) else argument.split(".")[0])}
    if function == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        return _sub_references(text, variables)
    raise Unscoped(f"{function} (use Ref, GetAtt or Sub of the resource): {resource!r}")


def _sub_references(text: str, variables: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    previous_is_own = False
    for index, part in enumerate(_PLACEHOLDER.split(text)):
        if index % 2 == 0:  # literal text between placeholders
            if _ACCOUNT_ID.search(part):
                raise Unscoped(f"hard-coded account in {text!r}")
            # A wildcard may only follow an own resource, inside its path: ${Bucket.Arn}/invoices/*
            if ("*" in part or "?" in part) and not (previous_is_own and part.startswith("/")):
                raise Unscoped(f"wildcard in {text!r}")
            continue
        if part in variables:
            names |= referenced(variables[part])
            previous_is_own = True
        elif part.startswith("AWS::"):
            previous_is_own = False
        else:
            names.add(part.split(".")[0])
            previous_is_own = True
    if not names:
        raise Unscoped(f"{text!r} names none of the stack's resources")
    return names


# ------------------------------------------------------------------ the checks
FUNCTION_NAMES = sorted(functions())


def _allowed(function_name: str) -> Iterator[tuple[Grant, list[str], list[Any]]]:
    for grant in grants_of(function_name):
        statement = grant.statement
        if statement.get("Effect") != "Allow":
            continue
        yield grant, [str(a) for a in _items(statement.get("Action", []))], _items(statement.get("Resource", []))


def test_the_reach_table_has_one_row_per_function():
    assert set(REACH) == set(functions()), "add (or remove) the function's row in REACH_TABLE"


@pytest.mark.parametrize("name", sorted(REACH))
def test_the_reach_table_names_resources_of_the_right_kind(name):
    template_resources = resources()
    for service, logical_ids in REACH[name].items():
        for logical_id in logical_ids:
            assert logical_id in template_resources, f"{name}: {logical_id} is not in template.yaml"
            assert template_resources[logical_id]["Type"] == RESOURCE_TYPE_OF_SERVICE[service], (name, logical_id)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_each_event_source_of_a_function_is_in_its_reach(name):
    for event in functions()[name]["Properties"].get("Events", {}).values():
        source = event["Properties"]
        if event["Type"] == "SQS":
            assert source["Queue"]["GetAtt"][0] in REACH[name].get("sqs", set()), name
        elif event["Type"] == "DynamoDB":
            assert source["Stream"]["GetAtt"][0] in REACH[name].get("dynamodb", set()), name


def test_each_function_has_a_role_of_its_own_that_only_lambda_assumes():
    roles = {name: _role_of(name) for name in FUNCTION_NAMES}

    assert len(set(roles.values())) == len(roles), roles
    for name, role in roles.items():
        trust = built.resources("AWS::IAM::Role")[role]["Properties"]["AssumeRolePolicyDocument"]
        for statement in _items(trust["Statement"]):
            principal = statement["Principal"]
            assert set(principal) == {"Service"}, (name, statement)
            assert _items(principal["Service"]) == ["lambda.amazonaws.com"], (name, statement)
            assert _items(statement["Action"]) == ["sts:AssumeRole"], (name, statement)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_managed_policy_is_known(name):
    """A managed policy's statements are checked like inline ones only when this test
    knows them: AWS managed policies listed above, or AWS::IAM::ManagedPolicy here."""
    role = built.resources("AWS::IAM::Role")[_role_of(name)]["Properties"]
    unknown = [
        arn
        for arn in _items(role.get("ManagedPolicyArns", []))
        if not (isinstance(arn, dict) and arn.get("Ref") in built.resources("AWS::IAM::ManagedPolicy"))
        and _managed_policy_name(arn) not in AWS_MANAGED_POLICIES
    ]

    assert unknown == []


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_no_wildcard_or_negated_actions(name):
    problems = []
    for grant in grants_of(name):
        if {"NotAction", "NotResource", "NotPrincipal"} & set(grant.statement):
            problems.append(f"{grant.source}: NotAction/NotResource in {grant.statement}")
        for action in _items(grant.statement.get("Action", [])):
            if "*" in str(action) or "?" in str(action):
                problems.append(f"{grant.source}: service-wide action {action!r}")

    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_data_actions_touch_only_the_functions_own_resources(name):
    reach = REACH.get(name, {})
    problems = []
    for grant, actions, targets in _allowed(name):
        for service in sorted({action.split(":")[0].lower() for action in actions} - RESOURCELESS_SERVICES):
            own = reach.get(service, set())
            what = ", ".join(a for a in actions if a.lower().startswith(f"{service}:"))
            if not own:
                problems.append(f"{grant.source}: {what}, but {name} may not call {service} at all")
                continue
            for target in targets:
                try:
                    names = referenced(target)
                except Unscoped as error:
                    problems.append(f"{grant.source}: {what} on {error}")
                    continue
                if not names <= own:
                    problems.append(f"{grant.source}: {what} on {sorted(names - own)}, not {name}'s")

    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_resource_in_the_reach_table_is_granted_by_reference(name):
    """With the test above, the table is exact: what a row names is what the role grants."""
    granted: dict[str, set[str]] = {}
    for _, actions, targets in _allowed(name):
        for service in {action.split(":")[0].lower() for action in actions} - RESOURCELESS_SERVICES:
            for target in targets:
                try:
                    granted.setdefault(service, set()).update(referenced(target))
                except Unscoped:
                    granted.setdefault(service, set())  # reported by the test above

    missing = {
        f"{service}: {logical_id}"
        for service, logical_ids in REACH.get(name, {}).items()
        for logical_id in logical_ids
        if logical_id not in granted.get(service, set())
    }

    assert missing == set(), (
        f"{name}'s row names resources that no statement grants by reference (a stale row, or a grant only through '*')"
    )
