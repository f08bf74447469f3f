"""parse_event validates with the one model its event_type names (each function builds
only the models it receives); anything else goes through the union of every event."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from choreography.samples import sample_chain
from events.models import EVENT_CLASSES, InvoiceCreated, OrderCreated, parse_event


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda c: c.TYPE.value)
def test_every_event_type_parses_to_its_own_class(event_class) -> None:
    event = sample_chain()[event_class.TYPE]
    parsed = parse_event(event.model_dump_json())
    assert type(parsed) is event_class
    assert parsed == event


def test_an_envelope_whose_data_belongs_to_another_type_is_rejected() -> None:
    body = json.loads(sample_chain()[OrderCreated.TYPE].model_dump_json())
    body["event_type"] = InvoiceCreated.TYPE.value  # ORDER_CREATED's data lacks the invoice fields
    with pytest.raises(ValidationError):
        parse_event(json.dumps(body))


@pytest.mark.parametrize(
    "raw",
    ['{"event_type": "NO_SUCH_EVENT"}', "{}", "[]", '{"event_type": ["ORDER_CREATED"]}', "not json", ""],
)
def test_anything_else_is_a_validation_error(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_event(raw)
