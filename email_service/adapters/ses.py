"""Sending emails with SES (API v2)."""

from __future__ import annotations

from typing import Any

from email_service.domain.model import Email


class SesMailer:
    def __init__(self, sender: str, client: Any = None) -> None:
        self.sender = sender
        if client is None:
            from events.aws import client as make_client

            client = make_client("sesv2")
        self.client = client

    def send(self, email: Email) -> str:
        response = self.client.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [email.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": email.text, "Charset": "UTF-8"},
                        "Html": {"Data": email.html, "Charset": "UTF-8"},
                    },
                }
            },
        )
        return str(response["MessageId"])
