"""Amounts: integer cents everywhere in the contract; shown with two decimals.

Standard library only (imported at cold start). Exact: no float ever touches an amount.
"""

from __future__ import annotations

from decimal import Decimal


def amount(cents: int) -> Decimal:
    """1299 -> Decimal("12.99"); always two places (1200 -> Decimal("12.00"))."""
    return Decimal(cents).scaleb(-2)


def format_money(cents: int, currency: str) -> str:
    """1299, "EUR" -> "12.99 EUR": what invoices and emails show."""
    return f"{amount(cents):.2f} {currency}"
