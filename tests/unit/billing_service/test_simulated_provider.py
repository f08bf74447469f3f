from __future__ import annotations

import hashlib
import re

import pytest

from billing_service.adapters.simulated_provider import SimulatedPaymentProvider
from billing_service.domain.errors import IdempotencyKeyReused, PaymentDeclined, RefundRefused
from billing_service.domain.model import Charge, Refund


def _charge(
    provider: SimulatedPaymentProvider,
    card: str = "tok_visa",
    key: str = "key-1",
    amount: int = 4597,
    currency: str = "EUR",
) -> Charge:
    return provider.charge(
        amount_cents=amount, currency=currency, token=card, idempotency_key=key, description="Invoice INV-1"
    )


@pytest.mark.parametrize(
    ("token", "brand"), [("tok_visa", "visa"), ("tok_mastercard", "mastercard"), ("tok_amex", "amex")]
)
def test_test_cards_are_charged(token: str, brand: str) -> None:
    charge = _charge(SimulatedPaymentProvider(), card=token)
    assert (charge.amount_cents, charge.currency, charge.card_brand) == (4597, "EUR", brand)
    assert re.fullmatch(r"ch_[0-9a-f]{24}", charge.charge_id)


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_chargeDeclinedExpiredCard", "expired_card"),
        ("tok_unknown", "invalid_token"),
        ("tok_VISA", "invalid_token"),
        ("4242424242424242", "invalid_token"),
        ("", "invalid_token"),
    ],
)
def test_declining_tokens_are_refused_with_their_code(token: str, code: str) -> None:
    with pytest.raises(PaymentDeclined) as declined:
        _charge(SimulatedPaymentProvider(), card=token)
    assert declined.value.decline_code == code
    assert declined.value.message
    if token:
        assert token not in declined.value.message
        assert token not in str(declined.value)


def test_an_amount_below_one_cent_is_refused() -> None:
    with pytest.raises(PaymentDeclined) as declined:
        _charge(SimulatedPaymentProvider(), amount=0)
    assert declined.value.decline_code == "amount_too_small"


def test_the_same_key_returns_the_same_charge() -> None:
    provider = SimulatedPaymentProvider()
    assert _charge(provider, key="evt-1") == _charge(provider, key="evt-1")


def test_the_charge_id_depends_on_the_key_only_so_every_instance_agrees() -> None:
    one, other = SimulatedPaymentProvider(), SimulatedPaymentProvider()
    assert _charge(one, key="evt-1").charge_id == _charge(other, key="evt-1", card="tok_amex").charge_id
    assert _charge(one, key="evt-1").charge_id != _charge(one, key="evt-2").charge_id


@pytest.mark.parametrize(
    "change",
    [{"amount": 4598}, {"currency": "USD"}, {"card": "tok_mastercard"}],
)
def test_the_same_key_with_another_request_is_refused(change: dict[str, object]) -> None:
    provider = SimulatedPaymentProvider()
    _charge(provider, key="evt-1")
    with pytest.raises(IdempotencyKeyReused):
        # The ignore below: each case changes one argument, of its own type
        _charge(provider, key="evt-1", **change)  # type: ignore[arg-type]


def test_a_declined_key_is_declined_again_and_cannot_be_reused_with_a_good_card() -> None:
    provider = SimulatedPaymentProvider()
    for _ in range(2):
        with pytest.raises(PaymentDeclined) as declined:
            _charge(provider, card="tok_chargeDeclinedExpiredCard", key="evt-1")
        assert declined.value.decline_code == "expired_card"
    with pytest.raises(IdempotencyKeyReused):
        _charge(provider, card="tok_visa", key="evt-1")


def test_a_charge_needs_an_idempotency_key() -> None:
    with pytest.raises(ValueError):
        _charge(SimulatedPaymentProvider(), key="")


# ---------------------------------------------------------------- refunds


def _refund(
    provider: SimulatedPaymentProvider,
    charge_id: str,
    key: str = "cancel-1",
    amount: int = 4597,
    currency: str = "EUR",
) -> Refund:
    return provider.refund(charge_id=charge_id, amount_cents=amount, currency=currency, idempotency_key=key)


def test_a_charge_is_refunded_with_an_id_derived_from_the_key() -> None:
    provider = SimulatedPaymentProvider()
    charge = _charge(provider)

    refund = _refund(provider, charge.charge_id, key="cancel-1")

    assert (refund.amount_cents, refund.currency) == (4597, "EUR")
    assert re.fullmatch(r"re_[0-9a-f]{24}", refund.refund_id)
    assert refund.refund_id == "re_" + hashlib.sha256(b"cancel-1").hexdigest()[:24]
    assert provider.refunds == [refund]


def test_the_same_refund_key_returns_the_same_refund_without_refunding_again() -> None:
    provider = SimulatedPaymentProvider()
    charge = _charge(provider)

    first = _refund(provider, charge.charge_id, key="cancel-1")
    again = _refund(provider, charge.charge_id, key="cancel-1")

    assert again == first
    assert provider.refunds == [first]


def test_a_refund_id_is_the_same_in_every_instance() -> None:
    one, other = SimulatedPaymentProvider(), SimulatedPaymentProvider()
    charge = _charge(one)
    # The other instance never saw the charge (another Lambda instance): it knows it by id.
    assert _refund(one, charge.charge_id).refund_id == _refund(other, charge.charge_id).refund_id


def test_refunding_more_than_the_charge_is_refused() -> None:
    provider = SimulatedPaymentProvider()
    charge = _charge(provider, amount=4597)

    with pytest.raises(RefundRefused) as refused:
        _refund(provider, charge.charge_id, amount=4598)

    assert refused.value.code == "amount_too_large"
    assert provider.refunds == []


def test_refunds_of_one_charge_never_add_up_to_more_than_it() -> None:
    provider = SimulatedPaymentProvider()
    charge = _charge(provider, amount=4597)
    _refund(provider, charge.charge_id, key="part-1", amount=4000)
    _refund(provider, charge.charge_id, key="part-2", amount=597)

    with pytest.raises(RefundRefused) as refused:
        _refund(provider, charge.charge_id, key="part-3", amount=1)

    assert refused.value.code == "amount_too_large"
    assert sum(refund.amount_cents for refund in provider.refunds) == 4597


@pytest.mark.parametrize(
    ("charge_id", "amount", "currency", "code"),
    [
        ("ch_nope", 100, "EUR", "charge_not_found"),
        ("", 100, "EUR", "charge_not_found"),
        (None, 0, "EUR", "amount_too_small"),
        (None, 100, "USD", "currency_mismatch"),
    ],
)
def test_a_bad_refund_is_refused(charge_id: str | None, amount: int, currency: str, code: str) -> None:
    provider = SimulatedPaymentProvider()
    charge = _charge(provider)

    with pytest.raises(RefundRefused) as refused:
        _refund(provider, charge.charge_id if charge_id is None else charge_id, amount=amount, currency=currency)

    assert refused.value.code == code
    assert provider.refunds == []


def test_the_same_refund_key_with_another_request_is_refused() -> None:
    provider = SimulatedPaymentProvider()
    charge = _charge(provider)
    _refund(provider, charge.charge_id, key="cancel-1", amount=100)

    with pytest.raises(IdempotencyKeyReused):
        _refund(provider, charge.charge_id, key="cancel-1", amount=200)


def test_a_refund_needs_an_idempotency_key() -> None:
    provider = SimulatedPaymentProvider()
    with pytest.raises(ValueError):
        _refund(provider, _charge(provider).charge_id, key="")
