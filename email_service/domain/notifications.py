"""Telling the customer what happened to their order."""

from __future__ import annotations

from typing import Any

from email_service.domain.ports import Mailer
from email_service.domain.rendering import render_email
from events.models import Event


def notify_customer(event: Event[Any], mailer: Mailer) -> str:
    """Send the customer the one email `event` calls for; return its message id."""
    return mailer.send(render_email(event))
