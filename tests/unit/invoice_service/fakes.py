"""In-memory stand-ins for the invoice service's edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.models import Event


@dataclass
class InMemoryInvoiceStore:
    objects: dict[str, str | bytes] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    links: list[tuple[str, int]] = field(default_factory=list)  # (key, expires_in) per link made

    def put_html(self, key: str, html: str) -> None:
        self.objects[key] = html
        self.writes.append(key)

    def put_pdf(self, key: str, pdf: bytes) -> None:
        self.objects[key] = pdf
        self.writes.append(key)

    def download_link(self, key: str, expires_in: int) -> str:
        # Like a pre-signed URL: the key, the lifetime, and a signature that differs every time.
        self.links.append((key, expires_in))
        return f"https://invoices.example/{key}?X-Amz-Expires={expires_in}&X-Amz-Signature=sig{len(self.links)}"


@dataclass
class RecordingPublisher:
    events: list[Event[Any]] = field(default_factory=list)
    fail_next: int = 0  # how many of the next publishes raise, as a throttled SNS would

    def publish(self, event: Event[Any]) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("sns unavailable")
        self.events.append(event)
        return f"msg-{len(self.events)}"
