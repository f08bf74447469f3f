"""The event catalogue docs/events.md, generated from the event models and the
consumer catalogue (choreography/catalogue.py).

    python -m choreography.docs            print the catalogue (Markdown)
    python -m choreography.docs --write    regenerate docs/events.md
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from choreography.catalogue import consumers_of
from events.models import EVENT_CLASSES, EventType


def _consumer_names(event_type: EventType) -> list[str]:
    return [f"{c.service} ({c.function})" for c in consumers_of(event_type)]


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        nested = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        type_name = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        if name == "payment_token":
            type_name = "string (secret)"
        rows.append((prefix + name, type_name, field.description or ""))
        if nested is not None and nested.__name__ != "OrderSnapshot":
            rows += _fields(nested, prefix + name + ".")
    return rows


def render() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated from `events/models.py` and `choreography/catalogue.py` by `python -m choreography.docs --write`;",
        "a contract test fails when this file is out of date. Do not edit by hand.",
        "",
        "Every event travels on the `OrderEvents` SNS topic as JSON in this envelope, with the",
        "message attributes `event_type`, `event_version` and `order_id` (the subscriptions'",
        "filter policies match `event_type`).",
        "",
        "| envelope field | meaning |",
        "|---|---|",
    ]
    envelope = EVENT_CLASSES[0]
    for name, field in envelope.model_fields.items():
        if name != "data":
            lines.append(f"| `{name}` | {field.description or ''} |")
    lines += [
        "| `data` | the event's payload, below |",
        "",
        "`data.order` (every event) is the order snapshot: `customer_email`, `lines` (`sku`, `name`,",
        "`quantity`, `unit_price_cents`, `line_total_cents`), `total_cents`, `currency`, `shipping_address`",
        "(`name`, `line1`, `line2`, `city`, `postal_code`, `country`). Amounts are integer cents.",
        "",
        "| event type | version | producer | consumers | meaning |",
        "|---|---|---|---|---|",
    ]
    for cls in EVENT_CLASSES:
        version = cls.model_fields["event_version"].default
        lines.append(
            f"| `{cls.TYPE.value}` | {version} | {cls.PRODUCER.value} | "
            f"{', '.join(_consumer_names(cls.TYPE))} | {cls.DESCRIPTION} |"
        )
    for cls in EVENT_CLASSES:
        data_model = cls.model_fields["data"].annotation
        assert isinstance(data_model, type) and issubclass(data_model, BaseModel)
        lines += ["", f"## {cls.TYPE.value}", "", cls.DESCRIPTION, "", "| data field | type | note |", "|---|---|---|"]
        for name, type_name, note in _fields(data_model):
            lines.append(f"| `{name}` | {type_name} | {note} |")
    return "\n".join(lines) + "\n"


CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "docs" / "events.md"


def main(argv: list[str]) -> int:
    text = render()
    if "--write" in argv:
        CATALOGUE_PATH.parent.mkdir(exist_ok=True)
        CATALOGUE_PATH.write_text(text)
        print(f"wrote {CATALOGUE_PATH}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
