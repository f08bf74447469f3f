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


# ---------------------------------------------------------------- conditional moves


def test_an_item_written_by_the_former_write_once_table_still_reads(store: DynamoDBShipmentStore) -> None:
    store.client.put_item(
        TableName=TABLE,
        Item={
            "order_id": {"S": "order-1"}, "status": {"S": "BOOKED"}, "carrier": {"S": "SimPost"},
            "event_id": {"S": "evt-1"}, "created_at": {"S": "2026-01-02T03:04:05Z"},
            "shipment_id": {"S": "shp_1"}, "tracking_number": {"S": "SP473124829GB"},
        },
    )  # fmt: skip

    assert store.get("order-1") == booked()


def test_an_update_moves_the_shipment_on_from_the_expected_state(store: DynamoDBShipmentStore) -> None:
    claim = Shipment(order_id="order-1", status=ShipmentStatus.BOOKING, carrier="SimPost", event_id="evt-1",
                     created_at=NOW)  # fmt: skip
    store.add(claim)

    assert store.update(booked(), expected=ShipmentStatus.BOOKING) is True
    assert store.get("order-1") == booked()

    delivered = booked().moved_to(ShipmentStatus.DELIVERED, delivered_at=NOW, delivery_announced=True)
    assert store.update(delivered, expected=ShipmentStatus.BOOKED) is True
    assert store.get("order-1") == delivered
    raw = store.client.get_item(TableName=TABLE, Key={"order_id": {"S": "order-1"}})["Item"]
    assert raw["delivery_announced"] == {"BOOL": True}


def test_an_update_from_a_state_the_shipment_has_left_writes_nothing(store: DynamoDBShipmentStore) -> None:
    store.add(booked())
    cancelled = booked().moved_to(ShipmentStatus.CANCELLED, cancelled_by="cancel-1", cancelled_at=NOW)
    assert store.update(cancelled, expected=ShipmentStatus.BOOKED) is True

    delivered = booked().moved_to(ShipmentStatus.DELIVERED, delivered_at=NOW)
    assert store.update(delivered, expected=ShipmentStatus.BOOKED) is False

    assert store.get("order-1") == cancelled


def test_an_update_for_another_claim_writes_nothing(store: DynamoDBShipmentStore) -> None:
    store.add(booked(event_id="evt-1"))

    other = booked(event_id="evt-2").moved_to(ShipmentStatus.DELIVERED, delivered_at=NOW)
    assert store.update(other, expected=ShipmentStatus.BOOKED) is False

    assert store.get("order-1") == booked(event_id="evt-1")


def test_an_update_of_an_order_without_a_shipment_creates_nothing(store: DynamoDBShipmentStore) -> None:
    assert store.update(booked(), expected=ShipmentStatus.BOOKING) is False
    assert store.get("order-1") is None


def test_a_cancellation_before_any_booking_is_stored_and_blocks_the_claim(store: DynamoDBShipmentStore) -> None:
    cancelled = Shipment(order_id="order-1", status=ShipmentStatus.CANCELLED, created_at=NOW,
                         cancelled_by="cancel-1", cancelled_at=NOW)  # fmt: skip
    assert store.add(cancelled) is True

    claim = Shipment(order_id="order-1", status=ShipmentStatus.BOOKING, carrier="SimPost", event_id="evt-1",
                     created_at=NOW)  # fmt: skip
    assert store.add(claim) is False
    assert store.get("order-1") == cancelled
