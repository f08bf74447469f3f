"""A payment provider that behaves like a real one, without a network or an account.

It answers by token the way Stripe's test mode does (tok_visa succeeds,
tok_chargeDeclined is refused, ...), so the whole choreography, failures included,
can be driven from an order's payment token. Like a real provider it honours
idempotency keys: the same key gets the same answer and the charge id is derived
from the key, so it is the same in every Lambda instance; reusing a key for a
different request is refused (remembered per instance only).

It fails like a real one only when the handler wraps it in FaultyPaymentProvider
(adapters/faulty_provider.py, when FAULT_RATE > 0); nothing here knows of faults.

Refunds work the same way: idempotent by key (the refund id is derived from it),
refused when they would give back more than the charge (as far as this instance knows
the charge: a charge made by another Lambda instance is known by its id only, the way
key reuse is remembered per instance).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from billing_service.domain.errors import IdempotencyKeyReused, PaymentDeclined, RefundRefused
from billing_service.domain.model import Charge, Refund

CARD_BRANDS: dict[str, str] = {
    "tok_visa": "visa",
    "tok_mastercard": "mastercard",
    "tok_amex": "amex",
}
DECLINES: dict[str, tuple[str, str]] = {
    "tok_chargeDeclined": ("card_declined", "Your card was declined."),
    "tok_chargeDeclinedInsufficientFunds": ("insufficient_funds", "Your card has insufficient funds."),
    "tok_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
}
# The message never repeats the token: it travels on in PAYMENT_FAILED.
INVALID_TOKEN = ("invalid_token", "The payment token is not valid.")
AMOUNT_TOO_SMALL = ("amount_too_small", "The amount must be at least 0.01.")
CHARGE_ID = re.compile(r"ch_[0-9a-f]{24}")
NO_SUCH_CHARGE = ("charge_not_found", "No such charge.")
CURRENCY_MISMATCH = ("currency_mismatch", "The refund must be in the charge's currency.")
AMOUNT_TOO_LARGE = ("amount_too_large", "The refund is larger than what is left of the charge.")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Answer:
    request: tuple[int, str, str]  # amount, currency, token digest: what a key is bound to
    charge: Charge | None = None
    decline: tuple[str, str] = ("", "")  # (decline_code, message) when there is no charge

    def give(self) -> Charge:
        if self.charge is None:
            raise PaymentDeclined(*self.decline)
        return self.charge


@dataclass(frozen=True)
class _RefundAnswer:
    request: tuple[str, int, str]  # charge id, amount, currency: what a key is bound to
    refund: Refund | None = None
    refusal: tuple[str, str] = ("", "")  # (code, message) when there is no refund

    def give(self) -> Refund:
        if self.refund is None:
            raise RefundRefused(*self.refusal)
        return self.refund


class SimulatedPaymentProvider:
    def __init__(self) -> None:
        self._answers: dict[str, _Answer] = {}
        self._refund_answers: dict[str, _RefundAnswer] = {}

    @property
    def charges(self) -> list[Charge]:
        """Every charge this instance made, as the provider's dashboard would list them."""
        return [answer.charge for answer in self._answers.values() if answer.charge is not None]

    @property
    def refunds(self) -> list[Refund]:
        """Every refund this instance made."""
        return [answer.refund for answer in self._refund_answers.values() if answer.refund is not None]

    def charge(self, amount_cents: int, currency: str, token: str, idempotency_key: str, description: str) -> Charge:
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        request = (amount_cents, currency.upper(), _digest(token))
        answer = self._answers.get(idempotency_key)
        if answer is None:
            answer = self._decide(request, token, idempotency_key)
            self._answers[idempotency_key] = answer
        elif answer.request != request:
            raise IdempotencyKeyReused(idempotency_key)
        return answer.give()

    @staticmethod
    def _decide(request: tuple[int, str, str], token: str, idempotency_key: str) -> _Answer:
        amount_cents, currency, _ = request
        if amount_cents < 1:
            return _Answer(request, decline=AMOUNT_TOO_SMALL)
        if token in DECLINES:
            return _Answer(request, decline=DECLINES[token])
        if token not in CARD_BRANDS:
            return _Answer(request, decline=INVALID_TOKEN)
        charge = Charge(
            charge_id="ch_" + _digest(idempotency_key)[:24],
            amount_cents=amount_cents,
            currency=currency,
            card_brand=CARD_BRANDS[token],
        )
        return _Answer(request, charge=charge)

    def refund(self, charge_id: str, amount_cents: int, currency: str, idempotency_key: str) -> Refund:
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        request = (charge_id, amount_cents, currency.upper())
        answer = self._refund_answers.get(idempotency_key)
        if answer is None:
            answer = self._decide_refund(request, idempotency_key)
            self._refund_answers[idempotency_key] = answer
        elif answer.request != request:
            raise IdempotencyKeyReused(idempotency_key)
        return answer.give()

    def _decide_refund(self, request: tuple[str, int, str], idempotency_key: str) -> _RefundAnswer:
        charge_id, amount_cents, currency = request
        if amount_cents < 1:
            return _RefundAnswer(request, refusal=AMOUNT_TOO_SMALL)
        if not CHARGE_ID.fullmatch(charge_id):
            return _RefundAnswer(request, refusal=NO_SUCH_CHARGE)
        charge = next((c for c in self.charges if c.charge_id == charge_id), None)
        if charge is not None:
            if currency != charge.currency:
                return _RefundAnswer(request, refusal=CURRENCY_MISMATCH)
            already = sum(r.amount_cents for r in self._refunds_of(charge_id))
            if already + amount_cents > charge.amount_cents:
                return _RefundAnswer(request, refusal=AMOUNT_TOO_LARGE)
        refund = Refund(refund_id="re_" + _digest(idempotency_key)[:24], amount_cents=amount_cents, currency=currency)
        return _RefundAnswer(request, refund=refund)

    def _refunds_of(self, charge_id: str) -> list[Refund]:
        return [
            answer.refund
            for answer in self._refund_answers.values()
            if answer.refund is not None and answer.request[0] == charge_id
        ]
