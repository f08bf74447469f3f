"""The edge the email domain needs; SES implements it in adapters/, unit tests fake it."""

from __future__ import annotations

from typing import Protocol

from email_service.domain.model import Email


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Send the email; return the provider's message id. Raise when not accepted."""
