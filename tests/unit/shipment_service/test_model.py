"""The shipment's states: each carries what it needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipment_service.domain.model import Shipment, ShipmentStatus

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def booked() -> Shipment:
    return Shipment(
        order_id="o", status=ShipmentStatus.BOOKED, carrier="SimPost", event_id="e", created_at=NOW,
        shipment_id="shp_1", tracking_number="SP473124829GB",
    )  # fmt: skip


def test_a_claim_has_the_event_that_took_it_and_a_carrier() -> None:
    Shipment(order_id="o", status=ShipmentStatus.BOOKING, carrier="SimPost", event_id="e", created_at=NOW)
    with pytest.raises(ValueError, match="event_id"):
        Shipment(order_id="o", status=ShipmentStatus.BOOKING, carrier="SimPost", created_at=NOW)


def test_a_cancellation_has_the_event_that_cancelled_and_when() -> None:
    cancelled = Shipment(order_id="o", status=ShipmentStatus.CANCELLED, created_at=NOW, cancelled_by="c",
                         cancelled_at=NOW)  # fmt: skip
    assert cancelled.event_id is None and not cancelled.is_booked_with_carrier
    with pytest.raises(ValueError, match="cancelled"):
        Shipment(order_id="o", status=ShipmentStatus.CANCELLED, created_at=NOW)


def test_a_booked_shipment_cancelled_keeps_its_parcel() -> None:
    cancelled = booked().moved_to(ShipmentStatus.CANCELLED, cancelled_by="c", cancelled_at=NOW)
    assert cancelled.is_booked_with_carrier
    assert cancelled.tracking_number == "SP473124829GB"


def test_moving_on_validates_the_new_state() -> None:
    with pytest.raises(ValueError, match="delivered_at"):
        booked().moved_to(ShipmentStatus.DELIVERED)
    with pytest.raises(ValueError, match="cancelled"):
        booked().moved_to(ShipmentStatus.CANCELLED)
    assert booked().moved_to(ShipmentStatus.DELIVERED, delivered_at=NOW).delivered_at == NOW
