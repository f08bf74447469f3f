"""The invoice as HTML, from a jinja2 template.

Pure (invoice in, text out), so the domain tests render the real document. jinja2
and its Environment are loaded on the first render, not at import.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from invoice_service.domain.model import Invoice

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
INVOICE_TEMPLATE = "invoice.html.j2"


def format_money(cents: int, currency: str) -> str:
    """1299, "EUR" -> "12.99 EUR"."""
    return f"{Decimal(cents).scaleb(-2):.2f} {currency}"


def format_percent(rate: Decimal) -> str:
    """Decimal("0.20") -> "20%", Decimal("0.055") -> "5.5%"."""
    text = f"{(rate * 100).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") + "%"


@lru_cache(maxsize=1)
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Names and addresses are typed by customers: escape everything.
        autoescape=True,
        # A typo in the template must fail the render, not print an empty cell.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["percent"] = format_percent
    return env


def render_invoice_html(invoice: Invoice) -> str:
    return environment().get_template(INVOICE_TEMPLATE).render(invoice=invoice)
