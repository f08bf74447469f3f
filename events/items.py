"""Rows as DynamoDB items and back: the one mapping of every store.

A row is a mapping of JSON-like values (what `model_dump(mode="json")` gives):
strings are stored as S, numbers (int, float, Decimal) as N, booleans as BOOL, None as
NULL, mappings as M, lists and tuples as L, sets of strings as SS and of numbers as NS,
bytes as B: the types boto3's TypeSerializer writes, so an item reads the same in the
console, the CLI or boto3. None at the top level is left out (the attribute is absent,
which is what `attribute_not_exists` conditions test).

Read back, numbers are int when whole and float otherwise (not Decimal: the models
want ints), sets are sorted lists. Standard library only: every store imports this at
cold start.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

Item = dict[str, dict[str, Any]]


def to_attribute(value: Any) -> dict[str, Any]:
    """One value as a DynamoDB attribute value."""
    if isinstance(value, bool):  # before int: bool is an int
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(key): to_attribute(val) for key, val in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(val) for val in value]}
    if isinstance(value, Set):
        if not value:
            raise ValueError("DynamoDB stores no empty set: leave the attribute out")
        if all(isinstance(val, str) for val in value):
            return {"SS": sorted(value)}
        if all(isinstance(val, int | float | Decimal) and not isinstance(val, bool) for val in value):
            return {"NS": [str(val) for val in sorted(value)]}
        raise TypeError(f"a set must hold only strings or only numbers, got {value!r}")
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value as a plain value."""
    [(kind, value)] = attribute.items()
    if kind == "N":
        return _number(value)
    if kind in ("S", "BOOL", "B"):
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: from_attribute(val) for key, val in value.items()}
    if kind == "L":
        return [from_attribute(val) for val in value]
    if kind == "SS":
        return sorted(value)
    if kind == "NS":
        return sorted(_number(val) for val in value)
    raise TypeError(f"unknown DynamoDB type {kind}")


def to_item(values: Mapping[str, Any]) -> Item:
    """A row as an item; None values are left out."""
    return {name: to_attribute(value) for name, value in values.items() if value is not None}


def from_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {name: from_attribute(value) for name, value in item.items()}


def model_to_item(model: BaseModel) -> Item:
    """A pydantic row as an item: its JSON form (times as ISO 8601 text, enums as their
    values); fields that are None are left out."""
    return to_item(model.model_dump(mode="json", exclude_none=True))


def _number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)
