"""The MIME message SES sends: what a receiving mail provider checks, read back with
the standard library's parser."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime

import pytest

from email_service.adapters.mime import build_message
from email_service.domain.model import Email
from email_service.domain.rendering import render_email
from tests.builders import address
from tests.unit.email_service.builders import BUILDERS, invoice_created_with_link

SENDER = "orders@shop.example.com"


def email(**overrides: str) -> Email:
    fields = {"to": "grace@example.com", "subject": "Order 1 shipped", "html": "<p>shipped</p>", "text": "shipped"}
    return Email(**{**fields, **overrides})


def sent(mail: Email, **kwargs: str) -> tuple[bytes, EmailMessage]:
    """The bytes as SES receives them, and those bytes parsed back."""
    raw = build_message(mail, SENDER, **kwargs).as_bytes()
    return raw, message_from_bytes(raw, policy=default)


def part(message: EmailMessage, subtype: str) -> str:
    """The text of the message's body part of that subtype ("plain" or "html")."""
    body = message.get_body((subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())


def test_a_multipart_alternative_with_the_text_first_and_the_html_last() -> None:
    _, message = sent(email())

    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert parts[0].get_content().strip() == "shipped"
    assert parts[1].get_content().strip() == "<p>shipped</p>"
    assert message["MIME-Version"] == "1.0"
    assert all("MIME-Version" not in part for part in parts)


def test_the_headers_a_mail_provider_expects() -> None:
    _, message = sent(email(), sender_name="Shop", reply_to="help@shop.example.com")

    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Shop", SENDER)
    assert str(message["From"]) == f"Shop <{SENDER}>"
    assert str(message["To"]) == "grace@example.com"
    assert str(message["Reply-To"]) == "help@shop.example.com"
    assert message["Subject"] == "Order 1 shipped"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert re.fullmatch(r"<[^<>@\s]+@shop\.example\.com>", message["Message-ID"])


def test_without_a_reply_to_replies_go_to_the_sender_and_without_a_name_from_is_the_address() -> None:
    _, message = sent(email())

    assert str(message["Reply-To"]) == SENDER
    assert str(message["From"]) == SENDER


def test_each_message_has_its_own_message_id() -> None:
    assert sent(email())[1]["Message-ID"] != sent(email())[1]["Message-ID"]


@pytest.mark.parametrize(
    "name", ["Иван Петров", "山田太郎", "Γιώργος Παπαδόπουλος", "محمد علي", "Zoë O'Brien"], ids=lambda n: n[:4]
)
def test_any_script_travels_as_7_bit_lines_and_reads_back_exactly(name: str) -> None:
    mail = email(subject=f"Your order, {name}", text=f"Hello {name},\n" + "x" * 300, html=f"<p>Hello {name}</p>")

    raw, message = sent(mail, sender_name=f"{name} Shop")

    assert raw.isascii()  # no 8BITMIME needed from any server on the way
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert message["Subject"] == f"Your order, {name}"
    assert message["From"].addresses[0].display_name == f"{name} Shop"
    assert part(message, "plain").splitlines() == mail.text.splitlines()
    assert name in part(message, "html")


def test_a_line_break_in_a_header_value_is_refused_not_sent() -> None:
    with pytest.raises(ValueError):
        sent(email(subject="Order 1\r\nBcc: everyone@example.com"))


@pytest.mark.parametrize("event_type", list(BUILDERS), ids=lambda t: t.value)
def test_no_email_loads_a_remote_image_or_style(event_type) -> None:
    # Clients block remote content (and it tells the sender who opened the mail).
    html = render_email(BUILDERS[event_type](shipping_address=address(name="Grace"))).html.lower()

    assert "<img" not in html
    assert not re.search(r"""(src|background)\s*=\s*["']?(https?:)?//""", html)
    assert "url(" not in html and "@import" not in html and "<link" not in html


def test_the_invoice_link_survives_the_encoding_in_both_parts() -> None:
    mail = render_email(invoice_created_with_link())
    [url] = re.findall(r"https://\S+", mail.text)

    _, message = sent(mail)

    assert url in part(message, "plain").splitlines()
    assert f'href="{url.replace("&", "&amp;")}"' in part(message, "html")
