"""The shipments table adapter against moto's DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from shipment_service.adapters.dynamodb import DynamoDBShipmentStore
from shipment_service.domain.model import Shipment, ShipmentStatus

TABLE = "shipments"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def store() -> DynamoDBShipmentStore:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return DynamoDBShipmentStore(TABLE, client=client)


def booked(order_id: str = "order-1", event_id: str = "evt-1", tracking_number: str = "SP473124829GB") -> Shipment:
    return Shipment(
        order_id=order_id,
        status=ShipmentStatus.BOOKED,
        carrier="SimPost",
        event_id=event_id,
        created_at=NOW,
        shipment_id="shp_1",
        tracking_number=tracking_number,
    )


def test_a_shipment_reads_back_as_it_was_stored(store: DynamoDBShipmentStore) -> None:
    shipment = booked()

    assert store.add(shipment) is True

    assert store.get("order-1") == shipment
    assert store.get("order-2") is None


def test_a_failed_shipment_reads_back_with_its_reason(store: DynamoDBShipmentStore) -> None:
    failed = Shipment(
        order_id="order-1", status=ShipmentStatus.FAILED, carrier="SimPost", event_id="evt-1", created_at=NOW,
        reason="address undeliverable",
    )  # fmt: skip

    store.add(failed)

    assert store.get("order-1") == failed


def test_a_second_write_for_the_same_order_does_not_overwrite_the_first(store: DynamoDBShipmentStore) -> None:
    first = booked()
    store.add(first)

    assert store.add(booked(event_id="evt-2", tracking_number="SP000000005GB")) is False

    assert store.get("order-1") == first
