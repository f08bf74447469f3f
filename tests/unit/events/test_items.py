"""The one mapping between rows and DynamoDB items (events/items.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel

from events.items import from_attribute, from_item, model_to_item, to_attribute, to_item


class Status(StrEnum):
    OPEN = "OPEN"


class Row(BaseModel):
    order_id: str
    status: Status
    amount_cents: int
    rate: float
    created_at: datetime
    announced: bool = False
    note: str | None = None


ROW = Row(
    order_id="o-1",
    status=Status.OPEN,
    amount_cents=4597,
    rate=0.2,
    created_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    announced=True,
)


def test_a_model_is_stored_as_its_json_form_with_numbers_and_booleans_typed() -> None:
    assert model_to_item(ROW) == {
        "order_id": {"S": "o-1"},
        "status": {"S": "OPEN"},
        "amount_cents": {"N": "4597"},
        "rate": {"N": "0.2"},
        "created_at": {"S": "2026-11-30T12:00:00Z"},
        "announced": {"BOOL": True},
    }  # `note` is None: left out, so attribute_not_exists(note) holds


def test_a_stored_model_reads_back_equal() -> None:
    assert Row.model_validate(from_item(model_to_item(ROW))) == ROW


# Every type the stores write, as boto3's TypeSerializer writes it.
VALUES: list[Any] = [
    "text",
    "",
    0,
    -7,
    12345678901234567890,
    Decimal("12.50"),
    True,
    False,
    None,
    b"\x00bytes",
    {"nested": {"list": [1, "two", None, False]}},
    ["a", 1],
    {"b", "a"},
    {3, 1, 2},
]


def _id(value: Any) -> str:
    """A test id the same in every process: a set's repr follows the hash seed."""
    return repr(sorted(value, key=repr)) if isinstance(value, set | frozenset) else repr(value)


@pytest.mark.parametrize("value", VALUES, ids=_id)
def test_attributes_are_what_boto3_writes_and_reads(value: Any) -> None:
    attribute = to_attribute(value)

    expected = TypeSerializer().serialize(value)
    if "SS" in expected or "NS" in expected:  # boto3 keeps the set's iteration order
        kind = next(iter(expected))
        expected = {kind: sorted(expected[kind], key=lambda v: Decimal(v) if kind == "NS" else v)}
    assert attribute == expected
    boto3_value = TypeDeserializer().deserialize(attribute)
    assert _plain(from_attribute(attribute)) == _plain(boto3_value)


def _plain(value: Any) -> Any:
    """boto3 reads numbers as Decimal and sets as sets; the mapping gives ints and lists."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, set | list):
        items = [_plain(val) for val in value]
        return sorted(items, key=repr) if isinstance(value, set) else items
    if isinstance(value, dict):
        return {key: _plain(val) for key, val in value.items()}
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3's Binary
        return value.value
    return value


def test_numbers_read_back_as_ints_when_whole_and_floats_otherwise() -> None:
    assert from_attribute({"N": "4597"}) == 4597
    assert isinstance(from_attribute({"N": "4597"}), int)
    assert from_attribute({"N": "1E+2"}) == 100
    assert from_attribute({"N": "0.25"}) == 0.25
    assert from_attribute({"NS": ["3", "1.5"]}) == [1.5, 3]


def test_top_level_none_is_left_out_nested_none_is_null() -> None:
    assert to_item({"a": None, "b": {"c": None}}) == {"b": {"M": {"c": {"NULL": True}}}}


def test_what_dynamodb_cannot_store_is_refused() -> None:
    with pytest.raises(ValueError, match="empty set"):
        to_attribute(set())
    with pytest.raises(TypeError, match="only strings or only numbers"):
        to_attribute({"a", 1})
    with pytest.raises(TypeError, match="no DynamoDB type"):
        to_attribute(object())
