"""The one clock and the one money formatter every service uses."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from events.clock import utcnow
from events.money import amount, format_money


def test_the_clock_tells_aware_utc_time() -> None:
    now = utcnow()

    assert now.tzinfo is UTC
    assert now.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("cents", "expected"),
    [(0, "0.00"), (5, "0.05"), (1299, "12.99"), (1200, "12.00"), (100000, "1000.00"), (-250, "-2.50")],
)
def test_an_amount_is_the_exact_decimal_with_two_places(cents: int, expected: str) -> None:
    value = amount(cents)

    assert isinstance(value, Decimal)
    assert str(value) == expected
    assert value * 100 == cents


def test_amounts_beyond_float_precision_stay_exact() -> None:
    cents = 10**20 + 1  # a float would round the last cent away

    assert format_money(cents, "EUR") == "1000000000000000000.01 EUR"


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [(0, "EUR", "0.00 EUR"), (5, "EUR", "0.05 EUR"), (1299, "USD", "12.99 USD"), (-250, "EUR", "-2.50 EUR")],
)
def test_money_is_the_amount_then_the_currency(cents: int, currency: str, text: str) -> None:
    assert format_money(cents, currency) == text
