"""The edges the invoice domain needs; S3 and SNS implement them, tests use fakes."""

from __future__ import annotations

from typing import Any, Protocol

from events.models import Event


class InvoiceStore(Protocol):
    def put_html(self, key: str, html: str) -> None:
        """Store the rendered invoice under `key`, replacing what is there."""


class Publisher(Protocol):
    def publish(self, event: Event[Any]) -> str: ...
