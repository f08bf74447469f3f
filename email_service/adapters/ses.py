"""Sending emails with SES, as raw MIME messages (SendRawEmail).

The message is built here (adapters/mime.py) so that it carries every header a mail
provider expects; SES sends the bytes as they are, and so does MiniStack's SMTP relay
(its SES v2 relay rebuilds a raw message from its parts and drops Reply-To, Date and
the From display name, see README "Known limits").

It fails like SES under load only when the handler wraps it in FaultyMailer
(adapters/faulty_mailer.py, when FAULT_RATE > 0); nothing here knows of faults.
"""

from __future__ import annotations

from typing import Any

from email_service.adapters.mime import build_message
from email_service.domain.model import Email


class SesMailer:
    def __init__(
        self,
        sender: str,
        client: Any = None,
        *,
        sender_name: str = "",
        reply_to: str | None = None,
    ) -> None:
        self.sender = sender
        self.sender_name = sender_name
        self.reply_to = reply_to
        if client is None:
            from events.aws import client as make_client

            client = make_client("ses")
        self.client = client

    def send(self, email: Email) -> str:
        # SES's errors propagate as they are: botocore already retried its throttles,
        # and SendRawEmail has no idempotency key, so no retry here may risk a second copy.
        message = build_message(email, self.sender, self.sender_name, self.reply_to)
        response = self.client.send_raw_email(
            # The envelope sender is the bare identity (the IAM condition ses:FromAddress
            # names it); the From header shows the display name.
            Source=self.sender,
            Destinations=[email.to],
            RawMessage={"Data": message.as_bytes()},
        )
        return str(response["MessageId"])
