"""The order service's handlers under moto, with their tables, topic and KMS key."""

from __future__ import annotations

import pytest

from tests import builders
from tests.integration.conftest import load_handler
from tests.integration.order_service.tables import create_order_tables, outbox_stream_event


@pytest.fixture
def env(topic):
    return {**create_order_tables({"LAMP-001": 3}), "ORDER_EVENTS_TOPIC_ARN": topic.topic_arn}


@pytest.fixture
def api(env, monkeypatch):
    return load_handler("order_service.handlers.api", env, monkeypatch)


@pytest.fixture
def relay(env, monkeypatch):
    """Runs the outbox relay over what the outbox table holds, as its stream would."""
    module = load_handler("order_service.handlers.relay_outbox", env, monkeypatch)
    return lambda: module.handler(outbox_stream_event(), builders.lambda_context("outbox-relay"))
