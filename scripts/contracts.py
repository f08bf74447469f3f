"""The published contract, generated and committed under docs/:

- docs/schemas/events/<EVENT_TYPE>.v<N>.json  a JSON Schema (2020-12) per event type and
  version, from the pydantic models (what a consumer accepts);
- docs/asyncapi.json  an AsyncAPI 3.0 document of the topic, every message type, every
  subscription with its filter policy, generated from choreography/catalogue.py;
- docs/openapi.json   the REST API's OpenAPI 3.1 document (the one GET /openapi.json serves).

    python -m scripts.contracts            check: exit 1 if a file is stale or a change is breaking
    python -m scripts.contracts --write    regenerate the files; refuses a breaking change to a
                                           committed event schema (bump `event_version`: the old
                                           version's file stays, as consumers still accept it) or to
                                           the OpenAPI document (bump the API's major version)

Breaking is decided by scripts/compat.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from choreography.catalogue import SELF_SCHEDULED, SUBSCRIPTIONS
from events.models import EVENT_CLASSES, Event
from scripts.compat import NARROWED, WIDENED, Change, breaking_changes

ROOT = Path(__file__).resolve().parent.parent
EVENT_SCHEMAS = ROOT / "docs" / "schemas" / "events"
ASYNCAPI = ROOT / "docs" / "asyncapi.json"
OPENAPI = ROOT / "docs" / "openapi.json"
TOPIC = "OrderEvents"
FILTER_POLICY_SCOPE = "MessageAttributes"


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- events
def version_of(cls: type[Event[Any]]) -> int:
    return int(cls.model_fields["event_version"].default)


def event_schema_path(cls: type[Event[Any]], directory: Path = EVENT_SCHEMAS) -> Path:
    return directory / f"{cls.TYPE.value}.v{version_of(cls)}.json"


def event_schema(cls: type[Event[Any]]) -> dict[str, Any]:
    schema = cls.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:order-choreography:event:{cls.TYPE.value}:v{version_of(cls)}",
        **schema,
        "title": f"{cls.TYPE.value} v{version_of(cls)}",
        "description": f"{cls.DESCRIPTION} Published by {cls.PRODUCER.value} on the {TOPIC} topic. "
        "Consumers ignore fields they do not know; a breaking change is a new event_version.",
    }


def event_problems(
    classes: tuple[type[Event[Any]], ...] = EVENT_CLASSES, directory: Path = EVENT_SCHEMAS
) -> tuple[list[str], list[str]]:
    """(breaking, stale): breaking changes of the models against their committed schema of
    the same version, and schema files that differ from the models (or are missing)."""
    breaking, stale = [], []
    for cls in classes:
        path = event_schema_path(cls, directory)
        generated = event_schema(cls)
        if not path.exists():
            stale.append(f"{path.name}: not generated yet")
            continue
        committed = json.loads(path.read_text())
        for change in breaking_changes(committed, generated, (NARROWED, WIDENED)):
            breaking.append(f"{cls.TYPE.value} v{version_of(cls)} {change}")
        if committed != generated:
            stale.append(f"{path.name}: differs from the model")
    return breaking, stale


# ---------------------------------------------------------------- AsyncAPI
def asyncapi() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(cls, "validation") for cls in EVENT_CLASSES], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    message_ids = {cls.TYPE: f"{cls.TYPE.value}.v{version_of(cls)}" for cls in EVENT_CLASSES}
    messages = {
        message_ids[cls.TYPE]: {
            "name": cls.TYPE.value,
            "title": f"{cls.TYPE.value} (event_version {version_of(cls)})",
            "summary": cls.DESCRIPTION,
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/MessageAttributes"},
            "payload": {"$ref": f"#/components/schemas/{cls.__name__}"},
            "x-producer": cls.PRODUCER.value,
            "x-json-schema": f"schemas/events/{event_schema_path(cls).name}",
        }
        for cls in EVENT_CLASSES
    }
    schemas["MessageAttributes"] = {
        "type": "object",
        "description": "SNS message attributes of every event (the subscriptions filter on event_type)",
        "properties": {
            "event_type": {"type": "string", "enum": [cls.TYPE.value for cls in EVENT_CLASSES]},
            "event_version": {"type": "integer", "minimum": 1},
            "order_id": {"type": "string"},
        },
        "required": ["event_type", "event_version", "order_id"],
    }

    def refs(channel: str, event_types: Any) -> list[dict[str, str]]:
        return [{"$ref": f"#/channels/{channel}/messages/{message_ids[t]}"} for t in event_types]

    channels: dict[str, Any] = {
        TOPIC: {
            "address": TOPIC,
            "title": "The order events topic (SNS)",
            "description": "Every event of every order, as JSON in one envelope (raw message delivery to "
            "the subscribed queues). Its subscriptions are the channels below, each an SQS queue "
            "with a filter policy on the `event_type` message attribute and a dead-letter queue.",
            "messages": {
                message_ids[cls.TYPE]: {"$ref": f"#/components/messages/{message_ids[cls.TYPE]}"}
                for cls in EVENT_CLASSES
            },
        }
    }
    operations: dict[str, Any] = {}
    for producer in sorted({cls.PRODUCER for cls in EVENT_CLASSES}, key=lambda p: p.value):
        produced = [cls.TYPE for cls in EVENT_CLASSES if cls.PRODUCER is producer]
        operations[f"{producer.value}.publish"] = {
            "action": "send",
            "title": f"{producer.value} publishes",
            "channel": {"$ref": f"#/channels/{TOPIC}"},
            "messages": refs(TOPIC, produced),
        }
    for subscription in SUBSCRIPTIONS:
        channels[subscription.queue] = {
            "address": subscription.queue,
            "title": f"{subscription.service}'s queue ({subscription.function})",
            "description": f"SQS queue subscribed to {TOPIC}, with a dead-letter queue; raw message delivery.",
            "messages": {
                message_ids[t]: {"$ref": f"#/components/messages/{message_ids[t]}"} for t in subscription.event_types
            },
            "x-sns-subscription": {
                "topic": TOPIC,
                "protocol": "sqs",
                "rawMessageDelivery": True,
                "filterPolicyScope": FILTER_POLICY_SCOPE,
                "filterPolicy": {"event_type": [t.value for t in subscription.event_types]},
            },
        }
        operations[f"{subscription.function}.receive"] = {
            "action": "receive",
            "title": f"{subscription.service} ({subscription.function}) consumes",
            "description": f"Handler `{subscription.handler}`",
            "channel": {"$ref": f"#/channels/{subscription.queue}"},
            "messages": refs(subscription.queue, subscription.event_types),
        }
    for scheduled in SELF_SCHEDULED:
        channels[scheduled.queue] = {
            "address": scheduled.queue,
            "title": f"{scheduled.service}'s own delayed queue ({scheduled.function})",
            "description": f"Not fed by {TOPIC}: {scheduled.service} sends these events to itself with an SQS delay.",
            "messages": {
                message_ids[t]: {"$ref": f"#/components/messages/{message_ids[t]}"} for t in scheduled.event_types
            },
        }
        operations[f"{scheduled.function}.receive"] = {
            "action": "receive",
            "title": f"{scheduled.service} ({scheduled.function}) consumes",
            "description": f"Handler `{scheduled.handler}`",
            "channel": {"$ref": f"#/channels/{scheduled.queue}"},
            "messages": refs(scheduled.queue, scheduled.event_types),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Order choreography events",
            "version": "1.0.0",
            "description": "The events the order services publish and consume. Generated from "
            "events/models.py and choreography/catalogue.py by `python -m scripts.contracts --write`; "
            "the JSON Schema of each event type and version is in docs/schemas/events/.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


# ---------------------------------------------------------------- OpenAPI
def openapi() -> dict[str, Any]:
    """The document GET /openapi.json serves (the handler module needs its settings to import)."""
    for name, value in {
        "ORDERS_TABLE": "orders",
        "PRODUCTS_TABLE": "products",
        "OUTBOX_TABLE": "outbox",
        "IDEMPOTENCY_TABLE": "idempotency",
        "PAYMENT_TOKEN_KEY_ID": "00000000-0000-0000-0000-000000000000",
        "INVOICE_BUCKET": "invoices",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    from order_service.handlers import api, openapi

    return dict(json.loads(openapi.document_json(api.app)))


def _major(document: dict[str, Any]) -> int:
    return int(str(document["info"]["version"]).split(".")[0])


def openapi_breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What a client of `old` would trip over in `new`: an operation gone, a new required
    parameter, a request schema that takes less (NARROWED), a response that may carry
    what the client never saw (WIDENED) or lacks a field it relied on."""
    problems: list[str] = []
    for path, operations in old.get("paths", {}).items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            current = new.get("paths", {}).get(path, {}).get(method)
            if current is None:
                problems.append(f"{label}: operation removed")
                continue
            problems += _parameter_problems(label, operation, current, old, new)
            old_body = _json_schema_of(operation.get("requestBody", {}))
            new_body = _json_schema_of(current.get("requestBody", {}))
            if old_body is not None and new_body is not None:
                problems += _changes(f"{label} request body", old_body, new_body, old, new, (NARROWED,))
            for status, response in operation.get("responses", {}).items():
                before = _json_schema_of(response)
                after = _json_schema_of(current.get("responses", {}).get(status, {}))
                if before is not None and after is not None:
                    problems += _changes(f"{label} {status} response", before, after, old, new, (WIDENED,))
    return problems


