"""One customer email per event: subject, HTML and plain text from jinja2 templates.

Everything the templates show comes from the event itself (event-carried state):
rendering reads no table and calls no service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from email_service.domain.model import Email
from events.models import EventType
from events.money import format_money

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
    EventType.ORDER_CANCELLED: "We are cancelling your order {order_id}",
    EventType.SHIPMENT_CANCELLED: "Your order {order_id} is cancelled",
    EventType.CANCELLATION_REJECTED: "We could not cancel your order {order_id}: it has already shipped",
    EventType.PAYMENT_REFUNDED: "We refunded {amount} for your order {order_id}",
    EventType.DELIVERED: "Your order {order_id} was delivered",
}
CUSTOMER_EVENT_TYPES: frozenset[EventType] = frozenset(SUBJECTS)


class NoEmailForEvent(Exception):
    """The event type is not one the customer hears about."""


def utc(moment: datetime) -> str:
    """A moment as the customer reads it: "2026-11-21 at 14:05 UTC" (naive = UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d} at {moment:%H:%M} UTC"


def describe_lifetime(seconds: int) -> str:
    """604800 -> "7 days", 3600 -> "1 hour", 90 -> "90 seconds": the largest whole unit."""
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= length and seconds % length == 0:
            count = seconds // length
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


@dataclass(frozen=True)
class DownloadLink:
    """A time-limited link to a document, and what the email says about its expiry."""

    url: str
    expires_at: datetime | None  # when it stops working, as far as the URL tells
    lifetime_seconds: int | None

    @property
    def expiry(self) -> str:
        if self.expires_at is None:
            return "The link works for a limited time only."
        when = utc(self.expires_at)
        if self.lifetime_seconds is None:
            return f"The link expires on {when}."
        return f"The link expires in {describe_lifetime(self.lifetime_seconds)}, on {when}."


def download_link(url: str | None) -> DownloadLink | None:
    """The link in `url`, or None when there is none or it is not a web address (no
    `javascript:` or `data:` link ever reaches an email).

    Its expiry is read from the pre-signed URL itself: SigV4 signs its creation time
    (X-Amz-Date) and lifetime (X-Amz-Expires), SigV2 its end (Expires, Unix time).
    """
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    expires_at: datetime | None = None
    lifetime: int | None = None
    try:
        if "X-Amz-Date" in query and "X-Amz-Expires" in query:
            lifetime = int(query["X-Amz-Expires"])
            signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires_at = signed_at + timedelta(seconds=lifetime)
        elif "Expires" in query:
            expires_at = datetime.fromtimestamp(int(query["Expires"]), UTC)
    except (ValueError, OverflowError, OSError):
        expires_at, lifetime = None, None
    if lifetime is not None and lifetime <= 0:
        expires_at, lifetime = None, None
    return DownloadLink(url=url, expires_at=expires_at, lifetime_seconds=lifetime)


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
        environment.filters["money"] = format_money
        environment.filters["utc"] = utc
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
        # Only INVOICE_CREATED carries one: the pre-signed link to the invoice PDF.
        "invoice_link": download_link(getattr(data, "invoice_url", None)),
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
    fields: dict[str, str] = {}
    invoice_number = getattr(data, "invoice_number", None)
    if invoice_number:
        fields["invoice_number"] = invoice_number
    amount_cents, currency = getattr(data, "amount_cents", None), getattr(data, "currency", None)
    if amount_cents is not None and currency:
        fields["amount"] = format_money(amount_cents, currency)
    return fields


def _one_line(subject: str) -> str:
    # A line break in a subject would end the header; values from events never may.
    return " ".join(subject.split())
