"""Sample invocation payloads (for `sam local invoke -e`) and the event catalogue
are generated from the models; they must be up to date and valid."""

from __future__ import annotations

import json

import pytest

from choreography import docs, samples
from choreography.catalogue import SUBSCRIPTIONS
from events.models import parse_event
from order_service.models.api import PlaceOrderRequest
from order_service.models.sweep import SweepRequest
from tests.contract.template import functions

GENERATED = samples.generate()


def test_every_function_has_a_sample_event():
    assert set(GENERATED) == set(functions())


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_sample_files_are_up_to_date(name):
    path = samples.SAMPLES_DIR / f"{name}.json"

    assert path.is_file(), "run: python -m choreography.samples --write"
    assert path.read_text() == samples.render(GENERATED[name]), "run: python -m choreography.samples --write"


@pytest.mark.parametrize("subscription", SUBSCRIPTIONS, ids=lambda s: s.function)
def test_consumer_samples_validate_against_the_models(subscription):
    sample = json.loads((samples.SAMPLES_DIR / f"{subscription.function}.json").read_text())

    events = [parse_event(record["body"]) for record in sample["Records"]]

    assert [e.event_type for e in events] == list(subscription.event_types)
    for record, event in zip(sample["Records"], events, strict=True):
        assert record["messageAttributes"]["event_type"]["stringValue"] == event.event_type.value


def test_the_outbox_sample_carries_a_valid_event():
    sample = json.loads((samples.SAMPLES_DIR / "OrderOutboxFunction.json").read_text())

    [record] = sample["Records"]
    assert record["eventName"] == "INSERT"
    assert parse_event(record["dynamodb"]["NewImage"]["event"]["S"]).event_type == "ORDER_CREATED"


def test_the_sweeper_sample_is_a_scheduled_event_that_sweeps_at_the_configured_age():
    sample = json.loads((samples.SAMPLES_DIR / "OrderOutboxSweepFunction.json").read_text())

    assert sample["detail-type"] == "Scheduled Event"
    assert SweepRequest.model_validate(sample).older_than_seconds is None


def test_the_api_sample_is_a_valid_order_request():
    sample = json.loads((samples.SAMPLES_DIR / "OrderApiFunction.json").read_text())

    PlaceOrderRequest.model_validate_json(sample["body"])
    assert sample["requestContext"]["authorizer"]["claims"]["sub"]


def test_the_event_catalogue_is_up_to_date():
    assert docs.CATALOGUE_PATH.read_text() == docs.render(), "run: python -m choreography.docs --write"
