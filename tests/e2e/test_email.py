"""An email as the customer's mail provider receives it: relayed by MiniStack's SES over
SMTP into the local Maildir, read back as bytes and parsed as MIME."""

from __future__ import annotations

import io
import mailbox
import re
import urllib.request
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest

from tests.e2e.flows import emails_for, new_product, order_body

pytestmark = pytest.mark.usefixtures("needs_inbox")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "href" and value:
                self.hrefs.append(value)  # entities already unescaped, as a mail client reads it
            if name in ("src", "background") and value:
                self.sources.append(value)


def test_the_invoice_email_is_a_standard_message_and_its_link_downloads_the_pdf(stack, customer):
    order_id = customer.post_order(order_body(new_product(stack, stock=1), quantity=1)).body["order_id"]

    def invoice_email():
        return next((e for e in emails_for(customer, order_id) if e.subject.startswith("Invoice ")), None)

    mail = stack.wait_for(invoice_email, timeout=60)
    assert mail, f"no invoice email for {order_id} in {stack.maildir}"
    message = mail.message

    # What the SMTP server received, byte for byte: 7-bit, short lines (RFC 5322 2.1.1).
    raw = mailbox.Maildir(stack.maildir, create=False).get_bytes(mail.key)
    assert raw.isascii()
    assert max(len(line) for line in raw.splitlines()) <= 998

    # multipart/alternative: the text part first, the HTML part last (the one clients prefer).
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert {part.get_content_charset() for part in message.iter_parts()} == {"utf-8"}

    # The headers a receiving provider checks.
    [sender] = message["From"].addresses
    assert sender.display_name == "Shop" and sender.addr_spec == stack.outputs["SenderEmail"]
    assert [address.addr_spec for address in message["Reply-To"].addresses] == ["help@shop.local"]
    assert mail.to == [customer.email]
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", message["Message-ID"])
    assert message["MIME-Version"] == "1.0"
    assert order_id in mail.subject and order_id in mail.text and order_id in mail.html

    # Nothing remote to load: no image, no stylesheet, no tracking pixel.
    links = Links()
    links.feed(mail.html)
    assert links.sources == []
    assert "url(" not in mail.html and "<link" not in mail.html.lower()

    # The link works from the message: the same URL in both parts, and it downloads the PDF.
    [url] = [line.strip() for line in mail.text.splitlines() if line.strip().startswith("http")]
    assert links.hrefs == [url]
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own bucket, pre-signed
        pdf = response.read()
    assert pdf.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    invoice_number = re.search(r"Invoice (\S+) for", mail.subject).group(1)
    assert invoice_number in text and order_id in text
