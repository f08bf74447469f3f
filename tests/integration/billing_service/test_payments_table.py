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


# ---------------------------------------------------------------- conditional moves


def _store() -> DynamoDBPaymentStore:
    return DynamoDBPaymentStore(create_payments_table(), client=boto3.client("dynamodb"))


def _claimed() -> Payment:
    return _payment(status=PaymentStatus.CHARGING, charge_id=None, card_brand=None)


def test_a_row_moves_only_from_the_state_it_was_read_in() -> None:
    store = _store()
    claim = _claimed()
    store.add(claim)
    confirmed = _payment()

    assert store.replace(claim, confirmed) is True
    assert store.get("order-1") == confirmed
    # A second writer that read the claim too (a duplicate delivery) loses.
    assert store.replace(claim, _payment(status=PaymentStatus.FAILED, charge_id=None, decline_code="x")) is False
    assert store.get("order-1") == confirmed


def test_a_move_claimed_by_one_event_cannot_be_taken_by_another() -> None:
    store = _store()
    store.add(_payment())
    confirmed = _payment()
    by_cancel = _payment(status=PaymentStatus.REFUNDING, refund_event_id="cancel-1", refund_reason="cancelled")
    by_error = _payment(status=PaymentStatus.REFUNDING, refund_event_id="error-1", refund_reason="not shipped")

    assert store.replace(confirmed, by_cancel) is True
    assert store.replace(confirmed, by_error) is False
    # Only the owner's state moves the claim on.
    refunded = by_cancel.model_copy(update={"status": PaymentStatus.REFUNDED, "refund_id": "re_1"})
    assert store.replace(by_error, refunded) is False
    assert store.replace(by_cancel, refunded) is True
    assert store.get("order-1") == refunded


def test_a_move_of_a_row_that_does_not_exist_writes_nothing() -> None:
    store = _store()

    assert store.replace(_claimed(), _payment()) is False
    assert store.get("order-1") is None


def test_a_cancellation_row_blocks_the_claim_of_a_charge() -> None:
    store = _store()
    cancelled = Payment(
        order_id="order-1",
        status=PaymentStatus.CANCELLED,
        amount_cents=4597,
        currency="EUR",
        created_at=datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC),
        cancel_event_id="cancel-1",
        cancelled_at=datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC),
    )

    assert store.add(cancelled) is True
    assert store.add(_claimed()) is False
    assert store.get("order-1") == cancelled
    item = boto3.client("dynamodb").get_item(TableName=store.table, Key={"order_id": {"S": "order-1"}})["Item"]
    assert set(item) == {
        "order_id",
        "status",
        "amount_cents",
        "currency",
        "created_at",
        "cancel_event_id",
        "cancelled_at",
    }


def test_a_refunded_payment_round_trips_with_its_refund() -> None:
    store = _store()
    confirmed = _payment()
    store.add(confirmed)
    refunded = _payment(
        status=PaymentStatus.REFUNDED,
        refund_event_id="cancel-1",
        refund_reason="the order was cancelled",
        refund_id="re_0123456789abcdef01234567",
        refunded_cents=4597,
        refunded_at=datetime(2026, 3, 15, 10, 0, tzinfo=UTC),
    )

    assert store.replace(confirmed, refunded) is True

    assert store.get("order-1") == refunded
    item = boto3.client("dynamodb").get_item(TableName=store.table, Key={"order_id": {"S": "order-1"}})["Item"]
    assert item["refunded_cents"] == {"N": "4597"}
    assert item["refund_id"] == {"S": "re_0123456789abcdef01234567"}
    assert item["refunded_at"] == {"S": "2026-03-15T10:00:00Z"}
