from __future__ import annotations

from datetime import UTC, datetime

import boto3

from billing_service.adapters.dynamodb import DynamoDBPaymentStore
from billing_service.domain.model import Payment, PaymentStatus
from tests.integration.billing_service.payments_table import create_payments_table


def _payment(**overrides: object) -> Payment:
    values: dict[str, object] = {
        "order_id": "order-1",
        "status": PaymentStatus.CONFIRMED,
        "amount_cents": 4597,
        "currency": "EUR",
        "charge_id": "ch_0123456789abcdef01234567",
        "card_brand": "visa",
        "invoice_number": "INV-20260314-ABCDEF12",
        "invoice_event_id": "evt-1",
        "created_at": datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC),
    }
    return Payment.model_validate({**values, **overrides})


def test_a_payment_round_trips() -> None:
    store = DynamoDBPaymentStore(create_payments_table(), client=boto3.client("dynamodb"))
    payment = _payment()

    assert store.get("order-1") is None
    assert store.add(payment) is True
    assert store.get("order-1") == payment


def test_a_failed_payment_round_trips_without_a_charge() -> None:
    store = DynamoDBPaymentStore(create_payments_table(), client=boto3.client("dynamodb"))
    payment = _payment(
        status=PaymentStatus.FAILED, charge_id=None, card_brand=None, decline_code="expired_card", reason="Expired."
    )
    store.add(payment)
    item = boto3.client("dynamodb").get_item(TableName=store.table, Key={"order_id": {"S": "order-1"}})["Item"]
    assert "charge_id" not in item
    assert item["amount_cents"] == {"N": "4597"}
    assert store.get("order-1") == payment


def test_a_second_payment_for_the_same_order_does_not_overwrite_the_first() -> None:
    store = DynamoDBPaymentStore(create_payments_table(), client=boto3.client("dynamodb"))
    first = _payment()
    store.add(first)

    assert store.add(_payment(status=PaymentStatus.FAILED, charge_id=None, invoice_event_id="evt-2")) is False
    assert store.get("order-1") == first