def _parameter_problems(label: str, old_op: dict[str, Any], new_op: dict[str, Any], old: Any, new: Any) -> list[str]:
    problems = []
    old_params = {(p["in"], p["name"]): p for p in old_op.get("parameters", [])}
    for key, param in {(p["in"], p["name"]): p for p in new_op.get("parameters", [])}.items():
        before = old_params.get(key)
        if param.get("required") and (before is None or not before.get("required")):
            problems.append(f"{label} parameter {key[1]}: now required")
        if before is not None:
            problems += _changes(
                f"{label} parameter {key[1]}", before["schema"], param["schema"], old, new, (NARROWED,)
            )
    return problems


def _json_schema_of(part: dict[str, Any]) -> dict[str, Any] | None:
    content = part.get("content", {}).get("application/json")
    return content.get("schema") if content else None


def _changes(
    label: str, old: dict[str, Any], new: dict[str, Any], old_root: Any, new_root: Any, kinds: tuple[str, ...]
) -> list[str]:
    # Compare inside the whole documents, so `#/components/schemas/...` references resolve.
    old_doc, new_doc = {**old_root, "__part": old}, {**new_root, "__part": new}
    changes: list[Change] = breaking_changes({**old_doc, "$ref": "#/__part"}, {**new_doc, "$ref": "#/__part"}, kinds)
    return [f"{label} {change}" for change in changes]


def openapi_problems(committed: dict[str, Any] | None, generated: dict[str, Any]) -> list[str]:
    if committed is None or _major(generated) > _major(committed):
        return []
    return openapi_breaking_changes(committed, generated)


# ---------------------------------------------------------------- main
def main(argv: list[str]) -> int:
    write = "--write" in argv
    breaking, stale = event_problems()
    committed_openapi = json.loads(OPENAPI.read_text()) if OPENAPI.exists() else None
    generated_openapi = openapi()
    breaking += [f"OpenAPI {p}" for p in openapi_problems(committed_openapi, generated_openapi)]
    files = {ASYNCAPI: _dump(asyncapi()), OPENAPI: _dump(generated_openapi)}
    files |= {event_schema_path(cls): _dump(event_schema(cls)) for cls in EVENT_CLASSES}
    stale += [path.name for path, text in files.items() if not path.exists() or path.read_text() != text]
    if breaking:
        print("breaking changes (bump event_version, or the API's major version):\n  " + "\n  ".join(breaking))
        return 1
    if not write:
        if stale:
            print("stale (run `python -m scripts.contracts --write`):\n  " + "\n  ".join(sorted(set(stale))))
            return 1
        print("the published contract is up to date")
        return 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
