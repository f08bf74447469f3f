"""One customer email per event: subject, HTML and plain text from jinja2 templates.

Everything the templates show comes from the event itself (event-carried state):
rendering reads no table and calls no service.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from email_service.domain.model import Email
from events.models import EventType

if TYPE_CHECKING:
    from jinja2 import Environment

    from events.models import Event

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# Subjects are plain text built here, not in a template: no escaping can leak into
# them, and every one names the order.
SUBJECTS: dict[EventType, str] = {
    EventType.ORDER_CREATED: "We received your order {order_id}",
    EventType.INVOICE_CREATED: "Invoice {invoice_number} for your order {order_id}",
    EventType.PAYMENT_CONFIRMED: "Payment received for your order {order_id}",
    EventType.PAYMENT_FAILED: "Payment failed: your order {order_id} is cancelled",
    EventType.SHIPPED: "Your order {order_id} has shipped",
    EventType.SHIPMENT_ERROR: "A problem with the shipment of your order {order_id}",
}
CUSTOMER_EVENT_TYPES: frozenset[EventType] = frozenset(SUBJECTS)


class NoEmailForEvent(Exception):
    """The event type is not one the customer hears about."""


def money(cents: int, currency: str) -> str:
    """1299, "EUR" -> "12.99 EUR"."""
    return f"{Decimal(cents) / 100:.2f} {currency}"


@cache
def _environments() -> tuple[Environment, Environment]:
    """(html, text) environments, built on the first email of the process.

    jinja2 is imported here so that a cold start does not pay for it before the
    first record arrives.
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    loader = FileSystemLoader(TEMPLATES_DIR)
    html = Environment(
        loader=loader,
        # Customer-supplied values (name, address) are escaped in every HTML template;
        # default=True keeps escaping on even for a template with an unexpected name.
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The text part goes out as text/plain, which no client renders as HTML, so
    # escaping would only show "&lt;" to the reader. This environment only ever
    # loads *.txt.j2 templates (see render_email).
    text = Environment(
        loader=loader,
        autoescape=False,  # noqa: S701 - text/plain part, see above
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for environment in (html, text):
        environment.filters["money"] = money
    return html, text


def render_email(event: Event[Any]) -> Email:
    """The email that tells the customer about `event`."""
    if event.event_type not in SUBJECTS:
        raise NoEmailForEvent(event.event_type.value)
    data = event.data
    order = data.order
    subject = _one_line(SUBJECTS[event.event_type].format(order_id=event.order_id, **_subject_fields(data)))
    context = {
        "subject": subject,
        "order_id": event.order_id,
        "customer_name": order.shipping_address.name,
        "order": order,
        "data": data,
    }
    name = event.event_type.value.lower()
    html_environment, text_environment = _environments()
    return Email(
        to=order.customer_email,
        subject=subject,
        html=html_environment.get_template(f"{name}.html.j2").render(context),
        text=text_environment.get_template(f"{name}.txt.j2").render(context),
    )


def _subject_fields(data: Any) -> dict[str, str]:
    invoice_number = getattr(data, "invoice_number", None)
    return {"invoice_number": invoice_number} if invoice_number else {}


def _one_line(subject: str) -> str:
    # A line break in a subject would end the header; values from events never may.
    return " ".join(subject.split())
