"""The published event contract and the OpenAPI document: committed, fresh, valid, and
guarded against breaking changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
import pytest
from pydantic import BaseModel, Field

from choreography import samples
from choreography.catalogue import SUBSCRIPTIONS
from events.models import EVENT_CLASSES, EventType, OrderCreated, OrderCreatedData, parse_event
from scripts import contracts
from scripts.compat import NARROWED, WIDENED, breaking_changes
from tests.contract.template import subscription_for

ASYNCAPI_SCHEMA = Path(__file__).parent / "asyncapi" / "asyncapi-3.0.0.schema.json"


# ---------------------------------------------------------------- committed and fresh
def test_every_event_schema_is_committed_fresh_and_not_broken() -> None:
    breaking, stale = contracts.event_problems()
    assert not breaking, "breaking changes without a new event_version:\n" + "\n".join(breaking)
    assert not stale, "run `python -m scripts.contracts --write`:\n" + "\n".join(stale)


def test_the_asyncapi_and_openapi_documents_are_committed_and_fresh() -> None:
    assert json.loads(contracts.ASYNCAPI.read_text()) == contracts.asyncapi()
    committed = json.loads(contracts.OPENAPI.read_text())
    generated = contracts.openapi()
    assert not contracts.openapi_problems(committed, generated)
    assert committed == generated, "run `python -m scripts.contracts --write`"


def test_the_asyncapi_document_is_valid_against_the_official_asyncapi_3_schema() -> None:
    validator = jsonschema_rs.validator_for(json.loads(ASYNCAPI_SCHEMA.read_text()))
    document = json.loads(contracts.ASYNCAPI.read_text())
    errors = [f"{list(error.instance_path)}: {error.message[:200]}" for error in validator.iter_errors(document)]
    assert not errors, "\n".join(errors)
    broken = {**document, "operations": {"x": {"action": "publish", "channel": {"$ref": "#/channels/OrderEvents"}}}}
    assert not validator.is_valid(broken)  # the validator does check (v3 says send/receive)


def test_the_asyncapi_document_has_every_message_and_each_subscriptions_filter_from_the_template() -> None:
    document = contracts.asyncapi()
    assert set(document["components"]["messages"]) == {f"{c.TYPE.value}.v1" for c in EVENT_CLASSES}
    for subscription in SUBSCRIPTIONS:
        channel = document["channels"][subscription.queue]
        deployed = subscription_for(subscription.queue)["Properties"]
        assert channel["x-sns-subscription"]["filterPolicy"] == deployed["FilterPolicy"]
        assert channel["x-sns-subscription"]["filterPolicyScope"] == deployed["FilterPolicyScope"]
        assert document["operations"][f"{subscription.function}.receive"]["action"] == "receive"


# ---------------------------------------------------------------- consumers tolerate additions
def _with_unknown_fields(envelope: dict[str, Any]) -> dict[str, Any]:
    data = envelope["data"]
    order = {
        **data["order"],
        "loyalty_tier": "gold",
        "lines": [{**line, "gift_wrap": True} for line in data["order"]["lines"]],
    }
    return {**envelope, "trace_flags": {"sampled": True}, "data": {**data, "order": order, "channel": "mobile"}}


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.TYPE.value)
def test_a_consumer_of_version_n_accepts_version_n_with_fields_it_does_not_know(cls: Any) -> None:
    event = samples.sample_chain()[cls.TYPE]
    wire = json.loads(event.model_dump_json())
    extended = _with_unknown_fields(wire)

    assert parse_event(json.dumps(extended)) == event  # what every consumer's parser does
    schema = json.loads(contracts.event_schema_path(cls).read_text())
    validator = jsonschema_rs.validator_for(schema)
    assert validator.is_valid(wire) and validator.is_valid(extended)  # and a consumer in another language
    assert not validator.is_valid({**wire, "event_version": 2})


# ---------------------------------------------------------------- the breaking-change check
class _Line(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class _V1(BaseModel):
    order_id: str
    status: Literal["PAID", "SHIPPED"]
    lines: list[_Line]
    note: str | None = None


class _RemovedField(BaseModel):
    status: Literal["PAID", "SHIPPED"]
    lines: list[_Line]
    note: str | None = None


class _RenamedField(BaseModel):
    order: str
    status: Literal["PAID", "SHIPPED"]
    lines: list[_Line]
    note: str | None = None


class _TypeChanged(BaseModel):
    order_id: int
    status: Literal["PAID", "SHIPPED"]
    lines: list[_Line]
    note: str | None = None


class _NewRequiredField(_V1):
    carrier: str


class _NewOptionalField(_V1):
    carrier: str | None = None


class _NarrowedEnum(BaseModel):
    order_id: str
    status: Literal["PAID"]
    lines: list[_Line]
    note: str | None = None


class _WidenedEnum(BaseModel):
    order_id: str
    status: Literal["PAID", "SHIPPED", "LOST"]
    lines: list[_Line]
    note: str | None = None


class _TighterNestedBound(BaseModel):
    order_id: str
    status: Literal["PAID", "SHIPPED"]
    lines: list[_LineAtLeastTwo]
    note: str | None = None


class _LineAtLeastTwo(BaseModel):
    sku: str
    quantity: int = Field(gt=1)


_TighterNestedBound.model_rebuild()


class _OptionalMadeRequired(BaseModel):
    order_id: str
    status: Literal["PAID", "SHIPPED"]
    lines: list[_Line]
    note: str


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (_RemovedField, [("$.order_id", WIDENED, "required field removed")]),
        (
            _RenamedField,
            [("$.order_id", WIDENED, "required field removed"), ("$.order", NARROWED, "new required field")],
        ),
        (
            _TypeChanged,
            [("$.order_id", NARROWED, "type string -> integer"), ("$.order_id", WIDENED, "type string -> integer")],
        ),
        (_NewRequiredField, [("$.carrier", NARROWED, "new required field")]),
        (_NarrowedEnum, [("$.status", NARROWED, "'SHIPPED' removed")]),
        (_WidenedEnum, [("$.status", WIDENED, "'LOST' added")]),
        (_TighterNestedBound, [("$.lines[].quantity", NARROWED, "exclusiveMinimum 0 -> 1")]),
        (
            _OptionalMadeRequired,
            [("$.note", NARROWED, "now required"), ("$.note", NARROWED, "type null|string -> string")],
        ),
        (_NewOptionalField, []),
        (_V1, []),
    ],
    ids=lambda value: value.__name__.strip("_") if isinstance(value, type) else "",
)
def test_the_checker_finds_each_kind_of_breaking_change(model: type[BaseModel], expected: list[Any]) -> None:
    changes = breaking_changes(_V1.model_json_schema(), model.model_json_schema())
    found = [(c.path, c.kind, c.what) for c in changes]
    assert len(found) == len(expected), found
    for (path, kind, what), (want_path, want_kind, want_what) in zip(sorted(found), sorted(expected), strict=True):
        assert (path, kind) == (want_path, want_kind) and want_what in what, found


class _OrderCreatedDataWithoutToken(BaseModel):
    order: Any


def _order_created_variant(version: int, data: type[BaseModel]) -> type[OrderCreated]:
    """ORDER_CREATED as a developer might change it: `data` without the payment token."""

    class Changed(OrderCreated):
        # The ignore below: a Literal of a runtime value: a model built on purpose at test time
        event_version: Literal[version] = version  # type: ignore[valid-type]
        # The ignore below: a field typed by a runtime class: a model built on purpose at test time
        data: data  # type: ignore[valid-type]

    Changed.TYPE = EventType.ORDER_CREATED
    return Changed


def test_a_breaking_change_to_a_committed_event_fails_unless_its_event_version_is_bumped(tmp_path: Path) -> None:
    committed = contracts.event_schema_path(OrderCreated).read_text()
    (tmp_path / contracts.event_schema_path(OrderCreated).name).write_text(committed)

    same_version = _order_created_variant(1, _OrderCreatedDataWithoutToken)
    breaking, _ = contracts.event_problems((same_version,), tmp_path)
    assert any("payment_token: required field removed" in problem for problem in breaking), breaking

    bumped = _order_created_variant(2, _OrderCreatedDataWithoutToken)
    breaking, stale = contracts.event_problems((bumped,), tmp_path)
    assert breaking == [] and stale == ["ORDER_CREATED.v2.json: not generated yet"]

    unchanged = _order_created_variant(1, OrderCreatedData)
    assert contracts.event_problems((unchanged,), tmp_path)[0] == []


def test_the_openapi_check_catches_what_breaks_a_client() -> None:
    committed = json.loads(contracts.OPENAPI.read_text())
    changed = json.loads(json.dumps(committed))
    del changed["paths"]["/orders/{order_id}/payment"]
    order_view = changed["components"]["schemas"]["OrderView"]
    order_view["required"].remove("status")  # a response field clients rely on, now optional
    place = changed["components"]["schemas"]["PlaceOrderRequest"]
    place["required"].append("coupon")  # a request field old clients never send
    place["properties"]["coupon"] = {"type": "string"}

    problems = contracts.openapi_problems(committed, changed)
    assert "GET /orders/{order_id}/payment: operation removed" in problems
    assert any("POST /orders request body $.coupon: new required field" in p for p in problems), problems
    assert any("GET /orders/{order_id} 200 response $.status: no longer required" in p for p in problems), problems
    major = int(committed["info"]["version"].split(".")[0])
    bumped = {**changed, "info": {**changed["info"], "version": f"{major + 1}.0.0"}}
    assert contracts.openapi_problems(committed, bumped) == []
