"""The email as a mail provider receives it, built here with the standard library.

SES's "Simple" content leaves the headers to SES (no Reply-To, no Date in the copy
MiniStack relays); a raw message carries every header a receiving provider looks at:
From with the shop's display name, Reply-To, Date, Message-ID (SES puts its own in
its place, as it does for every raw message), and a multipart/alternative body with
the plain-text part first and the HTML part last, the one clients prefer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from email_service.domain.model import Email

if TYPE_CHECKING:
    from email.message import EmailMessage


def build_message(email: Email, sender: str, sender_name: str = "", reply_to: str | None = None) -> EmailMessage:
    """`email` as a 7-bit MIME message from `sender` (shown as `sender_name`)."""
    # Imported on the first email, not at cold start (about 15 ms, mostly headerregistry).
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP  # CRLF line ends, RFC 2047-encoded headers
    from email.utils import formatdate, make_msgid

    _, _, domain = sender.rpartition("@")
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    message["To"] = Address(addr_spec=email.to)
    message["Reply-To"] = Address(addr_spec=reply_to or sender)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    # With a domain, make_msgid asks no DNS for this host's name (slow on a cold start).
    message["Message-ID"] = make_msgid(domain=domain or None)
    # Quoted-printable keeps every line 7-bit and short (SMTP's limit is 998 octets),
    # and leaves an ASCII body readable as it is.
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for part in message.iter_parts():
        del part["MIME-Version"]  # a header of the message, not of its parts
    return message
