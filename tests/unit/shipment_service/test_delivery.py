"""The carrier's delivery report: DELIVERED recorded once and announced once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.models import Delivered, EventType, Shipped
from shipment_service.domain.delivery import report_delivery
from shipment_service.domain.errors import ShipmentNotFound
from shipment_service.domain.model import ShipmentStatus
from shipment_service.domain.shipments import ship_order
from tests.builders import payment_confirmed, shipped
from tests.unit.shipment_service.fakes import (
    InMemoryShipmentStore,
    RecordingCarrier,
    RecordingPublisher,
    RecordingScheduler,
)

DELIVERED_AT = datetime(2026, 1, 2, 3, 9, 0, tzinfo=UTC)


def _clock() -> datetime:
    return DELIVERED_AT


def booked_order() -> tuple[InMemoryShipmentStore, Shipped]:
    """A paid order, booked: the store and the SHIPPED the carrier will report on."""
    store, publisher, scheduler = InMemoryShipmentStore(), RecordingPublisher(), RecordingScheduler()
    ship_order(payment_confirmed(), RecordingCarrier(), store, publisher, scheduler)
    [report] = scheduler.scheduled
    return store, report


def test_a_booked_parcel_is_recorded_delivered_and_announced() -> None:
    store, report = booked_order()
    publisher = RecordingPublisher()

    result = report_delivery(report, store, publisher, now=_clock)

    [announced] = publisher.published
    assert isinstance(announced, Delivered)
    assert announced is result.announced
    assert announced.event_type is EventType.DELIVERED
    assert announced.order_id == report.order_id
    assert announced.correlation_id == report.correlation_id
    assert announced.causation_id == report.event_id
    assert announced.event_id == Delivered.caused_by(report, data=announced.data).event_id
    assert announced.data.order == report.data.order
    assert announced.data.shipment_id == report.data.shipment_id
    assert announced.data.carrier == "SimPost"
    assert announced.data.tracking_number == report.data.tracking_number
    assert announced.data.delivered_at == DELIVERED_AT
    stored = store.shipments[report.order_id]
    assert stored.status is ShipmentStatus.DELIVERED
    assert stored.delivered_at == DELIVERED_AT
    assert stored.delivery_announced


def test_a_duplicate_report_has_no_second_effect() -> None:
    store, report = booked_order()
    publisher = RecordingPublisher()
    report_delivery(report, store, publisher, now=_clock)
    stored = store.shipments[report.order_id]

    again = report_delivery(report, store, publisher, now=lambda: datetime(2030, 1, 1, tzinfo=UTC))

    assert again.announced is None
    assert len(publisher.published) == 1
    assert store.shipments[report.order_id] == stored


def test_a_retry_after_a_failed_publish_announces_the_same_delivery() -> None:
    store, report = booked_order()

    with pytest.raises(ConnectionError):
        report_delivery(report, store, RecordingPublisher(fail_with=ConnectionError("SNS")), now=_clock)
    stored = store.shipments[report.order_id]
    assert stored.status is ShipmentStatus.DELIVERED
    assert not stored.delivery_announced

    publisher = RecordingPublisher()
    report_delivery(report, store, publisher, now=lambda: datetime(2030, 1, 1, tzinfo=UTC))

    [announced] = publisher.published
    assert announced.data.delivered_at == DELIVERED_AT  # when it was recorded, not when retried
    assert announced.event_id == Delivered.caused_by(report, data=announced.data).event_id
    assert store.shipments[report.order_id].delivery_announced


def test_a_report_for_an_unknown_order_fails() -> None:
    with pytest.raises(ShipmentNotFound):
        report_delivery(shipped(), InMemoryShipmentStore(), RecordingPublisher())


def test_a_report_about_another_parcel_than_the_orders_is_ignored() -> None:
    store, report = booked_order()
    stray = report.model_copy(update={"data": report.data.model_copy(update={"shipment_id": "shp_other"})})
    publisher = RecordingPublisher()

    result = report_delivery(stray, store, publisher)

    assert result.announced is None
    assert publisher.published == []
    assert store.shipments[report.order_id].status is ShipmentStatus.BOOKED
