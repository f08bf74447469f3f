"""Breaking-change check between two JSON Schemas (an event's, or a part of the OpenAPI
document), as the published contract needs it.

Every difference is classified by what it does to the set of valid documents:
- NARROWED: something valid under the old schema is invalid under the new one (a removed
  type, enum value or const, a tighter bound or pattern, a new required field, an optional
  field made required, extra properties forbidden). A reader of the new schema rejects
  what an old writer still sends (events in flight, clients not yet upgraded).
- WIDENED: something invalid under the old schema is valid under the new one (a required
  field removed or renamed, made optional, a new type or enum value, a looser bound). A
  reader of the old schema rejects, or misses a field it relies on in, what a new writer
  sends.

Which kinds break depends on who reads: an event is written and read by services deployed
independently, so both kinds break it; an API request only NARROWED (the server is the
reader); an API response only WIDENED (the client is).

Adding an optional field is neither: pydantic models (and the contract) ignore unknown
fields, so old readers skip it and new readers default it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NARROWED = "narrowed"
WIDENED = "widened"

_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # NARROWED or WIDENED
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what} ({self.kind})"


def breaking_changes(
    old: dict[str, Any], new: dict[str, Any], kinds: tuple[str, ...] = (NARROWED, WIDENED)
) -> list[Change]:
    """The differences from `old` to `new` of the given kinds (both roots resolve their own `$ref`s)."""
    changes = _Comparison(old, new).compare(old, new, "$")
    return [change for change in changes if change.kind in kinds]


class _Comparison:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]) -> None:
        self.roots = (old_root, new_root)
        self.seen: set[tuple[str, str, str]] = set()

    def compare(self, old: Any, new: Any, path: str) -> list[Change]:
        key = (
            path,
            str(old.get("$ref")) if isinstance(old, dict) else "",
            str(new.get("$ref")) if isinstance(new, dict) else "",
        )
        if key in self.seen:  # a recursive schema
            return []
        self.seen.add(key)
        old, new = _resolve(old, self.roots[0]), _resolve(new, self.roots[1])
        changes: list[Change] = []
        changes += self._types(old, new, path)
        changes += self._values(old, new, path)
        changes += self._bounds(old, new, path)
        changes += self._objects(old, new, path)
        old_items, new_items = self._items(old, self.roots[0]), self._items(new, self.roots[1])
        if old_items is not None and new_items is not None:
            changes += self.compare(old_items, new_items, path + "[]")
        return changes

    # ---------------------------------------------------------------- parts
    def _branches(self, schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                return [b for branch in schema[keyword] for b in self._branches(_resolve(branch, root), root)]
        return [schema]

    def _type_set(self, schema: dict[str, Any], root: dict[str, Any]) -> set[str] | None:
        types: set[str] = set()
        for branch in self._branches(schema, root):
            if "type" in branch:
                declared = branch["type"]
                types |= set(declared) if isinstance(declared, list) else {declared}
            elif "const" in branch or "enum" in branch:
                values = [branch["const"]] if "const" in branch else branch["enum"]
                types |= {_json_type(value) for value in values}
            elif "properties" in branch:
                types.add("object")
            else:
                return None  # unconstrained
        if "integer" in types and "number" in types:
            types.discard("integer")
        return types

    def _types(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Change]:
        before, after = self._type_set(old, self.roots[0]), self._type_set(new, self.roots[1])
        changes = []
        if after is not None and (before is None or _missing(before, after)):
            lost = sorted(_missing(before, after)) if before is not None else ["any"]
            changes.append(
                Change(path, NARROWED, f"type {_fmt(before)} -> {_fmt(after)} (no longer {', '.join(lost)})")
            )
        if before is not None and (after is None or _missing(after, before)):
            gained = sorted(_missing(after, before)) if after is not None else ["any"]
            changes.append(
                Change(path, WIDENED, f"type {_fmt(before)} -> {_fmt(after)} (now also {', '.join(gained)})")
            )
        return changes

    def _value_set(self, schema: dict[str, Any], root: dict[str, Any]) -> set[str] | None:
        values: set[str] = set()
        for branch in self._branches(schema, root):
            if "const" in branch:
                values.add(repr(branch["const"]))
            elif "enum" in branch:
                values |= {repr(value) for value in branch["enum"]}
            elif branch.get("type") == "null":
                values.add("None")
            else:
                return None
        return values

    def _values(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Change]:
        before, after = self._value_set(old, self.roots[0]), self._value_set(new, self.roots[1])
        changes = []
        if after is not None and (before is None or before - after):
            removed = sorted(before - after) if before is not None else ["any other value"]
            changes.append(Change(path, NARROWED, f"allowed values narrowed: {', '.join(removed)} removed"))
        if before is not None and (after is None or after - before):
            added = sorted(after - before) if after is not None else ["any value"]
            changes.append(Change(path, WIDENED, f"allowed values widened: {', '.join(added)} added"))
        return changes

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Change]:
        changes = []
        for key in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
            before, after = _bound(old, key, self.roots[0]), _bound(new, key, self.roots[1])
            if before == after:
                continue
            lower = key in _LOWER_BOUNDS
            if after is not None and (before is None or (after > before if lower else after < before)):
                changes.append(Change(path, NARROWED, f"{key} {before} -> {after}"))
            else:
                changes.append(Change(path, WIDENED, f"{key} {before} -> {after}"))
        before, after = _bound(old, "pattern", self.roots[0]), _bound(new, "pattern", self.roots[1])
        if before != after:
            what = f"pattern {before!r} -> {after!r}"
            if after is not None:
                changes.append(Change(path, NARROWED, what))
            if before is not None:
                changes.append(Change(path, WIDENED, what))
        return changes

    def _object(self, schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
        objects = [b for b in self._branches(schema, root) if "properties" in b or b.get("type") == "object"]
        return objects[0] if objects else None

    def _objects(self, old: dict[str, Any], new: dict[str, Any], path: str) -> list[Change]:
        before, after = self._object(old, self.roots[0]), self._object(new, self.roots[1])
        if before is None or after is None:
            return []
        changes: list[Change] = []
        old_props, new_props = before.get("properties", {}), after.get("properties", {})
        old_required, new_required = set(before.get("required", [])), set(after.get("required", []))
        for name, schema in old_props.items():
            where = f"{path}.{name}"
            if name not in new_props:
                if name in old_required:
                    changes.append(Change(where, WIDENED, "required field removed (or renamed)"))
                if after.get("additionalProperties") is False:
                    changes.append(Change(where, NARROWED, "field removed and extra fields forbidden"))
                continue
            if name in old_required and name not in new_required:
                changes.append(Change(where, WIDENED, "no longer required"))
            if name in new_required and name not in old_required:
                changes.append(Change(where, NARROWED, "now required"))
            changes += self.compare(schema, new_props[name], where)
        for name in new_required - set(old_props):
            changes.append(Change(f"{path}.{name}", NARROWED, "new required field"))
        if after.get("additionalProperties") is False and before.get("additionalProperties") is not False:
            changes.append(Change(path, NARROWED, "extra fields now forbidden"))
        if before.get("additionalProperties") is False and after.get("additionalProperties") is not False:
            changes.append(Change(path, WIDENED, "extra fields now allowed"))
        return changes

    def _items(self, schema: dict[str, Any], root: dict[str, Any]) -> Any:
        arrays = [b for b in self._branches(schema, root) if "items" in b]
        return arrays[0]["items"] if arrays else None


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        pointer = str(schema["$ref"])
        if not pointer.startswith("#/"):
            raise ValueError(f"only local references are supported: {pointer}")
        target: Any = root
        for part in pointer[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        extra = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**target, **extra}
    return schema if isinstance(schema, dict) else {}


def _bound(schema: dict[str, Any], key: str, root: dict[str, Any]) -> Any:
    if key in schema:
        return schema[key]
    for keyword in ("anyOf", "oneOf"):  # `X | None`: the bound sits on the non-null branch
        values = [
            _resolve(b, root).get(key) for b in schema.get(keyword, []) if _resolve(b, root).get("type") != "null"
        ]
        if len(values) == 1:
            return values[0]
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _missing(before: set[str], after: set[str]) -> set[str]:
    """Types of `before` that `after` does not take (an integer is a number)."""
    return {t for t in before if t not in after and not (t == "integer" and "number" in after)}


def _fmt(types: set[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types))
