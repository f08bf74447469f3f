"""Every email keeps the customer's name, address and products exactly as given, in
every script (tests.builders.SCRIPTS): in its subject, its text part and its HTML part,
and after a trip through MIME as a mail client receives it."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest

from email_service.domain.rendering import SUBJECTS, render_email
from events.models import Event, EventType, OrderLine
from tests.builders import SCRIPTS, address
from tests.unit.email_service.builders import BUILDERS


class _VisibleText(HTMLParser):
    """The text of an HTML document as a mail client shows it: entities decoded, tags
    gone, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("head", "style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("head", "style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


def _event(event_type: EventType, script: str) -> Event[Any]:
    values = SCRIPTS[script]
    customer = address(**{key: values[key] for key in ("name", "line1", "city", "postal_code", "country")})
    line = OrderLine(sku="ITEM-1", name=values["product"], quantity=2, unit_price_cents=1000, line_total_cents=2000)
    return BUILDERS[event_type](shipping_address=customer, lines=[line], total_cents=2000)


def _expected_subject(event: Event[Any]) -> str:
    data = event.data
    fields = {"order_id": event.order_id}
    if getattr(data, "invoice_number", None):
        fields["invoice_number"] = data.invoice_number
    if getattr(data, "amount_cents", None) is not None:
        fields["amount"] = f"{data.amount_cents / 100:.2f} {data.currency}"
    return SUBJECTS[event.event_type].format(**fields)


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("event_type", list(BUILDERS), ids=lambda t: t.value)
def test_every_email_keeps_the_customers_name_in_every_script(event_type: EventType, script: str) -> None:
    values = SCRIPTS[script]
    event = _event(event_type, script)

    message = render_email(event)

    assert message.subject == _expected_subject(event)
    greeting = f"Hello {values['name']},"
    assert greeting in message.text
    assert greeting in message.html  # not escaped: only & < > " ' are, and none is in the name
    assert greeting in _VisibleText.of(message.html)
    assert '<meta charset="utf-8">' in message.html
    if event_type in (EventType.ORDER_CREATED, EventType.SHIPPED):  # these two show the address and the lines
        for part in (values["name"], values["line1"], f"{values['postal_code']} {values['city']}"):
            assert f"  {part}\n" in message.text, part  # a line of its own, as typed
            assert part in _VisibleText.of(message.html), part
    if event_type == EventType.ORDER_CREATED:
        assert values["product"] in message.text
        assert values["product"] in _VisibleText.of(message.html)


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_subject_text_and_html_survive_mime_exactly(script: str) -> None:
    rendered = render_email(_event(EventType.ORDER_CREATED, script))
    mime = EmailMessage(policy=email.policy.SMTP)
    mime["To"] = rendered.to
    mime["Subject"] = rendered.subject
    mime.set_content(rendered.text)
    mime.add_alternative(rendered.html, subtype="html")

    received = email.message_from_bytes(mime.as_bytes(), policy=email.policy.default)

    assert isinstance(received, EmailMessage)
    assert received["Subject"] == rendered.subject
    text_part = received.get_body(("plain",))
    html_part = received.get_body(("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content_charset() == html_part.get_content_charset() == "utf-8"
    # The policy writes CRLF line ends on the wire, and a part ends with a line end;
    # otherwise the parts read back as they were.
    for part, original in ((text_part, rendered.text), (html_part, rendered.html)):
        assert part.get_content().replace("\r\n", "\n") == original.rstrip("\n") + "\n"
    assert f"Hello {SCRIPTS[script]['name']}," in text_part.get_content()
