"""The edge the invoice domain needs besides the topic (events.publisher.Publisher): S3
implements it, tests use fakes."""

from __future__ import annotations

from typing import Protocol


class InvoiceStore(Protocol):
    def put_html(self, key: str, html: str) -> None:
        """Store the invoice as HTML under `key`, replacing what is there."""

    def put_pdf(self, key: str, pdf: bytes) -> None:
        """Store the invoice as PDF under `key`, replacing what is there."""

    def download_link(self, key: str, expires_in: int) -> str:
        """A link that lets whoever holds it download the object at `key` for the next
        `expires_in` seconds, and no longer (a pre-signed GET URL)."""
